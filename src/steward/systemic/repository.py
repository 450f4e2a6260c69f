"""Every query of the systemic context.

Reads shown to people start from :func:`readable_signals` or :func:`readable_reviews`, which apply
who may see what: signals are for the DUG; urgent reviews for the DUG (less the members recused:
their organisation is a party, the operator concerned or the IFM, R-DUG-3) and the IFM, and for the
appointed experts, and the mediator and IAP panelists engaged on it by name. Detection also reads other contexts'
published or DUG-visible figures (lodging moments of disputes, published SLA reports, audit
findings) — ids and numbers only, never a dispute's confidential content.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true, update
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.events import AuditEvent
from steward.registry.models import Organisation
from steward.systemic.domain import REVIEW_SUBJECT, Stage
from steward.systemic.models import Expert, Milestone, Participant, Review, Signal


def readable_signals(principal: Principal) -> Select[Signal]:
    """Signals are the DUG's, less a member employed by the IFM, whose possible failure each one
    is (R-DUG-3)."""
    if principal.has(Permission.SYSTEMIC_READ):
        org = principal.organisation_id
        return select(Signal) if org is None else select(Signal).where(_not_ifm(org))
    return select(Signal).where(false())


def _not_ifm(org: int) -> ColumnElement[bool]:
    return ~exists().where(Organisation.id == org, Organisation.kind == "ifm")


def readable_reviews(principal: Principal) -> Select[Review]:
    stmt = select(Review)
    if principal.has(Permission.SYSTEMIC_ENGAGE):
        return stmt
    conditions: list[ColumnElement[bool]] = []
    if principal.has(Permission.SYSTEMIC_READ):
        # the DUG, less a member whose organisation is a party: the operator concerned, or the IFM
        # whose failure every review is about (R-DUG-3)
        org = principal.organisation_id
        conditions.append(true() if org is None else and_(
            or_(Review.operator_org_id.is_(None), Review.operator_org_id != org), _not_ifm(org)))
    if principal.has(Permission.SYSTEMIC_ADVISE) and principal.user_id is not None:
        conditions.append(Review.id.in_(select(Expert.review_id).where(Expert.user_id == principal.user_id)))
    if principal.has(Permission.SYSTEMIC_MEDIATE) and principal.user_id is not None:
        conditions.append(Review.id.in_(_engaged_on(principal.user_id, "mediator")))
    if principal.has(Permission.SYSTEMIC_ADJUDICATE) and principal.user_id is not None:
        conditions.append(Review.id.in_(_engaged_on(principal.user_id, "panelist")))
    return stmt.where(or_(*conditions)) if conditions else stmt.where(false())


def _engaged_on(user_id: int, role: str) -> Select[int]:
    return select(Participant.review_id).where(Participant.user_id == user_id, Participant.role == role)


def signals(session: Session, principal: Principal, state: str | None = None) -> list[Signal]:
    stmt = readable_signals(principal)
    if state:
        stmt = stmt.where(Signal.state == state)
    return list(session.scalars(stmt.order_by(Signal.detected_at.desc(), Signal.id.desc())))


def signal(session: Session, principal: Principal, signal_id: int) -> Signal | None:
    return session.scalar(readable_signals(principal).where(Signal.id == signal_id))


def signal_keys(session: Session) -> set[str]:
    return set(session.scalars(select(Signal.key)))


def reviews(session: Session, principal: Principal) -> list[Review]:
    return list(session.scalars(readable_reviews(principal).order_by(Review.id.desc())))


def review(session: Session, principal: Principal, review_id: int) -> Review | None:
    return session.scalar(readable_reviews(principal).where(Review.id == review_id))


def review_by_id(session: Session, review_id: int) -> Review | None:
    """Unscoped: for other contexts' eligibility checks (no content is shown from it)."""
    return session.get(Review, review_id)


