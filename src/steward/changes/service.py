"""Technical-change use cases: plans, the RFC process, the statement, the DUG's agreement.

Every function checks permission, loads, calls the pure domain, saves with a
compare-and-set on the plan's ``lock_version`` and records a typed audit event;
publications go through :func:`steward.events.record_publication` so that they
reach the portal's feeds and the archive. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from steward.accounts import domain as accounts_domain
from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.changes import domain, repository
from steward.changes.domain import (
    Action,
    CommentAnswer,
    CommentLimits,
    CommentStatus,
    Disposition,
    InvalidInput,
    Origin,
    PlanFacts,
    PlanState,
    TransitionRefused,
)
from steward.changes.models import ChangeComment, ChangePlan, ChangePlanVersion
from steward.changes.plan import (
    AffectedTlds,
    Milestone,
    PlanContent,
    Section,
    VersionDiff,
    build_content,
    diff_versions,
    parse_sections,
)
from steward.changes.ratelimit import RateDecision, RatePolicy, decide_all
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Conflict, Invalid, NotFound, TooManyRequests
from steward.events import record_event, record_publication

SUBJECT = "change_plan"


class RateLimited(TooManyRequests):
    """Too many comments from one person or address in a short time."""


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _invalid(exc: InvalidInput) -> Invalid:
    return Invalid(exc.message, field=exc.field, line=exc.line)


def _refused(exc: TransitionRefused) -> Conflict:
    return Conflict(exc.message, field=exc.field)


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def limits() -> CommentLimits:
    """Comment size limits from the settings."""
    settings = get_settings()
    return CommentLimits(
        max_body_chars=settings.change_comment_max_chars,
        max_response_chars=settings.change_comment_max_chars,
        max_links=settings.change_comment_max_links,
    )


def plan_url(plan_id: int) -> str:
    """The public page of a plan."""
    return f"/changes/{plan_id}"


def content_of(version: ChangePlanVersion) -> PlanContent:
    """Rebuild the domain value of a stored version."""
    return PlanContent(
        title=version.title,
        origin=Origin(version.origin),
        significance=domain.Significance(version.significance),
        affected=AffectedTlds(all=version.affected_all, tlds=tuple(version.affected_tlds)),
        body=version.body,
        timeline=tuple(Milestone(on=date.fromisoformat(d), label=label) for d, label in version.timeline),
        sections=parse_sections(version.body),
    )


def _facts(session: Session, plan: ChangePlan) -> PlanFacts:
    answers = [
        CommentAnswer(
            number=c.number or 0,
            disposition=Disposition(c.disposition) if c.disposition else None,
            response=c.response,
        )
        for c in repository.published_comments(session, plan.id)
    ]
    return PlanFacts(
        state=PlanState(plan.state),
        origin=Origin(plan.origin),
        comment_closes_at=plan.comment_closes_at,
        unanswered_comments=domain.unanswered(answers),
        pending_comments=repository.pending_count(session, plan.id),
    )


def _transition(
    session: Session,
    plan: ChangePlan,
    action: Action,
    *,
    now: datetime,
    **values: Any,
) -> PlanState:
    """Apply one lifecycle action with compare-and-set on the old state and lock version."""
    try:
        target = domain.next_state(_facts(session, plan), action, now=now)
    except TransitionRefused as exc:
        raise _refused(exc) from None
    result = session.execute(
        update(ChangePlan)
        .where(
            ChangePlan.id == plan.id,
            ChangePlan.state == plan.state,
            ChangePlan.lock_version == plan.lock_version,
        )
        .values(
            state=target.value,
            lock_version=plan.lock_version + 1,
            updated_at=now,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the plan was changed by someone else meanwhile; reload and try again")
    session.refresh(plan)
    return target


def _load_for_ifm(session: Session, actor: Principal, plan_id: int, permission: Permission) -> ChangePlan:
    actor.require(permission)
    plan = repository.plan_by_id(session, plan_id)
    if plan is None:
        raise NotFound(f"no technical change plan #{plan_id}")
    return plan


def get_plan(session: Session, principal: Principal, plan_id: int) -> ChangePlan:
    """A plan the principal may see; 404 for drafts they may not see."""
    plan = repository.readable_plan(session, principal, plan_id)
    if plan is None:
        raise NotFound(f"no technical change plan #{plan_id}")
    return plan


def list_plans(session: Session, principal: Principal, *, state: str | None = None) -> list[ChangePlan]:
    """Plans the principal may see."""
    if state is not None and state not in {s.value for s in PlanState}:
        raise Invalid(f"unknown state {state!r}", field="state")
    return repository.list_plans(session, principal, state=state)


def effective_state(plan: ChangePlan, now: datetime | None = None) -> PlanState:
    """What readers see: an open period past its end already reads as closed."""
    return domain.effective_state(PlanState(plan.state), plan.comment_closes_at, _now(now))


# ---------------------------------------------------------------------------
# plans and versions (R-TCH-1)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """Raw plan fields as typed on a form, in the CLI or in the API."""

    title: str
    origin: str
    significance: str
    affected: str
    body: str
    timeline: str = ""


def _validate(session: Session, data: PlanInput) -> PlanContent:
    try:
        content = build_content(
            title=data.title,
            origin=data.origin,
            significance=data.significance,
            affected=data.affected,
            body=data.body,
            timeline=data.timeline,
        )
    except InvalidInput as exc:
        raise _invalid(exc) from None
    from steward.registry import repository as registry

    unknown = [t for t in content.affected.tlds if registry.tld_by_label(session, t) is None]
    if unknown:
        raise Invalid(
            "not in the registry: " + ", ".join(f".{t}" for t in unknown[:10]), field="affected"
        )
    return content


def _add_version(
    session: Session, plan: ChangePlan, number: int, content: PlanContent, actor: Principal, note: str
) -> ChangePlanVersion:
    version = ChangePlanVersion(
        plan_id=plan.id,
        number=number,
        title=content.title,
        origin=content.origin.value,
        significance=content.significance.value,
        affected_all=content.affected.all,
        affected_tlds=list(content.affected.tlds),
        body=content.body,
        timeline=[[m.on.isoformat(), m.label] for m in content.timeline],
        note=note.strip(),
        created_by_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(version)
    return version


def create_plan(session: Session, actor: Principal, data: PlanInput) -> ChangePlan:
    """The IFM drafts a plan and classifies its origin (R-TCH-1); it becomes version 1."""
    actor.require(Permission.CHANGE_DRAFT)
    content = _validate(session, data)
    now = utcnow()
    plan = ChangePlan(
        title=content.title,
        origin=content.origin.value,
        significance=content.significance.value,
        state=PlanState.DRAFT.value,
        current_version=1,
        lock_version=1,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    _add_version(session, plan, 1, content, actor, "first draft")
    session.flush()
    record_event(
        session,
        "change:drafted",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"title": plan.title, "origin": plan.origin, "significance": plan.significance},
    )
    return plan


def revise_plan(
    session: Session, actor: Principal, plan_id: int, data: PlanInput, *, note: str = ""
) -> ChangePlanVersion:
    """Save a new version; earlier versions stay as they were.

    Allowed on a draft, and after the comment period closed (the revision is then
    published with the statement; a period past its end is closed first, as the worker
    would); never while comments are being taken. Once
    published, the plan's origin is fixed (R-TCH-1).
    """
    plan = _load_for_ifm(session, actor, plan_id, Permission.CHANGE_DRAFT)
    content = _validate(session, data)
    at = utcnow()
    _close_if_lapsed(session, plan, at)
    published = (
        repository.version(session, plan.id, plan.published_version)
        if plan.published_version is not None
        else None
    )
    try:
        domain.check_revision(
            PlanState(plan.state),
            Origin(published.origin) if published is not None else None,
            content.origin,
        )
    except TransitionRefused as exc:
        raise _refused(exc) from None
    current = repository.version(session, plan.id, plan.current_version)
    if current is not None and content_of(current) == content:
        raise Invalid("nothing changed since the current version", field="body")
    number = plan.current_version + 1
    _transition(
        session,
        plan,
        Action.REVISE,
        now=at,
        current_version=number,
        title=content.title,
        origin=content.origin.value,
        significance=content.significance.value,
    )
    version = _add_version(session, plan, number, content, actor, note)
    session.flush()
    record_event(
        session,
        "change:revised",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"version": number, "note": note.strip()},
    )
    return version


def plan_versions(session: Session, principal: Principal, plan_id: int) -> list[ChangePlanVersion]:
    """Versions a reader may see: all of them for those who may see drafts, else up to the
    published one (later drafts are not public until published)."""
    plan = get_plan(session, principal, plan_id)
    versions = repository.versions(session, plan.id)
    if principal.has(Permission.CHANGE_DRAFT) or plan.published_version is None:
        return versions
    return [v for v in versions if v.number <= (plan.published_version or 0)]


def shown_version(session: Session, principal: Principal, plan_id: int, number: int | None = None) -> ChangePlanVersion:
    """One visible version (default: the latest visible one)."""
    visible = plan_versions(session, principal, plan_id)
    if not visible:
        raise NotFound("this plan has no visible version")
    if number is None:
        return visible[-1]
    for v in visible:
        if v.number == number:
            return v
    raise NotFound(f"version {number} of plan #{plan_id} does not exist")


def diff(session: Session, principal: Principal, plan_id: int, old: int, new: int) -> VersionDiff:
    """A readable line diff between two visible versions."""
    a = shown_version(session, principal, plan_id, old)
    b = shown_version(session, principal, plan_id, new)
    return diff_versions(content_of(a), content_of(b), old_version=a.number, new_version=b.number)


# ---------------------------------------------------------------------------
# the RFC process (R-TCH-2)
# ---------------------------------------------------------------------------


def publish_plan(
    session: Session,
    actor: Principal,
    plan_id: int,
    *,
    comment_days: int | None = None,
    now: datetime | None = None,
) -> ChangePlan:
    """Publish the current version with a comment period (default: the setting, 30 days)."""
    plan = _load_for_ifm(session, actor, plan_id, Permission.CHANGE_PUBLISH)
    at = _now(now)
    days = comment_days if comment_days is not None else get_settings().change_comment_days
    try:
        period = domain.comment_period(at, days)
    except InvalidInput as exc:
        raise _invalid(exc) from None
    _transition(
        session,
        plan,
        Action.PUBLISH,
        now=at,
        published_version=plan.current_version,
        comment_opens_at=period.opens_at,
        comment_closes_at=period.closes_at,
    )
    record_event(
        session,
        "change:published",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={
            "version": plan.current_version,
            "comment_opens_at": period.opens_at.isoformat(),
            "comment_closes_at": period.closes_at.isoformat(),
            "origin": plan.origin,
        },
        public=True,
    )
    origin = Origin(plan.origin)
    record_publication(
        session,
        "consultation",
        f"Implementation plan for comment: {plan.title}",
        plan_url(plan.id),
        {
            "plan_id": plan.id,
            "version": plan.current_version,
            "origin": origin.value,
            "dug_agreement_required": origin.needs_dug_agreement,
            "significance": plan.significance,
            "comment_opens_at": period.opens_at.isoformat(),
            "comment_closes_at": period.closes_at.isoformat(),
        },
        actor=actor,
        summary=(
            f"{origin.label}. Comments are open until "
            f"{period.closes_at:%Y-%m-%d %H:%M} UTC."
        ),
    )
    return plan


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _rate_check(
    session: Session,
    *,
    now: datetime,
    author_user_id: int | None,
    email_hash: str | None,
    client_hash: str | None,
) -> RateDecision:
    settings = get_settings()
    hour = timedelta(hours=1)
    person = RatePolicy(settings.change_comment_rate_per_hour, hour)
    client = RatePolicy(settings.change_comment_rate_per_client_hour, hour)
    times = repository.submission_times(
        session,
        since=now - hour,
        author_user_id=author_user_id,
        email_hash=email_hash,
        client_hash=client_hash,
    )
    checks = [(person, times.get("user", [])), (person, times.get("email", []))]
    checks.append((client, times.get("client", [])))
    return decide_all(checks, now)


@dataclass(frozen=True)
class CommentInput:
    """A comment as submitted; ``name`` and ``email`` only for the public."""

    body: str
    section: str | None = None
    name: str | None = None
    email: str | None = None


def submit_comment(
    session: Session,
    actor: Principal,
    plan_id: int,
    data: CommentInput,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> ChangeComment:
    """Anyone may comment while the period runs (R-TCH-2).

    Signed-in users comment under their name and the comment is public at once;
    the public gives a name and an email address, and the comment is published
    when the address is confirmed through the emailed link.
    """
    at = _now(now)
    plan = get_plan(session, actor, plan_id)
    period = (
        domain.CommentPeriod(plan.comment_opens_at, plan.comment_closes_at)
        if plan.comment_opens_at and plan.comment_closes_at
        else None
    )
    try:
        domain.check_accepts_comments(PlanState(plan.state), period, at)
    except TransitionRefused as exc:
        raise _refused(exc) from None
    published = repository.version(session, plan.id, plan.published_version or 0)
    assert published is not None
    anchors = [s.anchor for s in parse_sections(published.body)]
    public = actor.is_anonymous
    email: str | None = None
    if public:
        email = accounts_domain.normalise_email(data.email or "")
        problem = accounts_domain.check_email(email) if email else "must not be empty"
        if problem:
            raise Invalid(problem, field="email")
    try:
        draft = domain.validate_comment(
            data.body,
            section=data.section,
            known_sections=anchors,
            author_name=(data.name or "") if public else None,
            limits=limits(),
        )
    except InvalidInput as exc:
        raise _invalid(exc) from None
    email_hash = _hash(email) if email else None
    client_hash = _hash(client) if client else None
    decision = _rate_check(
        session,
        now=at,
        author_user_id=actor.user_id,
        email_hash=email_hash,
        client_hash=client_hash,
    )
    if not decision.allowed:
        raise RateLimited(decision.message(), field="body")

    comment = ChangeComment(
        plan_id=plan.id,
        plan_version=published.number,
        section=draft.section,
        body=draft.body,
        submitted_at=at,
        client_hash=client_hash,
    )
    token: str | None = None
    if public:
        assert draft.author_name is not None and email is not None
        token = accounts_domain.new_secret()
        comment.status = CommentStatus.PENDING_CONFIRMATION.value
        comment.author_name = draft.author_name
        comment.email = email
        comment.email_hash = email_hash
        comment.token_hash = accounts_domain.hash_token(token)
        comment.token_expires_at = at + timedelta(hours=get_settings().change_confirm_hours)
    else:
        assert actor.user is not None
        comment.status = CommentStatus.PUBLISHED.value
        comment.author_user_id = actor.user_id
        comment.author_name = actor.user.name
        comment.author_organisation = actor.user.organisation_name
        comment.number = repository.next_comment_number(session, plan.id)
        comment.published_at = at
    session.add(comment)
    session.flush()
    if token is not None:
        from steward.changes import emails

        emails.send_confirmation(session, comment, plan, token)
        record_event(
            session,
            "change:comment-submitted",
            actor=None,
            subject_type=SUBJECT,
            subject_id=plan.id,
            data={"comment_id": comment.id},
        )
    else:
        _comment_published(session, actor, plan, comment)
    return comment


def _comment_published(
    session: Session, actor: Principal | None, plan: ChangePlan, comment: ChangeComment
) -> None:
    record_event(
        session,
        "change:commented",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"comment": comment.number, "section": comment.section, "author": comment.author_name},
        public=True,
    )


def pending_by_token(session: Session, token: str, now: datetime | None = None) -> tuple[ChangeComment, ChangePlan]:
    """The pending comment a confirmation link points to (404 if unknown or used)."""
    comment = repository.comment_by_token_hash(session, accounts_domain.hash_token(token))
    if comment is None or comment.status != CommentStatus.PENDING_CONFIRMATION.value:
        raise NotFound("this confirmation link is unknown or was already used")
    plan = repository.plan_by_id(session, comment.plan_id)
    assert plan is not None
    return comment, plan


def confirm_comment(session: Session, token: str, *, now: datetime | None = None) -> ChangeComment:
    """Publish a public comment once its author confirmed the address, inside the period."""
    at = _now(now)
    comment, plan = pending_by_token(session, token)
    period = (
        domain.CommentPeriod(plan.comment_opens_at, plan.comment_closes_at)
        if plan.comment_opens_at and plan.comment_closes_at
        else None
    )
    assert comment.token_expires_at is not None
    try:
        domain.check_can_confirm(PlanState(plan.state), period, comment.token_expires_at, at)
    except TransitionRefused as exc:
        raise _refused(exc) from None
    number = repository.next_comment_number(session, plan.id)
    result = session.execute(
        update(ChangeComment)
        .where(
            ChangeComment.id == comment.id,
            ChangeComment.status == CommentStatus.PENDING_CONFIRMATION.value,
        )
        .values(
            status=CommentStatus.PUBLISHED.value,
            number=number,
            published_at=at,
            token_hash=None,
            token_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this comment was already confirmed")
    session.refresh(comment)
    _comment_published(session, None, plan, comment)
    return comment


def respond(
    session: Session,
    actor: Principal,
    plan_id: int,
    number: int,
    *,
    disposition: str,
    response: str,
    now: datetime | None = None,
) -> ChangeComment:
    """Record the IFM's disposition of and response to one comment (R-TCH-2).

    Allowed while the period runs or after it closed, until the statement is issued;
    responses become public with the statement.
    """
    plan = _load_for_ifm(session, actor, plan_id, Permission.CHANGE_PUBLISH)
    if plan.state not in (PlanState.OPEN_FOR_COMMENT.value, PlanState.COMMENTS_CLOSED.value):
        raise Conflict(
            "responses can only be recorded before the statement is issued", field="response"
        )
    comment = repository.comment_in_plan(session, plan.id, number)
    if comment is None:
        raise NotFound(f"plan #{plan_id} has no comment #{number}")
    try:
        chosen, text = domain.validate_response(disposition, response, limits=limits())
    except InvalidInput as exc:
        raise _invalid(exc) from None
    comment.disposition = chosen.value
    comment.response = text
    comment.responded_at = _now(now)
    comment.responded_by_id = actor.user_id
    session.flush()
    record_event(
        session,
        "change:comment-answered",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"comment": number, "disposition": chosen.value},
    )
    return comment


def close_comments(
    session: Session, actor: Principal | None, plan_id: int, *, now: datetime | None = None
) -> ChangePlan:
    """Close a period that has run its course (the worker does this too)."""
    if actor is not None:
        actor.require(Permission.CHANGE_PUBLISH)
    plan = repository.plan_by_id(session, plan_id)
    if plan is None:
        raise NotFound(f"no technical change plan #{plan_id}")
    at = _now(now)
    _transition(session, plan, Action.CLOSE_COMMENTS, now=at, comments_closed_at=at)
    record_event(
        session,
        "change:comments-closed",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"comments": len(repository.published_comments(session, plan.id))},
        public=True,
    )
    return plan


def _close_if_lapsed(session: Session, plan: ChangePlan, at: datetime) -> None:
    """Close a comment period that has run its course but that the worker has not closed yet,
    before an action that follows the period (the statement, a revision)."""
    if plan.state == PlanState.OPEN_FOR_COMMENT.value and effective_state(plan, at) is PlanState.COMMENTS_CLOSED:
        close_comments(session, None, plan.id, now=at)


def periodic(session: Session, now: datetime) -> str:
    """Periodic task (idempotent): close every comment period that has ended; drop expired
    unconfirmed comments, and with them the addresses they held; record the DUG's agreement
    on plans whose ``agree_technical_plan`` motion has passed."""
    from steward.governance import repository as governance_repo

    closed = 0
    for plan_id in repository.plans_due_to_close(session, now):
        try:
            close_comments(session, None, plan_id, now=now)
        except Conflict:
            continue  # another worker closed it first
        closed += 1
    dropped = 0
    for comment in repository.expired_pending(session, now):
        session.delete(comment)
        dropped += 1
    agreed = 0
    for plan in repository.awaiting_agreement(session):
        if governance_repo.passed_decisions(session, AGREE_MOTION, SUBJECT, str(plan.id)):
            try:
                record_agreement(session, None, plan.id, now=now)
            except Conflict:
                continue
            agreed += 1
    session.flush()
    return (
        f"{closed} comment periods closed, {dropped} unconfirmed comments expired, "
        f"{agreed} DUG agreements recorded"
    )


@dataclass(frozen=True)
class StatementRow:
    """One row of the statement's comment-disposition table."""

    number: int
    author: str
    organisation: str | None
    section: str | None
    section_heading: str | None
    excerpt: str
    body: str
    disposition: Disposition | None
    response: str | None


