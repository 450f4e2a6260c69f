"""Use cases of IPRT reviews (R-IPRT-1…3).

Convening fills the next scheduled cycle; members are appointed by constituency and the
composition is checked on every appointment; the stages advance through guards; findings
about operational service levels are pointed to the DUG; remedial directions are tracked
until their addressee completes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.accounts.domain import check_email
from steward.accounts.models import User
from steward.accounts.principal import Principal
from steward.audits import repository as audits_repo
from steward.authz import Permission, Role
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import record_event, record_publication
from steward.governance import service as governance
from steward.outbox import enqueue_email
from steward.registry.models import Organisation
from steward.reviews import repository as repo
from steward.reviews.domain import (
    STAGE_LABELS,
    Appointee,
    CompositionReport,
    Constituency,
    Cycle,
    FindingTopic,
    ReviewError,
    ReviewFacts,
    SeatPlan,
    Stage,
    check_advance,
    check_appointment,
    check_direction,
    comment_period_open,
    composition,
    informing_audits,
    iprt_schedule,
    next_cycle,
    reminders_due,
    scope_guard,
)
from steward.reviews.models import (
    IprtComment,
    IprtDirection,
    IprtFinding,
    IprtMember,
    IprtReview,
    IprtReviewAudit,
)

TEXT_FIELDS = ("terms_of_reference", "evidence_notes", "draft_report", "final_report")


def _invalid(err: ReviewError) -> Invalid:
    return Invalid(err.message, field=err.field)


def today_utc() -> date:
    return utcnow().date()


def seat_plan() -> SeatPlan:
    """Seats per constituency from the settings (default R-IPRT-1: 8+1+1+1+1+1+1)."""
    s = get_settings()
    try:
        return SeatPlan(
            {
                Constituency.registry_customer: s.iprt_customer_seats,
                Constituency.gac: 1,
                Constituency.alac: 1,
                Constituency.ssac: 1,
                Constituency.rssac: 1,
                Constituency.ietf: 1,
                Constituency.other: 1,
            }
        )
    except ReviewError as err:
        raise _invalid(err) from None


def schedule(session: Session, today: date) -> list[Cycle]:
    """The review schedule (R-IPRT-2) with each convened review against its cycle."""
    s = get_settings()
    started = {r.cycle: (r.id, r.stage == Stage.closed.value) for r in repo.reviews(session)}
    return iprt_schedule(
        s.transition_date, today, started, s.iprt_first_review_years, s.iprt_review_interval_years
    )


def get(session: Session, review_id: int) -> IprtReview:
    review = repo.review(session, review_id)
    if review is None:
        raise NotFound("No such review.")
    return review


def appointees(review: IprtReview) -> list[Appointee]:
    return [
        Appointee(
            m.person_key,
            m.name,
            Constituency(m.constituency),
            m.organisation.kind if m.organisation is not None else None,
        )
        for m in review.members
    ]


def composition_of(review: IprtReview) -> CompositionReport:
    return composition(appointees(review), seat_plan())


def facts(review: IprtReview) -> ReviewFacts:
    return ReviewFacts(
        stage=Stage(review.stage),
        composition=composition_of(review),
        terms_of_reference=review.terms_of_reference,
        draft_report=review.draft_report,
        comment_closes=review.comment_closes,
        final_report=review.final_report,
        open_directions=sum(1 for d in review.directions if d.status == "open"),
    )


def convene(
    session: Session, actor: Principal, title: str = "", today: date | None = None
) -> IprtReview:
    """Convene the review of the next scheduled cycle and link the audits that inform it.

    Those are the audits published since the previous review, i.e. not linked to an earlier
    one (R-AUD-2); an audit published while this review runs is linked when it is published
    (:func:`link_published_audit`)."""
    actor.require(Permission.REVIEW_MANAGE)
    today = today or today_utc()
    nxt = next_cycle(schedule(session, today))
    if nxt is None:
        raise Conflict("Every scheduled review has been convened.")
    _audits_and_reviews_in_turn(session)
    earlier = repo.reviews(session)
    if any(r.stage != Stage.closed.value for r in earlier):
        raise Conflict("A review is already in progress; close it before convening the next.")
    considered = {link.audit_id for r in earlier for link in r.audit_links}
    review = IprtReview(
        cycle=nxt.number,
        due_on=nxt.due,
        title=title.strip() or f"IANA naming functions review {nxt.number} ({nxt.due.year})",
        stage=Stage.convened.value,
        convened_on=today,
        convened_by_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(review)
    except IntegrityError:
        raise Conflict(f"Review {nxt.number} was convened by someone else; reload.") from None
    published = [(a.id, a.published_on) for a in audits_repo.published_audits(session)]
    for audit_id in informing_audits(published, today, already=considered):
        review.audit_links.append(IprtReviewAudit(review_id=review.id, audit_id=audit_id))
    session.flush()
    record_event(
        session,
        "review:convened",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"cycle": review.cycle, "due": nxt.due.isoformat(), "overdue": nxt.overdue},
        public=True,
    )
    return review


_AUDIT_LINK_LOCK = 0x1A0D_17E5


def _audits_and_reviews_in_turn(session: Session) -> None:
    """Convening a review and publishing an audit take turns (PostgreSQL: a transaction lock; the
    statements after it see what the other committed). Otherwise, run at once under READ
    COMMITTED, neither would see the other and the audit would inform no running review. SQLite
    runs writers one at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LINK_LOCK})


