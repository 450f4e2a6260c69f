"""Use cases of the periodic audit (R-AUD-1, R-AUD-2).

Each DUG step goes through a DUG decision (``steward.governance``): commissioning needs a
passed ``commission_audit`` motion on the cycle (subject ``audit_cycle``/<n>), publishing
a passed ``publish_findings`` motion on the audit, and refining the service levels a
passed ``refine_service_levels`` motion on the audit, which loads a new SLA catalogue
version (``steward.sla``) citing the audit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.accounts.models import User
from steward.accounts.principal import Principal
from steward.audits import repository as repo
from steward.audits.domain import (
    STAGE_LABELS,
    AuditError,
    AuditFacts,
    Declaration,
    Stage,
    audit_schedule,
    check_examine,
    check_independence,
    check_publish,
    check_submit_report,
    feedback_open,
)
from steward.audits.models import PeriodicAudit, PeriodicAuditFeedback, PeriodicAuditFinding
from steward.authz import Permission
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import record_event, record_publication
from steward.governance import service as governance
from steward.governance.domain import MotionKind
from steward.outbox import enqueue_email
from steward.registry import repository as registry_repository
from steward.registry.models import Organisation
from steward.reviews.domain import Cycle, next_cycle, reminders_due

SEVERITIES = ("observation", "minor", "major", "critical")


def _invalid(err: AuditError) -> Invalid:
    return Invalid(err.message, field=err.field)


def today_utc() -> date:
    return utcnow().date()


def facts(audit: PeriodicAudit) -> AuditFacts:
    return AuditFacts(Stage(audit.stage), audit.report, len(audit.findings), audit.feedback_closes)


def schedule(session: Session, today: date) -> list[Cycle]:
    """The audit cycles: every N years from the transition date (R-AUD-1)."""
    s = get_settings()
    started = {a.cycle: (a.id, a.stage == Stage.examined.value) for a in repo.audits(session)}
    return audit_schedule(s.transition_date, today, started, s.audit_interval_years)


def get(session: Session, audit_id: int) -> PeriodicAudit:
    audit = repo.audit(session, audit_id)
    if audit is None:
        raise NotFound("No such audit.")
    return audit


def commission(
    session: Session,
    actor: Principal,
    *,
    firm_id: int,
    declaration: str,
    affiliated_organisation_ids: Iterable[int] = (),
    scope: str = "",
    today: date | None = None,
) -> PeriodicAudit:
    """The DUG commissions an independent firm for the next cycle (R-AUD-1)."""
    actor.require(Permission.PERIODIC_AUDIT_MANAGE)
    today = today or today_utc()
    nxt = next_cycle(schedule(session, today))
    if nxt is None:
        raise Conflict("Every scheduled audit has been commissioned.")
    motion = governance.require_decision(
        session, MotionKind.commission_audit, "audit_cycle", nxt.number
    )
    firm = session.get(Organisation, firm_id)
    if firm is None:
        raise Invalid("No such organisation.", field="firm_id")
    decl = Declaration(declaration, frozenset(affiliated_organisation_ids))
    try:
        check_independence(
            firm.id, firm.kind, decl, registry_repository.ifm_organisation_ids(session), firm.affiliated_with_ifm
        )
    except AuditError as err:
        raise _invalid(err) from None
    audit = PeriodicAudit(
        cycle=nxt.number,
        due_on=nxt.due,
        firm_id=firm.id,
        scope=scope.strip(),
        declaration=declaration.strip(),
        declared_on=today,
        motion_id=motion.id,
        commissioned_on=today,
        stage=Stage.commissioned.value,
    )
    try:
        with session.begin_nested():
            repo.add(session, audit)
    except IntegrityError:
        raise Conflict(f"Audit {nxt.number} was commissioned by someone else; reload.") from None
    record_event(
        session,
        "audit:commissioned",
        actor=actor,
        subject_type="audit",
        subject_id=audit.id,
        data={"cycle": audit.cycle, "firm": firm.name, "motion": motion.id},
        public=True,
    )
    return audit


@dataclass(frozen=True)
class ReportDocument:
    filename: str
    content_type: str | None
    data: bytes
    field: str = "report_file"  # the input it came in, which an error names: the page's; the API's "document"


def _safe_filename(name: str) -> str:
    """The base name only, without path separators or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"\r\n')
    return cleaned.strip()[:200] or "report"


REPORT_TYPES = ("application/pdf", "text/plain", "text/markdown")


def _check_report_type(document: ReportDocument) -> None:
    """Only a PDF or UTF-8 text, and the bytes must be what the declared type says."""
    ctype = (document.content_type or "").split(";", 1)[0].strip().lower()
    if ctype not in REPORT_TYPES:
        raise Invalid(
            f"The report document must be a PDF or plain text ({', '.join(REPORT_TYPES)}), "
            f"not {ctype or 'an unknown type'}.",
            field=document.field,
        )
    if ctype == "application/pdf":
        matches = document.data.startswith(b"%PDF-")
    else:
        try:
            document.data.decode("utf-8")
            matches = b"\x00" not in document.data
        except UnicodeDecodeError:
            matches = False
    if not matches:
        raise Invalid(f"The report document is not {ctype}.", field=document.field)


