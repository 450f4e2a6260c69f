"""JSON routes of the technical-changes context under ``/api/v1/changes``."""

from __future__ import annotations

from fastapi import Request, status
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.changes import domain, repository, service
from steward.changes.domain import Origin, PlanState
from steward.changes.models import ChangeComment, ChangePlan, ChangePlanVersion
from steward.changes.schemas import (
    CommentIn,
    CommentOut,
    ConfirmIn,
    DiffOut,
    MilestoneOut,
    NoteIn,
    Number,
    PlanId,
    PlanIn,
    PlanOut,
    PublishIn,
    ReasonIn,
    ResponseIn,
    SectionOut,
    StatementIn,
    StatementOut,
    StatementRowOut,
    VersionOut,
    VersionQuery,
)
from steward.errors import NotFound
from steward.web import CurrentPrincipal, DbSession, Router

router = Router(prefix="/api/v1/changes", tags=["changes"])


def version_out(version: ChangePlanVersion) -> VersionOut:
    """Serialise one version with its sections and timeline."""
    return VersionOut(
        number=version.number,
        title=version.title,
        origin=version.origin,
        significance=version.significance,
        affected_all=version.affected_all,
        affected_tlds=list(version.affected_tlds),
        body=version.body,
        sections=[
            SectionOut(anchor=s.anchor, heading=s.heading, body=s.body)
            for s in service.sections_of(version)
        ],
        timeline=[MilestoneOut(on=d, label=label) for d, label in version.timeline],
        note=version.note,
        created_at=version.created_at,
    )


def plan_out(
    session: Session, principal: Principal, plan: ChangePlan, *, with_version: bool = True
) -> PlanOut:
    """Serialise a plan as this principal sees it."""
    state = service.effective_state(plan)
    version = service.shown_version(session, principal, plan.id) if with_version else None
    can_act = principal.has(Permission.CHANGE_PUBLISH) or principal.has(
        Permission.CHANGE_AGREE
    )
    return PlanOut(
        id=plan.id,
        url=service.plan_url(plan.id),
        title=plan.title,
        origin=plan.origin,
        dug_agreement_required=Origin(plan.origin).needs_dug_agreement,
        significance=plan.significance,
        state=state.value,
        state_label=state.label,
        current_version=plan.current_version,
        published_version=plan.published_version,
        comment_opens_at=plan.comment_opens_at,
        comment_closes_at=plan.comment_closes_at,
        statement_issued_at=plan.statement_issued_at,
        agreed_at=plan.agreed_at,
        agreement_basis=plan.agreement_basis,
        agreement_note=plan.agreement_note,
        implemented_at=plan.implemented_at,
        withdrawn_at=plan.withdrawn_at,
        withdrawn_reason=plan.withdrawn_reason,
        actions=[a.value for a in service.available_actions(session, plan)] if can_act else [],
        version=version_out(version) if version is not None else None,
    )


def comment_out(comment: ChangeComment, *, with_answer: bool) -> CommentOut:
    """Serialise a comment; the IFM's answer only once public (or for the IFM)."""
    return CommentOut(
        number=comment.number,
        status=comment.status,
        plan_version=comment.plan_version,
        section=comment.section,
        body=comment.body,
        author=comment.author_name,
        organisation=comment.author_organisation,
        published_at=comment.published_at,
        disposition=comment.disposition if with_answer else None,
        response=comment.response if with_answer else None,
    )


def _answers_visible(principal: Principal, plan: ChangePlan) -> bool:
    issued = PlanState(plan.state) in (
        PlanState.STATEMENT_ISSUED,
        PlanState.AGREED,
        PlanState.IMPLEMENTED,
    ) or plan.statement_issued_at is not None
    return issued or principal.has(Permission.CHANGE_PUBLISH)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("", response_model=list[PlanOut])
def list_plans(db: DbSession, principal: CurrentPrincipal, state: str | None = None) -> list[PlanOut]:
    """Plans you may see (drafts only for the IFM, and operational drafts for the DUG)."""
    return [
        plan_out(db, principal, p, with_version=False)
        for p in service.list_plans(db, principal, state=state)
    ]