def statement_rows(session: Session, plan: ChangePlan) -> list[StatementRow]:
    """The disposition table, one row per published comment, in number order.

    A comment's section heading is taken from the version it was made on.
    """
    headings: dict[int, dict[str, str]] = {}
    for version in repository.versions(session, plan.id):
        headings[version.number] = {s.anchor: s.heading for s in parse_sections(version.body)}
    return [
        StatementRow(
            number=c.number or 0,
            author=c.author_name,
            organisation=c.author_organisation,
            section=c.section,
            section_heading=headings.get(c.plan_version, {}).get(c.section or ""),
            excerpt=domain.comment_excerpt(c.body),
            body=c.body,
            disposition=Disposition(c.disposition) if c.disposition else None,
            response=c.response,
        )
        for c in repository.published_comments(session, plan.id)
    ]


def issue_statement(
    session: Session, actor: Principal, plan_id: int, text: str, *, now: datetime | None = None
) -> ChangePlan:
    """Issue and publish the IFM's statement; refused while any comment is unanswered (R-TCH-2)."""
    plan = _load_for_ifm(session, actor, plan_id, Permission.CHANGE_PUBLISH)
    at = _now(now)
    try:
        statement = domain.clean_text(text, field="statement", max_chars=50_000)
    except InvalidInput as exc:
        raise _invalid(exc) from None
    _close_if_lapsed(session, plan, at)
    _transition(
        session,
        plan,
        Action.ISSUE_STATEMENT,
        now=at,
        statement_text=statement,
        statement_issued_at=at,
        published_version=plan.current_version,
    )
    rows = statement_rows(session, plan)
    summary = domain.disposition_summary(r.disposition for r in rows if r.disposition)
    record_event(
        session,
        "change:statement-issued",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"comments": len(rows), "dispositions": {k.value: v for k, v in summary.items()}},
        public=True,
    )
    origin = Origin(plan.origin)
    record_publication(
        session,
        "consultation_statement",
        f"IFM statement on: {plan.title}",
        f"{plan_url(plan.id)}/statement",
        {
            "plan_id": plan.id,
            "version": plan.published_version,
            "statement": statement,
            "comments": [
                {
                    "number": r.number,
                    "author": r.author,
                    "section": r.section,
                    "comment": r.body,
                    "disposition": r.disposition.value if r.disposition else None,
                    "response": r.response,
                }
                for r in rows
            ],
            "next_step": "DUG agreement" if origin.needs_dug_agreement else "implementation",
        },
        actor=actor,
        summary=f"{len(rows)} comments answered: "
        + ", ".join(f"{v} {k.label.lower()}" for k, v in summary.items() if v),
    )
    from steward.changes import emails

    emails.notify_statement(session, plan, rows)
    return plan


