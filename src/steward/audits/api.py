"""Audit API: schedule, commissioning, report, publication, feedback, examination."""

from __future__ import annotations

from steward.accounts.principal import Principal
from steward.audits import repository, service
from steward.audits.models import PeriodicAudit
from steward.audits.schemas import (
    AuditOut,
    CommissionIn,
    CycleOut,
    DocumentOut,
    ExamineIn,
    FeedbackIn,
    FeedbackOut,
    FindingOut,
    PublishIn,
    ReportIn,
)
from steward.authz import Permission
from steward.governance.schemas import PathId
from steward.web import CurrentPrincipal, DbSession, Router, base64_upload, require

router = Router(prefix="/api/v1/audits", tags=["audits"])


def audit_out(a: PeriodicAudit, principal: Principal) -> AuditOut:
    visible = service.can_see_report(principal, a)
    return AuditOut(
        id=a.id,
        cycle=a.cycle,
        due_on=a.due_on,
        firm=a.firm.name,
        declaration=a.declaration,
        commissioned_on=a.commissioned_on,
        motion_id=a.motion_id,
        stage=a.stage,
        report=a.report if visible else None,
        findings=[FindingOut(title=f.title, text=f.text, severity=f.severity) for f in a.findings]
        if visible
        else [],
        report_document=DocumentOut(
            filename=a.report_filename or "report",
            size=a.report_size or 0,
            sha256=a.report_sha256,
            url=f"/audits/{a.id}/report-document",
        )
        if visible and a.report_sha256
        else None,
        published_on=a.published_on,
        feedback_closes=a.feedback_closes,
        feedback=[
            FeedbackOut(author_name=f.author_name, text=f.text, created_at=f.created_at)
            for f in a.feedback
        ],
        examination=a.examination,
        refine=a.refine,
        catalogue_version=a.catalogue_version,
    )


@router.get("/schedule", response_model=list[CycleOut])
def schedule(db: DbSession) -> list[CycleOut]:
    """Audit cycles every three years from the transition date; overdue ones flagged (R-AUD-1)."""
    return [
        CycleOut(
            number=c.number,
            due=c.due,
            status=c.status.value,
            overdue=c.overdue,
            record_id=c.record_id,
        )
        for c in service.schedule(db, service.today_utc())
    ]


@router.get("", response_model=list[AuditOut])
def audits(db: DbSession, principal: CurrentPrincipal) -> list[AuditOut]:
    return [audit_out(a, principal) for a in repository.audits(db)]


@router.get("/{audit_id}", response_model=AuditOut)
def audit(audit_id: PathId, db: DbSession, principal: CurrentPrincipal) -> AuditOut:
    return audit_out(service.get(db, audit_id), principal)


@router.post("", response_model=AuditOut, status_code=201)
def commission(
    body: CommissionIn,
    db: DbSession,
    principal: Principal = require(Permission.PERIODIC_AUDIT_MANAGE),
) -> AuditOut:
    return audit_out(service.commission(db, principal, **body.model_dump()), principal)


@router.post("/{audit_id}/report", response_model=AuditOut)
def report(
    audit_id: PathId,
    body: ReportIn,
    db: DbSession,
    principal: Principal = require(Permission.PERIODIC_AUDIT_REPORT),
) -> AuditOut:
    findings = [service.FindingInput(f.title, f.text, f.severity) for f in body.findings]
    document = None
    if body.document is not None:
        d = body.document
        document = service.ReportDocument(d.filename, d.content_type,
                                          base64_upload(d.content_base64, f"the report document ({d.filename})", "document"),
                                          field="document")
    return audit_out(
        service.submit_report(db, principal, audit_id, body.report, findings, document=document), principal
    )


@router.post("/{audit_id}/publish", response_model=AuditOut)
def publish(
    audit_id: PathId,
    body: PublishIn,
    db: DbSession,
    principal: Principal = require(Permission.PERIODIC_AUDIT_MANAGE),
) -> AuditOut:
    return audit_out(service.publish(db, principal, audit_id, body.feedback_closes), principal)


@router.post("/{audit_id}/feedback", response_model=FeedbackOut, status_code=201)
def feedback(
    audit_id: PathId, body: FeedbackIn, db: DbSession, principal: CurrentPrincipal
) -> FeedbackOut:
    """Community feedback while the period is open (anyone, signed in or not)."""
    fb = service.add_feedback(db, principal, audit_id, body.author_name, body.text)
    return FeedbackOut(author_name=fb.author_name, text=fb.text, created_at=fb.created_at)


@router.post("/{audit_id}/examination", response_model=AuditOut)
def examine(
    audit_id: PathId,
    body: ExamineIn,
    db: DbSession,
    principal: Principal = require(Permission.PERIODIC_AUDIT_MANAGE),
) -> AuditOut:
    return audit_out(
        service.examine(
            db,
            principal,
            audit_id,
            body.examination,
            body.refine,
            catalogue_toml=body.catalogue_toml,
        ),
        principal,
    )