@router.post("", response_model=PlanOut, status_code=status.HTTP_201_CREATED)
def create_plan(body: PlanIn, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """Draft a plan (IFM staff) and classify its origin (R-TCH-1)."""
    data = service.PlanInput(**body.model_dump(exclude={"note"}))
    plan = service.create_plan(db, principal, data)
    return plan_out(db, principal, plan)


@router.get("/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """One plan with its latest visible version."""
    return plan_out(db, principal, service.get_plan(db, principal, plan_id))


@router.post("/{plan_id}/versions", response_model=VersionOut, status_code=status.HTTP_201_CREATED)
def revise_plan(plan_id: PlanId, body: PlanIn, db: DbSession, principal: CurrentPrincipal) -> VersionOut:
    """Save a new version of a draft."""
    data = service.PlanInput(**body.model_dump(exclude={"note"}))
    return version_out(service.revise_plan(db, principal, plan_id, data, note=body.note))


@router.get("/{plan_id}/versions", response_model=list[VersionOut])
def list_versions(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> list[VersionOut]:
    """Every version you may see, oldest first."""
    return [version_out(v) for v in service.plan_versions(db, principal, plan_id)]


@router.get("/{plan_id}/versions/{number}", response_model=VersionOut)
def get_version(plan_id: PlanId, number: Number, db: DbSession, principal: CurrentPrincipal) -> VersionOut:
    """One version."""
    return version_out(service.shown_version(db, principal, plan_id, number))


@router.get("/{plan_id}/diff", response_model=DiffOut)
def diff(plan_id: PlanId, old: VersionQuery, new: VersionQuery, db: DbSession, principal: CurrentPrincipal) -> DiffOut:
    """A readable line diff between two versions."""
    result = service.diff(db, principal, plan_id, old, new)
    return DiffOut(
        old_version=result.old_version,
        new_version=result.new_version,
        changed_fields=list(result.changed_fields),
        sections_added=list(result.sections_added),
        sections_removed=list(result.sections_removed),
        sections_changed=list(result.sections_changed),
        unified=result.unified(),
    )


@router.post("/{plan_id}/publish", response_model=PlanOut)
def publish(plan_id: PlanId, body: PublishIn, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """Publish the current version for comment (R-TCH-2)."""
    plan = service.publish_plan(db, principal, plan_id, comment_days=body.comment_days)
    return plan_out(db, principal, plan)


@router.post("/{plan_id}/close", response_model=PlanOut)
def close(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """Close a comment period that has ended."""
    return plan_out(db, principal, service.close_comments(db, principal, plan_id))


@router.get("/{plan_id}/comments", response_model=list[CommentOut])
def list_comments(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> list[CommentOut]:
    """Public comments, with the IFM's answers once the statement is issued."""
    plan = service.get_plan(db, principal, plan_id)
    answers = _answers_visible(principal, plan)
    return [
        comment_out(c, with_answer=answers)
        for c in repository.published_comments(db, plan.id)
    ]


@router.post("/{plan_id}/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED)
def submit_comment(
    plan_id: PlanId, body: CommentIn, request: Request, db: DbSession, principal: CurrentPrincipal
) -> CommentOut:
    """Comment while the period runs: signed in, or with a name and an email to confirm."""
    comment = service.submit_comment(
        db,
        principal,
        plan_id,
        service.CommentInput(body=body.body, section=body.section, name=body.name, email=body.email),
        client=_client(request),
    )
    return comment_out(comment, with_answer=False)


@router.post("/confirm", response_model=CommentOut)
def confirm(body: ConfirmIn, db: DbSession) -> CommentOut:
    """Publish a public comment with the token from the confirmation email."""
    return comment_out(service.confirm_comment(db, body.token), with_answer=False)


@router.put("/{plan_id}/comments/{number}/response", response_model=CommentOut)
def respond(
    plan_id: PlanId, number: Number, body: ResponseIn, db: DbSession, principal: CurrentPrincipal
) -> CommentOut:
    """Record the disposition of and response to one comment (IFM staff)."""
    comment = service.respond(
        db, principal, plan_id, number, disposition=body.disposition, response=body.response
    )
    return comment_out(comment, with_answer=True)


@router.post("/{plan_id}/statement", response_model=StatementOut)
def issue_statement(
    plan_id: PlanId, body: StatementIn, db: DbSession, principal: CurrentPrincipal
) -> StatementOut:
    """Issue the statement; refused while any comment is unanswered (R-TCH-2)."""
    plan = service.issue_statement(db, principal, plan_id, body.text)
    return _statement(db, principal, plan.id)


def _statement(db: Session, principal: Principal, plan_id: int) -> StatementOut:
    plan = service.get_plan(db, principal, plan_id)
    if plan.statement_issued_at is None or plan.statement_text is None:
        raise NotFound("the IFM has not issued a statement on this plan yet")
    rows = service.statement_rows(db, plan)
    summary = domain.disposition_summary(r.disposition for r in rows if r.disposition)
    return StatementOut(
        plan_id=plan.id,
        title=plan.title,
        issued_at=plan.statement_issued_at,
        text=plan.statement_text,
        summary={k.value: v for k, v in summary.items()},
        comments=[
            StatementRowOut(
                number=r.number,
                author=r.author,
                organisation=r.organisation,
                section=r.section,
                comment=r.body,
                disposition=r.disposition.value if r.disposition else None,
                response=r.response,
            )
            for r in rows
        ],
    )


@router.get("/{plan_id}/statement", response_model=StatementOut)
def get_statement(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> StatementOut:
    """The IFM's statement with its comment-disposition table."""
    return _statement(db, principal, plan_id)


@router.post("/{plan_id}/agreement", response_model=PlanOut)
def agree(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """Record the DUG's agreement: needs a passed DUG decision (motion kind
    ``agree_technical_plan`` on ``change_plan`` <id>); operational/technical plans only (R-TCH-1)."""
    return plan_out(db, principal, service.record_agreement(db, principal, plan_id))


@router.post("/{plan_id}/implemented", response_model=PlanOut)
def implemented(plan_id: PlanId, body: NoteIn, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """Mark the plan implemented."""
    return plan_out(db, principal, service.mark_implemented(db, principal, plan_id, note=body.note))


@router.post("/{plan_id}/withdraw", response_model=PlanOut)
def withdraw(plan_id: PlanId, body: ReasonIn, db: DbSession, principal: CurrentPrincipal) -> PlanOut:
    """Withdraw the plan, with the reason."""
    return plan_out(db, principal, service.withdraw(db, principal, plan_id, reason=body.reason))