def link_published_audit(session: Session, actor: Principal, audit_id: int) -> list[int]:
    """Link an audit just published to every review not yet closed (R-AUD-2, R-IPRT-3).

    Called by ``steward.audits.service.publish``: results published while a review runs
    inform that review, not only the next one convened. Returns the ids of the reviews linked.
    """
    _audits_and_reviews_in_turn(session)
    linked = []
    for review in repo.reviews(session):
        if review.stage == Stage.closed.value:
            continue
        if any(link.audit_id == audit_id for link in review.audit_links):
            continue
        review.audit_links.append(IprtReviewAudit(review_id=review.id, audit_id=audit_id))
        session.flush()
        record_event(
            session,
            "review:audit_linked",
            actor=actor,
            subject_type="review",
            subject_id=review.id,
            data={"cycle": review.cycle, "audit_id": audit_id},
            public=True,
        )
        linked.append(review.id)
    return linked


def appoint(
    session: Session,
    actor: Principal,
    review_id: int,
    *,
    name: str,
    constituency: str,
    email: str | None = None,
    organisation_id: int | None = None,
    today: date | None = None,
) -> IprtMember:
    """Appoint a member for a constituency; R-IPRT-1 seats are checked on every appointment."""
    actor.require(Permission.REVIEW_MANAGE)
    today = today or today_utc()
    review = get(session, review_id)
    if review.stage != Stage.convened.value:
        raise Conflict("Members are appointed while the review is being convened.")
    try:
        c = Constituency(constituency)
    except ValueError:
        raise Invalid(f"Unknown constituency {constituency!r}.", field="constituency") from None
    org = None
    if organisation_id is not None:
        org = session.get(Organisation, organisation_id)
        if org is None:
            raise Invalid("No such organisation.", field="organisation_id")
    clean_email = (email or "").strip().lower() or None
    if clean_email and (problem := check_email(clean_email)):
        raise Invalid(f"{email!r} {problem}.", field="email")
    key = clean_email or " ".join(name.lower().split())
    new = Appointee(key, name.strip(), c, org.kind if org is not None else None)
    try:
        check_appointment(appointees(review), new, seat_plan())
    except ReviewError as err:
        raise _invalid(err) from None
    user = None
    if clean_email:
        user = session.query(User).filter(User.email == clean_email).one_or_none()
    member = IprtMember(
        review_id=review.id,
        person_key=key,
        name=new.name,
        email=clean_email,
        user_id=user.id if user is not None else None,
        organisation_id=org.id if org is not None else None,
        constituency=c.value,
        appointed_on=today,
    )
    try:
        with session.begin_nested():
            review.members.append(member)
    except IntegrityError:
        review.members.remove(member)
        raise Conflict(f"{new.name} was appointed by someone else; reload.") from None
    record_event(
        session,
        "review:member_appointed",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"name": member.name, "constituency": c.value},
        public=True,
    )
    return member


def remove_member(session: Session, actor: Principal, review_id: int, member_id: int) -> None:
    """Undo an appointment while the review is still being convened."""
    actor.require(Permission.REVIEW_MANAGE)
    review = get(session, review_id)
    if review.stage != Stage.convened.value:
        raise Conflict("The team is fixed once the terms of reference stage begins.")
    member = next((m for m in review.members if m.id == member_id), None)
    if member is None:
        raise NotFound("No such member of this review.")
    review.members.remove(member)
    session.delete(member)
    session.flush()
    record_event(
        session,
        "review:member_removed",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"name": member.name},
        public=True,
    )