# ---------------------------------------------------------------------------
# the DUG's agreement (R-TCH-1) and implementation
# ---------------------------------------------------------------------------


AGREE_MOTION = "agree_technical_plan"


def dug_decisions(session: Session, plan_id: int) -> list[Any]:
    """Every DUG motion about this plan, newest first (governance's record)."""
    from steward.governance import service as governance

    return governance.decisions_for(session, SUBJECT, plan_id)


def record_agreement(
    session: Session,
    actor: Principal | None,
    plan_id: int,
    *,
    now: datetime | None = None,
) -> ChangePlan:
    """Record the DUG's agreement on behalf of the operators (R-TCH-1).

    The agreement is a DUG decision: a passed governance motion of kind
    ``agree_technical_plan`` on this plan. The DUG chair records it (or the worker,
    ``actor=None``, as soon as the motion has passed); without a passed decision it is
    refused. A policy-driven change is refused first: it has no DUG step at all.
    """
    from steward.governance import service as governance

    if actor is not None:
        actor.require(Permission.CHANGE_AGREE)
    plan = repository.plan_by_id(session, plan_id)
    if plan is None:
        raise NotFound(f"no technical change plan #{plan_id}")
    at = _now(now)
    try:
        domain.next_state(_facts(session, plan), Action.RECORD_AGREEMENT, now=at)
    except TransitionRefused as exc:
        raise _refused(exc) from None
    motion = governance.require_decision(session, AGREE_MOTION, SUBJECT, plan.id)
    basis = f"governance:motion:{motion.id}"
    _transition(
        session,
        plan,
        Action.RECORD_AGREEMENT,
        now=at,
        agreed_at=at,
        agreement_note=motion.title,
        agreement_basis=basis,
    )
    record_event(
        session,
        "change:agreed",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"basis": basis, "motion": motion.id},
        public=True,
    )
    record_publication(
        session,
        "change_agreement",
        f"DUG agreed the implementation plan: {plan.title}",
        plan_url(plan.id),
        {
            "plan_id": plan.id,
            "version": plan.published_version,
            "basis": basis,
            "motion": motion.id,
            "motion_url": f"/governance/motions/{motion.id}",
        },
        actor=actor,
        summary="The DUG agreed the plan on behalf of the TLD registry operators (R-TCH-1), "
        f"by decision #{motion.id}.",
    )
    return plan