@dataclass(frozen=True)
class FindingInput:
    title: str
    text: str = ""
    severity: str = "observation"


def submit_report(
    session: Session,
    actor: Principal,
    audit_id: int,
    report: str,
    findings: list[FindingInput],
    today: date | None = None,
    document: ReportDocument | None = None,
) -> PeriodicAudit:
    """The commissioned firm's auditor uploads the report, its findings and optionally the
    report document (size-limited; its SHA-256 is kept and published)."""
    actor.require(Permission.PERIODIC_AUDIT_REPORT)
    audit = get(session, audit_id)
    if actor.organisation_id != audit.firm_id:
        raise Forbidden("Only an auditor of the commissioned firm submits its report.")
    for i, f in enumerate(findings, start=1):
        if not f.title.strip():
            raise Invalid(f"Finding {i} needs a title.", field="findings", line=i)
        if f.severity not in SEVERITIES:
            raise Invalid(
                f"Finding {i}: severity must be one of {', '.join(SEVERITIES)}.",
                field="findings",
                line=i,
            )
    try:
        check_submit_report(facts(audit), report, len(findings))
    except AuditError as err:
        raise _invalid(err) from None
    if document is not None:
        limit = get_settings().upload_max_bytes
        if not document.filename.strip():
            raise Invalid("The uploaded report has no file name.", field=document.field)
        if len(document.data) > limit:
            raise Invalid(
                f"The report document is larger than {limit // 1024} KiB.", field=document.field
            )
        _check_report_type(document)
        audit.report_filename = _safe_filename(document.filename)
        audit.report_content_type = (document.content_type or "application/octet-stream")[:100]
        audit.report_size = len(document.data)
        audit.report_sha256 = hashlib.sha256(document.data).hexdigest()
        audit.report_file = document.data
    audit.report = report.strip()
    audit.submitted_at = governance.moment(today)
    audit.stage = Stage.report_submitted.value
    for f in findings:
        audit.findings.append(
            PeriodicAuditFinding(title=f.title.strip(), text=f.text.strip(), severity=f.severity)
        )
    session.flush()
    record_event(
        session,
        "audit:report_submitted",
        actor=actor,
        subject_type="audit",
        subject_id=audit.id,
        data={"findings": len(findings), "document_sha256": audit.report_sha256},
    )
    return audit


def publish(
    session: Session,
    actor: Principal,
    audit_id: int,
    feedback_closes: date,
    today: date | None = None,
) -> PeriodicAudit:
    """The DUG publishes the results and opens community feedback (R-AUD-2)."""
    actor.require(Permission.PERIODIC_AUDIT_MANAGE)
    today = today or today_utc()
    audit = get(session, audit_id)
    try:
        check_publish(facts(audit), feedback_closes, today)
    except AuditError as err:
        raise _invalid(err) from None
    motion = governance.require_decision(session, MotionKind.publish_findings, "audit", audit.id)
    audit.stage = Stage.published.value
    audit.published_on = today
    audit.feedback_closes = feedback_closes
    session.flush()
    record_event(
        session,
        "audit:published",
        actor=actor,
        subject_type="audit",
        subject_id=audit.id,
        data={"motion": motion.id, "feedback_closes": feedback_closes.isoformat()},
        public=True,
    )
    record_publication(
        session,
        "audit_report",
        f"Independent audit {audit.cycle} ({audit.firm.name}): results for community feedback",
        f"/audits/{audit.id}",
        {
            "cycle": audit.cycle,
            "firm": audit.firm.name,
            "report": audit.report,
            "findings": [
                {"title": f.title, "text": f.text, "severity": f.severity} for f in audit.findings
            ],
            "feedback_closes": feedback_closes.isoformat(),
            "document": (
                {"filename": audit.report_filename, "sha256": audit.report_sha256}
                if audit.report_sha256
                else None
            ),
        },
        actor=actor,
        summary=f"{len(audit.findings)} finding(s); feedback until {feedback_closes.isoformat()}",
    )
    from steward.reviews import service as reviews  # results inform the IPRT review running now

    reviews.link_published_audit(session, actor, audit.id)
    return audit