def record_text(
    session: Session, actor: Principal, review_id: int, field: str, text: str
) -> IprtReview:
    """Record the terms of reference, evidence notes, draft or final report text."""
    actor.require(Permission.REVIEW_MANAGE)
    review = get(session, review_id)
    if field not in TEXT_FIELDS:
        raise Invalid(f"Unknown text {field!r}.", field="field")
    if review.stage == Stage.closed.value:
        raise Conflict("The review is closed.")
    if field == "draft_report" and review.stage not in (
        Stage.evidence_gathering.value,
        Stage.draft_report.value,
    ):
        raise Conflict("The draft report is written after evidence gathering begins.")
    if field == "final_report" and review.stage not in (
        Stage.draft_report.value,
        Stage.final_report.value,
    ):
        raise Conflict("The final report follows the draft report.")
    setattr(review, field, text.strip())
    session.flush()
    record_event(
        session,
        "review:text_recorded",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"field": field},
        public=True,
    )
    return review


def advance(
    session: Session,
    actor: Principal,
    review_id: int,
    target: str,
    *,
    comment_closes: date | None = None,
    today: date | None = None,
) -> IprtReview:
    """Move the review to its next stage when the guard allows it."""
    actor.require(Permission.REVIEW_MANAGE)
    today = today or today_utc()
    review = get(session, review_id)
    try:
        to = Stage(target)
    except ValueError:
        raise Invalid(f"Unknown stage {target!r}.", field="stage") from None
    f = facts(review)
    if to is Stage.draft_report:
        f = ReviewFacts(**{**f.__dict__, "comment_closes": comment_closes})
    try:
        check_advance(f, to, today)
    except ReviewError as err:
        raise _invalid(err) from None
    if to is Stage.draft_report:
        review.comment_closes = comment_closes
    if to is Stage.closed:
        review.closed_on = today
    review.stage = to.value
    session.flush()
    record_event(
        session,
        f"review:{to.value}",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"stage": to.value},
        public=True,
    )
    if to in (Stage.draft_report, Stage.final_report):
        which = "Draft" if to is Stage.draft_report else "Final"
        record_publication(
            session,
            f"iprt_{to.value}",
            f"IPRT review {review.cycle}: {which.lower()} report",
            f"/reviews/{review.id}",
            {
                "report": review.draft_report if to is Stage.draft_report else review.final_report,
                "comment_closes": comment_closes.isoformat() if comment_closes else None,
                "findings": [
                    {"topic": x.topic, "text": x.text, "referred_to": x.referred_to}
                    for x in review.findings
                ],
            },
            actor=actor,
        )
    return review


def add_finding(
    session: Session, actor: Principal, review_id: int, topic: str, text: str
) -> IprtFinding:
    """Record a finding; one about operational service levels is referred to the DUG (R-IPRT-3)."""
    actor.require(Permission.REVIEW_MANAGE)
    review = get(session, review_id)
    if review.stage not in (
        Stage.evidence_gathering.value,
        Stage.draft_report.value,
        Stage.final_report.value,
    ):
        raise Conflict("Findings are recorded from evidence gathering onwards.")
    try:
        t = FindingTopic(topic)
    except ValueError:
        raise Invalid(f"Unknown topic {topic!r}.", field="topic") from None
    if not text.strip():
        raise Invalid("The finding is empty.", field="text")
    decision = scope_guard(t)
    finding = IprtFinding(
        review_id=review.id, topic=t.value, text=text.strip(), referred_to=decision.referred_to
    )
    review.findings.append(finding)
    session.flush()
    record_event(
        session,
        "review:finding_referred" if decision.referred_to else "review:finding_recorded",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"topic": t.value, "scope": decision.reason},
        public=True,
    )
    return finding


def add_direction(
    session: Session,
    actor: Principal,
    review_id: int,
    target: str,
    text: str,
    due_on: date | None = None,
) -> IprtDirection:
    """Direct a remedial action to the DUG or the IFM (R-IPRT-3); tracked until completed."""
    actor.require(Permission.REVIEW_MANAGE)
    review = get(session, review_id)
    try:
        to = check_direction(Stage(review.stage), target, text)
    except ReviewError as err:
        raise _invalid(err) from None
    d = IprtDirection(review_id=review.id, target=to.value, text=text.strip(), due_on=due_on)
    review.directions.append(d)
    session.flush()
    record_event(
        session,
        "review:direction_issued",
        actor=actor,
        subject_type="review",
        subject_id=review.id,
        data={"direction": d.id, "target": to.value, "due": due_on.isoformat() if due_on else None},
        public=True,
    )
    return d


