"""Every query of the audits context. Audits are public records: no access scoping needed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audits.models import PeriodicAudit, PeriodicAuditFeedback, PeriodicAuditFinding
from steward.registry.models import Organisation


def audits(session: Session) -> list[PeriodicAudit]:
    return list(
        session.scalars(select(PeriodicAudit).order_by(PeriodicAudit.cycle.desc())).unique()
    )


def audit(session: Session, audit_id: int) -> PeriodicAudit | None:
    return session.get(PeriodicAudit, audit_id)


def audit_for_cycle(session: Session, cycle: int) -> PeriodicAudit | None:
    return session.scalar(select(PeriodicAudit).where(PeriodicAudit.cycle == cycle))


def audit_firms(session: Session) -> list[Organisation]:
    stmt = select(Organisation).where(Organisation.kind == "audit_firm").order_by(Organisation.name)
    return list(session.scalars(stmt))


def published_audits(session: Session) -> list[PeriodicAudit]:
    stmt = (
        select(PeriodicAudit)
        .where(PeriodicAudit.published_on.is_not(None))
        .order_by(PeriodicAudit.published_on.desc())
    )
    return list(session.scalars(stmt).unique())


def add(
    session: Session, row: PeriodicAudit | PeriodicAuditFinding | PeriodicAuditFeedback
) -> None:
    session.add(row)
    session.flush()