def readable_review_for_signal(session: Session, principal: Principal, signal_id: int) -> Review | None:
    """The review a signal led to, if the viewer may read it (a recused member may not)."""
    return session.scalar(readable_reviews(principal).where(Review.signal_id == signal_id))


def compare_and_set(session: Session, row: Review, expected_version: int, **values: Any) -> bool:
    """Change a review only if its version is still the one the caller read (nobody changed it)."""
    result = session.execute(
        update(Review)
        .where(Review.id == row.id, Review.version == expected_version)
        .values(version=expected_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0)) != 1:
        return False
    session.refresh(row)
    return True


def signal_compare_and_set(session: Session, row: Signal, **values: Any) -> bool:
    result = session.execute(
        update(Signal)
        .where(Signal.id == row.id, Signal.version == row.version)
        .values(version=row.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0)) != 1:
        return False
    session.refresh(row)
    return True


def timeline(session: Session, review_id: int) -> list[AuditEvent]:
    stmt = (select(AuditEvent)
            .where(AuditEvent.subject_type == REVIEW_SUBJECT, AuditEvent.subject_id == str(review_id))
            .order_by(AuditEvent.id))
    return list(session.scalars(stmt))


def overdue_items(session: Session, today: date) -> list[Milestone]:
    stmt = (select(Milestone)
            .join(Review, Review.id == Milestone.review_id)
            .where(Milestone.done_on.is_(None), Milestone.due < today, Milestone.reminded.is_(False),
                   Review.stage != Stage.CLOSED.value))
    return list(session.scalars(stmt))


# ----------------------------------------------------------------------------- detection inputs


def lodged_disputes(session: Session) -> list[tuple[int, datetime]]:
    """(id, lodged_at) of every dispute lodged with the DUG (R-DSP-3), but for a complaint
    refused at the door as outside the service levels (R-DSP-1: delegation, policy; closed the
    moment it was lodged): it is no sign of a breach of them (R-SYS-1). A complaint the DUG
    refuses later stays counted: it was counted while open, and dropping it would move the
    episodes already signalled (keyed by the dispute that took a window over its threshold)."""
    from steward.disputes.domain import Stage
    from steward.disputes.models import DisputeCase

    refused_at_the_door = and_(DisputeCase.stage == Stage.REFUSED.value,
                               DisputeCase.closed_at == DisputeCase.lodged_at)
    rows = session.execute(select(DisputeCase.id, DisputeCase.lodged_at).where(
        DisputeCase.lodged_at.is_not(None), ~refused_at_the_door))
    return [(i, at) for i, at in rows if at is not None]


def sla_month_results(session: Session) -> list[tuple[str, str, float | None, float]]:
    """(metric id, month YYYY-MM, compliance, target) from every published monthly report."""
    from steward.sla import repository as sla_repository

    found = []
    for report in sla_repository.published_reports(session):
        for m in report.content.get("metrics", []):
            compliance = m.get("compliance")
            found.append((str(m["id"]), report.month,
                          None if compliance is None else float(compliance), float(m["target"])))
    return found


def audit_findings(session: Session) -> list[tuple[int, int, str, datetime, str]]:
    """(finding id, audit id, title, report submitted at, severity) of every submitted report."""
    from steward.audits.models import Audit, AuditFinding

    rows = session.execute(
        select(AuditFinding.id, AuditFinding.audit_id, AuditFinding.title, Audit.submitted_at,
               AuditFinding.severity)
        .join(Audit, Audit.id == AuditFinding.audit_id)
        .where(Audit.submitted_at.is_not(None))
    )
    return [(f, a, t, at, sev) for f, a, t, at, sev in rows if at is not None]


def reviews_with_finding(session: Session) -> list[Review]:
    """Reviews the IAP decided, newest first: their findings are public (R-SYS-2, as R-DSP-6)."""
    return list(session.scalars(select(Review).where(Review.iap_finding.is_not(None)).order_by(Review.id.desc())))