def complete_direction(
    session: Session, actor: Principal, direction_id: int, note: str, today: date | None = None
) -> IprtDirection:
    """The addressee (DUG chair or IFM staff) or the IPRT records that a direction is done."""
    today = today or today_utc()
    d = repo.direction(session, direction_id)
    if d is None:
        raise NotFound("No such direction.")
    addressee = Role.DUG_CHAIR if d.target == "dug" else Role.IFM_STAFF
    if not (actor.has_role(addressee) or actor.has(Permission.REVIEW_MANAGE)):
        raise Forbidden("Only the addressee of the direction or the IPRT records its completion.")
    if d.status != "open":
        raise Conflict("This direction is already completed.")
    if not note.strip():
        raise Invalid("Say how the direction was completed.", field="note")
    d.status = "completed"
    d.completed_on = today
    d.completion_note = note.strip()
    session.flush()
    record_event(
        session,
        "review:direction_completed",
        actor=actor,
        subject_type="review",
        subject_id=d.review_id,
        data={"direction": d.id, "target": d.target},
        public=True,
    )
    return d


def add_public_comment(
    session: Session,
    principal: Principal,
    review_id: int,
    author_name: str,
    text: str,
    today: date | None = None,
) -> IprtComment:
    """Anyone may comment on the draft report during its comment period."""
    today = today or today_utc()
    review = get(session, review_id)
    if not comment_period_open(review.comment_closes, Stage(review.stage), today):
        raise Conflict("The public comment period is not open.")
    name = author_name.strip() or (principal.user.name if principal.user else "")
    if not name:
        raise Invalid("Give your name.", field="author_name")
    if not text.strip():
        raise Invalid("The comment is empty.", field="text")
    if len(text) > 10_000:
        raise Invalid("Keep the comment under 10,000 characters.", field="text")
    c = IprtComment(
        created_at=governance.moment(today),
        review_id=review.id,
        author_name=name[:200],
        user_id=principal.user_id,
        text=text.strip(),
    )
    review.comments.append(c)
    session.flush()
    record_event(
        session,
        "review:comment",
        actor=principal,
        subject_type="review",
        subject_id=review.id,
        data={"author": c.author_name},
        public=True,
    )
    return c


@dataclass(frozen=True)
class LinkedAudit:
    id: int
    cycle: int
    firm: str
    published_on: date | None


def linked_audits(session: Session, review: IprtReview) -> list[LinkedAudit]:
    """The audits that inform the review, the latest published first (R-AUD-2)."""
    out = []
    for link in review.audit_links:
        a = audits_repo.audit(session, link.audit_id)
        if a is not None:
            out.append(LinkedAudit(a.id, a.cycle, a.firm.name, a.published_on))
    return sorted(out, key=lambda a: (a.published_on or date.min, a.id), reverse=True)


def stage_label(review: IprtReview) -> str:
    return STAGE_LABELS[Stage(review.stage)]


def remind_next_review(session: Session, now: datetime) -> str:
    """Periodic task: remind IPRT members and the DUG chair of a review due soon or overdue,
    and the addressees of remedial directions past their due date (idempotent: one email per
    cycle and status, and per overdue direction, for each recipient)."""
    from steward.accounts import repository as accounts_repo

    today = now.date()
    cycles = reminders_due(schedule(session, today), today, get_settings().governance_reminder_days)
    recipients = [
        u
        for role in (Role.IPRT_MEMBER.value, Role.DUG_CHAIR.value)
        for u in accounts_repo.users_with_role(session, role)
        if u.active
    ]
    queued = 0
    for cycle in cycles:
        state = "is overdue" if cycle.overdue else "is due"
        for user in recipients:
            if enqueue_email(
                session,
                user.email,
                f"[IPRT] Review {cycle.number} {state} ({cycle.due.isoformat()})",
                f"IPRT review {cycle.number} {state} on {cycle.due.isoformat()} (R-IPRT-2).\n"
                f"{get_settings().base_url}/reviews\n",
                key=f"review-due:{cycle.number}:{cycle.status.value}:{user.id}",
            ):
                queued += 1
    overdue = 0
    for d in repo.open_directions(session):
        if d.due_on is None or d.due_on >= today:
            continue
        role = Role.DUG_CHAIR if d.target == "dug" else Role.IFM_STAFF
        for user in accounts_repo.users_with_role(session, role.value):
            if user.active and enqueue_email(
                session,
                user.email,
                f"[IPRT] Remedial direction to the {d.target.upper()} is overdue",
                f"The IPRT directed the {d.target.upper()} to: {d.text}\n"
                f"It was due on {d.due_on.isoformat()} and is not recorded as completed (R-IPRT-3).\n"
                f"{get_settings().base_url}/reviews/{d.review_id}#directions\n",
                key=f"direction-overdue:{d.id}:{user.id}",
            ):
                overdue += 1
    return f"{queued} review reminder(s), {overdue} overdue direction reminder(s) queued"