def add_feedback(
    session: Session,
    principal: Principal,
    audit_id: int,
    author_name: str,
    text: str,
    today: date | None = None,
) -> PeriodicAuditFeedback:
    """Anyone may comment while the feedback period is open (R-AUD-2)."""
    today = today or today_utc()
    audit = get(session, audit_id)
    if not feedback_open(facts(audit), today):
        raise Conflict("The community feedback period is not open.")
    name = author_name.strip() or (principal.user.name if principal.user else "")
    if not name:
        raise Invalid("Give your name.", field="author_name")
    if not text.strip():
        raise Invalid("The comment is empty.", field="text")
    if len(text) > 10_000:
        raise Invalid("Keep the comment under 10,000 characters.", field="text")
    fb = PeriodicAuditFeedback(
        created_at=governance.moment(today),
        audit_id=audit.id,
        author_name=name[:200],
        user_id=principal.user_id,
        text=text.strip(),
    )
    audit.feedback.append(fb)
    session.flush()
    record_event(
        session,
        "audit:feedback",
        actor=principal,
        subject_type="audit",
        subject_id=audit.id,
        data={"author": fb.author_name},
        public=True,
    )
    return fb


def catalogue_template(session: Session, audit: PeriodicAudit, today: date) -> str:
    """The catalogue in force as TOML, relabelled for the refinement, to edit on the page."""
    from steward.sla import domain as sla_domain
    from steward.sla import service as sla

    versions = sla.catalogue_versions(session)
    current = max(versions, key=lambda v: v.effective)
    draft = sla_domain.CatalogueVersion(
        f"audit-{audit.cycle}",
        max(today, current.effective),
        current.metrics,
        _cause(audit, None),
        current.description,
    )
    return sla_domain.dump_catalogue_toml(draft)


def _cause(audit: PeriodicAudit, motion_id: int | None) -> str:
    decided = f"; DUG decision #{motion_id}" if motion_id is not None else ""
    return f"Refined after independent audit {audit.cycle} (/audits/{audit.id}){decided} (R-AUD-2)"


def examine(
    session: Session,
    actor: Principal,
    audit_id: int,
    examination: str,
    refine: bool = False,
    today: date | None = None,
    catalogue_toml: str = "",
) -> PeriodicAudit:
    """The DUG records its examination (R-AUD-2).

    With ``refine`` it needs a passed ``refine_service_levels`` decision on the audit and the
    refined catalogue (TOML, the format of ``steward.sla``): a new SLA catalogue version is
    loaded whose cause cites the audit and the decision, and the audit records its label.
    Nothing changes if any of that is refused.
    """
    actor.require(Permission.PERIODIC_AUDIT_MANAGE)
    today = today or today_utc()
    audit = get(session, audit_id)
    try:
        check_examine(facts(audit), examination, today)
    except AuditError as err:
        raise _invalid(err) from None
    data: dict[str, Any] = {"refine": refine}
    if refine:
        motion = governance.require_decision(
            session, MotionKind.refine_service_levels, "audit", audit.id
        )
        if not catalogue_toml.strip():
            raise Invalid(
                "Give the refined SLA catalogue version (TOML) to refine the service levels.",
                field="catalogue_toml",
            )
        from steward.sla import service as sla

        version = sla.load_catalogue(session, actor, catalogue_toml, cause=_cause(audit, motion.id))
        audit.catalogue_version = version.version
        data.update(motion=motion.id, catalogue_version=version.version)
    audit.examination = examination.strip()
    audit.refine = refine
    audit.examined_on = today
    audit.stage = Stage.examined.value
    session.flush()
    record_event(
        session,
        "audit:examined",
        actor=actor,
        subject_type="audit",
        subject_id=audit.id,
        data=data,
        public=True,
    )
    record_publication(
        session,
        "audit_examination",
        f"DUG examination of independent audit {audit.cycle}",
        f"/audits/{audit.id}",
        {"examination": audit.examination, **data},
        actor=actor,
    )
    return audit


def stage_label(audit: PeriodicAudit) -> str:
    return STAGE_LABELS[Stage(audit.stage)]


def remind_next_audit(session: Session, now: datetime) -> str:
    """Periodic task: tell the DUG chair when an audit is due soon or overdue (idempotent)."""
    today = now.date()
    due = reminders_due(schedule(session, today), today, get_settings().governance_reminder_days)
    chairs = [m for m in governance.roster_status(session, today).serving if m.is_chair]
    queued = 0
    for cycle in due:
        for chair in chairs:
            user = session.get(User, chair.user_id)
            if user is None or not user.active:
                continue
            state = "is overdue" if cycle.overdue else "is due"
            if enqueue_email(
                session,
                user.email,
                f"[DUG] Independent audit {cycle.number} {state} ({cycle.due.isoformat()})",
                f"Independent audit {cycle.number} {state} on {cycle.due.isoformat()} (R-AUD-1).\n"
                f"{get_settings().base_url}/audits\n",
                key=f"audit-due:{cycle.number}:{cycle.status.value}:{user.id}",
            ):
                queued += 1
    return f"{queued} audit reminder(s) queued"


def can_see_report(principal: Principal, audit: PeriodicAudit) -> bool:
    """Before publication the report is seen only by the DUG and the firm's auditors."""
    if audit.published_on is not None:
        return True
    if principal.has(Permission.PERIODIC_AUDIT_MANAGE):
        return True
    return (
        principal.has(Permission.PERIODIC_AUDIT_REPORT)
        and principal.organisation_id == audit.firm_id
    )