def mark_implemented(
    session: Session, actor: Principal, plan_id: int, *, note: str = "", now: datetime | None = None
) -> ChangePlan:
    """Track an agreed (or policy-driven, after its statement) plan through to implementation."""
    plan = _load_for_ifm(session, actor, plan_id, Permission.CHANGE_PUBLISH)
    at = _now(now)
    _transition(
        session,
        plan,
        Action.MARK_IMPLEMENTED,
        now=at,
        implemented_at=at,
        implementation_note=note.strip() or None,
    )
    record_event(
        session,
        "change:implemented",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"note": note.strip()},
        public=True,
    )
    record_publication(
        session,
        "change_implemented",
        f"Implemented: {plan.title}",
        plan_url(plan.id),
        {"plan_id": plan.id, "note": note.strip()},
        actor=actor,
        summary=note.strip(),
    )
    return plan


def withdraw(
    session: Session, actor: Principal, plan_id: int, *, reason: str, now: datetime | None = None
) -> ChangePlan:
    """Withdraw a plan with the reason recorded."""
    plan = _load_for_ifm(session, actor, plan_id, Permission.CHANGE_PUBLISH)
    clean = reason.strip()
    if not clean:
        raise Invalid("give the reason for withdrawing the plan", field="reason")
    was_public = plan.published_version is not None
    at = _now(now)
    _transition(session, plan, Action.WITHDRAW, now=at, withdrawn_at=at, withdrawn_reason=clean)
    record_event(
        session,
        "change:withdrawn",
        actor=actor,
        subject_type=SUBJECT,
        subject_id=plan.id,
        data={"reason": clean},
        public=was_public,
    )
    return plan


def available_actions(session: Session, plan: ChangePlan, now: datetime | None = None) -> list[Action]:
    """Lifecycle actions whose guards pass now (for buttons and the API)."""
    return domain.available_actions(_facts(session, plan), now=_now(now))


def sections_of(version: ChangePlanVersion) -> tuple[Section, ...]:
    """The sections of one version, for pages and the comment form."""
    return parse_sections(version.body)

