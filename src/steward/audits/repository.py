"""Every query of the audits context. Audits are public records: no access scoping needed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audits.models import Audit, AuditFinding, Feedback
from steward.registry.models import Organisation


def audits(session: Session) -> list[Audit]:
    return list(session.scalars(select(Audit).order_by(Audit.cycle.desc())).unique())


def audit(session: Session, audit_id: int) -> Audit | None:
    return session.get(Audit, audit_id)


def audit_for_cycle(session: Session, cycle: int) -> Audit | None:
    return session.scalar(select(Audit).where(Audit.cycle == cycle))


def ifm_organisation_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Organisation.id).where(Organisation.kind == "ifm")))


def audit_firms(session: Session) -> list[Organisation]:
    stmt = select(Organisation).where(Organisation.kind == "audit_firm").order_by(Organisation.name)
    return list(session.scalars(stmt))


def published_audits(session: Session) -> list[Audit]:
    stmt = select(Audit).where(Audit.published_on.is_not(None)).order_by(Audit.published_on.desc())
    return list(session.scalars(stmt).unique())


def add(session: Session, row: Audit | AuditFinding | Feedback) -> None:
    session.add(row)
    session.flush()
