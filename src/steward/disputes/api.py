"""Disputes API: lodge, read, act on every rung of the ladder, disclose, published findings."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.accounts.schemas import PersonOut
from steward.db import new_session, utcnow
from steward.disputes import domain, repository, service
from steward.disputes.models import DisputeCase
from steward.disputes.schemas import (
    ActionIn,
    AttachmentOut,
    CaseOut,
    CaseSummary,
    ComplaintIn,
    DayOut,
    DeadlineOut,
    DocumentOut,
    FindingOut,
    RemedialActionOut,
    SealedEntryOut,
    TimelineOut,
)
from steward.errors import Invalid, SavedButUnanswered, Unauthenticated
from steward.web import CurrentPrincipal, DbSession, Router, base64_upload

log = logging.getLogger(__name__)

router = Router(prefix="/api/v1/disputes", tags=["disputes"])

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AttachmentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def summary(db: DbSession, row: DisputeCase, now: datetime, names: dict[int, str]) -> CaseSummary:
    case = service.to_domain(row)
    return CaseSummary(
        id=row.id, reference=row.reference, title=row.title, stage=row.stage,
        stage_label=domain.Stage(row.stage).label,
        complainant=names.get(row.complainant_org_id, "?"), tlds=list(row.tlds),
        lodged_at=row.lodged_at, next_due_at=row.next_due_at,
        overdue=sorted(k.value for k in domain.overdue(case, now)), version=row.version,
    )


def case_out(db: Session, principal: Principal, row: DisputeCase) -> CaseOut:
    now = utcnow()
    facts = service.case_facts(db, principal, row, now)
    case = facts["case"]
    base = summary(db, row, now, {row.complainant_org_id: facts["complainant"]})
    return CaseOut(
        **base.model_dump(),
        subject=row.subject, service_levels=list(row.service_levels),
        what_happened=row.what_happened, negotiation=row.negotiation,
        opened_at=row.opened_at, closed_at=row.closed_at, archived=case.archived,
        your_relations=facts["relations"],
        available_actions=[a.value for a in facts["actions"]],
        deadlines=[
            DeadlineOut(
                kind=d["kind"], running=d["running"], calendar=d["proof"].calendar,
                timezone=d["proof"].timezone, start=d["proof"].start,
                working_days=d["proof"].working_days, due=d["proof"].due,
                counted=[DayOut(date=day, reason=f"working day {i}")
                         for i, day in enumerate(d["proof"].counted, start=1)],
                skipped=[DayOut(date=s.day, reason=s.reason) for s in d["proof"].skipped],
            )
            for d in facts["deadlines"]
        ],
        remedy_due=row.remedy_due, bound_agreement_at=row.bound_agreement_at,
        refusal=(
            {"rule": case.refusal.rule, "ground": case.refusal.ground.value, "reason": case.refusal.reason}
            if case.refusal else None
        ),
        withdrawal_reason=row.withdrawal_reason,
        mediators=[PersonOut(id=u.id, name=u.name) for u in facts["mediators"]],
        panelists=[PersonOut(id=u.id, name=u.name) for u in facts["panelists"]],
        remedial_actions=[
            RemedialActionOut(index=a.position, description=a.description,
                              completed_at=a.completed_at, completion_note=a.completion_note)
            for a in row.remedial_actions
        ],
        disclosure_consents=facts["consents"], disclosed=facts["disclosed"],
        eligible_for_further_escalation=facts["eligible_for_further_escalation"],
        documents=[
            DocumentOut(
                id=d.id, kind=d.kind, body=d.body, author=d.author_label, created_at=d.created_at,
                attachments=[
                    AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type,
                                  size=a.size, sha256=a.sha256,
                                  url=f"/api/v1/disputes/{row.id}/attachments/{a.id}")
                    for a in d.attachments
                ],
            )
            for d in facts["documents"]
        ],
        timeline=[
            TimelineOut(at=t.at, actor=t.actor_label, tag=t.tag, action=t.action,
                        from_stage=t.from_stage, to_stage=t.to_stage, note=t.note)
            for t in facts["timeline"]
        ],
    )


@router.get("", response_model=list[CaseSummary])
def list_cases(
    db: DbSession, principal: CurrentPrincipal,
    stage: str | None = Query(None, description="Only cases at this stage"),
    open: bool = Query(False, description="Only open cases"),
    q: str = Query("", max_length=100, description="Search title or reference"),
) -> list[CaseSummary]:
    """Cases you may see (R-DSP-7): everyone else's are simply not there."""
    stages = None
    if stage:
        try:
            stages = [domain.Stage(stage)]
        except ValueError:
            raise Invalid(f"unknown stage '{stage}'", field="stage") from None
    rows = repository.readable_cases(db, principal, stages=stages, open_only=open, query=q.strip())
    names = repository.organisation_names(db, sorted({r.complainant_org_id for r in rows}))
    now = utcnow()
    return [summary(db, r, now, names) for r in rows]


@router.post("", response_model=CaseOut, status_code=201)
def lodge(body: ComplaintIn, db: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """Lodge a complaint with the DUG, or open direct negotiation (``negotiate_first``)."""
    if principal.is_anonymous:
        raise Unauthenticated()
    row = service.open_case(db, principal, _form(body), negotiate_first=body.negotiate_first)
    return _answer(db, principal, row)


@router.get("/findings", response_model=list[FindingOut])
def findings(db: DbSession) -> list[FindingOut]:
    """Every IAP finding, public (R-DSP-6): the parties, the TLDs, the finding — not the file."""
    return [FindingOut(**f) for f in service.published_findings(db)]


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case_id: CaseId, db: DbSession, principal: CurrentPrincipal) -> CaseOut:
    return case_out(db, principal, service.get_case(db, principal, case_id))


@router.get("/{case_id}/archive", response_model=list[SealedEntryOut])
def archive_entries(case_id: CaseId, db: DbSession, principal: CurrentPrincipal) -> list[SealedEntryOut]:
    """For the parties: the sealed archive entries of their own steps (of every step once both
    consented to disclosure, R-DSP-7), opened (salt and content), to prove to anyone that a record
    existed unaltered at its date (R-DSP-9; check one with ``POST /api/v1/archive/entries/{seq}/reveal``)."""
    return [SealedEntryOut(**e) for e in service.archive_reveals(db, principal, case_id)]


@router.post("/{case_id}/actions/{action}", response_model=CaseOut)
def act(case_id: CaseId, action: str, body: ActionIn, db: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """Take ``action`` (see ``available_actions`` on the case). 409 if the case moved on meanwhile."""
    uploads = []
    for i, a in enumerate(body.attachments):
        data = base64_upload(a.content_base64, f"attachment {i + 1} ({a.filename})", "attachments")
        uploads.append(service.Upload(a.filename, a.content_type, data, "attachments"))
    req = service.ActionRequest(
        action=action, version=body.version, text=body.text, refusal_ground=body.refusal_ground,
        mediator_ids=body.mediator_ids, panelist_ids=body.panelist_ids,
        remedial_action_index=body.remedial_action_index,
        complaint=_form(body.complaint) if body.complaint else None, uploads=uploads,
    )
    row = service.act(db, principal, case_id, req)
    return _answer(db, principal, row)


@router.post("/{case_id}/disclosure", response_model=CaseOut)
def disclose(case_id: CaseId, db: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """Record your party's consent to disclosure; with both parties' consent the case is public."""
    row = service.consent_to_disclosure(db, principal, case_id)
    return _answer(db, principal, row)


def _answer(db: Session, principal: Principal, row: DisputeCase) -> CaseOut:
    """A state change's answer, the whole case, built once the change has committed, from a
    read-only session: the write locks (SQLite's; on PostgreSQL the reference number's and the
    archive head's) are not held while the case, its people and file are read and its deadlines'
    proofs laid out."""
    read = repository.facts_read(db)  # the IFM's organisations, the case's consents: not read again
    db.commit()
    try:
        with new_session(read_only=True) as reader:
            repository.assume_facts(reader, read)
            # the row as committed (sessions keep their objects' values at commit), not read again
            return case_out(reader, principal, reader.merge(row, load=False))
    except Exception as exc:  # the change stands: say so, so that nobody sends it twice
        log.exception("dispute %s: committed, but its answer failed", row.id)
        raise SavedButUnanswered(
            f"your change to {row.reference} was saved, but the answer describing it could not be made; "
            f"GET /api/v1/disputes/{row.id} shows the case (do not send the change again)") from exc


@router.get("/{case_id}/attachments/{attachment_id}")
def download(case_id: CaseId, attachment_id: AttachmentId, db: DbSession, principal: CurrentPrincipal) -> Response:
    att = service.attachment(db, principal, case_id, attachment_id)
    return Response(
        att.data, media_type=att.content_type,
        headers={"Content-Disposition": f'attachment; filename="{att.filename}"',
                 "X-Content-SHA256": att.sha256, "X-Content-Type-Options": "nosniff"},
    )


def _form(body: ComplaintIn) -> service.ComplaintForm:
    return service.ComplaintForm(
        title=body.title, tlds=body.tlds, service_levels=body.service_levels, subject=body.subject,
        what_happened=body.what_happened, negotiation=body.negotiation,
    )
