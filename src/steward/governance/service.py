"""Use cases of the DUG: charter, membership, motions and votes.

The roster (``governance_member``), not a role, decides who votes: a person votes on a
motion only while serving in a voting seat and not recused from it (R-DUG-2, R-DUG-3).
Other contexts call :func:`propose_motion` to put an action to the DUG and
:func:`require_decision` before carrying it out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from fractions import Fraction

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.accounts.models import User
from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import record_event, record_publication
from steward.governance import repository as repo
from steward.governance.domain import (
    MOTION_KIND_LABELS,
    Ballot,
    CharterText,
    Choice,
    Community,
    CompositionIssue,
    CompositionRules,
    DecisionRules,
    GovernanceError,
    Member,
    MotionKind,
    MotionState,
    QuorumBase,
    SeatKind,
    Tally,
    Threshold,
    all_eligible_have_voted,
    check_can_comment,
    check_can_vote,
    check_change,
    check_charter_effective,
    completeness_issues,
    eligible_voters,
    next_charter_version,
    recused_members,
    tally,
    terms_ending,
    validate_charter,
)
from steward.governance.domain import charter_in_force as version_in_force
from steward.governance.models import (
    DugCharter,
    DugMember,
    DugMotion,
    DugMotionComment,
    DugMotionParty,
    DugVote,
)
from steward.outbox import enqueue_email
from steward.registry import repository as registry_repo
from steward.registry.models import Organisation


def _invalid(err: GovernanceError) -> Invalid:
    return Invalid(err.message, field=err.field)


def _fraction(text: str, name: str) -> Fraction:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise Invalid(f"{text!r} is not a fraction such as 1/2", field=name) from None


def composition_rules() -> CompositionRules:
    """The DUG size rules from the settings (R-DUG-2)."""
    s = get_settings()
    return CompositionRules(s.dug_voting_seats, s.dug_liaisons_min, s.dug_liaisons_max)


def decision_rules() -> DecisionRules:
    """Quorum and majority from the settings."""
    s = get_settings()
    return DecisionRules(
        quorum=Threshold(_fraction(s.dug_quorum, "dug_quorum"), s.dug_quorum_inclusive),
        quorum_base=QuorumBase(s.dug_quorum_base),
        majority=Threshold(_fraction(s.dug_majority, "dug_majority"), s.dug_majority_inclusive),
    )


def to_member(m: DugMember) -> Member:
    return Member(
        id=m.id,
        person_id=m.user_id,
        name=m.name,
        organisation_id=m.organisation_id,
        seat=SeatKind(m.seat),
        community=Community(m.community),
        technical_experience=m.technical_experience,
        term_start=m.term_start,
        term_end=m.term_end,
        is_chair=m.is_chair,
    )


def _actor_id(actor: Principal | None) -> int | None:
    return None if actor is None else actor.user_id


# --------------------------------------------------------------------------- charter


def adopt_charter(
    session: Session,
    actor: Principal,
    text: CharterText,
    effective_from: date,
    note: str = "",
) -> DugCharter:
    """Adopt a new charter version (R-DUG-1); earlier versions are kept unchanged.

    The first version founds the DUG (there is nobody yet to decide); every later one is the
    DUG's own decision: a passed ``adopt_charter`` motion on ``charter``/<its version number>.
    A new version may not take effect before the latest one (R-DUG-1), so that
    :func:`charter_in_force` has one answer for every day."""
    actor.require(Permission.GOVERNANCE_MANAGE)
    existing = [(v.version, v.effective_from) for v in repo.charters(session)]
    try:
        clean = validate_charter(text)
        check_charter_effective(existing, effective_from)
    except GovernanceError as err:
        raise _invalid(err) from None
    number = next_charter_version(num for num, _ in existing)
    motion_id = None
    if number > 1:
        motion_id = require_decision(session, MotionKind.adopt_charter, "charter", number).id
    charter = DugCharter(
        version=number,
        role=clean.role,
        chair_appointment=clean.chair_appointment,
        communication_lines=clean.communication_lines,
        effective_from=effective_from,
        note=note.strip(),
        adopted_by_id=_actor_id(actor),
    )
    session.add(charter)
    session.flush()
    record_event(
        session,
        "charter:adopted",
        actor=actor,
        subject_type="charter",
        subject_id=number,
        data={"version": number, "effective_from": effective_from.isoformat(), "motion_id": motion_id},
        public=True,
    )
    record_publication(
        session,
        "charter",
        f"DUG charter version {number}",
        f"/governance/charter/{number}",
        {
            "version": number,
            "effective_from": effective_from.isoformat(),
            "role": clean.role,
            "chair_appointment": clean.chair_appointment,
            "communication_lines": clean.communication_lines,
            "motion_id": motion_id,
        },
        actor=actor,
    )
    return charter


def charter_in_force(session: Session, on: date) -> DugCharter | None:
    """The charter version in force on ``on`` (R-DUG-1), or None before the first one."""
    charters = repo.charters(session)
    number = version_in_force(((c.version, c.effective_from) for c in charters), on)
    return next((c for c in charters if c.version == number), None)


# --------------------------------------------------------------------------- membership


@dataclass(frozen=True)
class RosterStatus:
    serving: list[DugMember]
    issues: list[CompositionIssue]
    rules: CompositionRules

    @property
    def complete(self) -> bool:
        return not self.issues


def roster_status(session: Session, today: date) -> RosterStatus:
    """Who serves today and how the roster falls short of the rules, if at all."""
    rules = composition_rules()
    everyone = repo.memberships(session)
    serving = [m for m in everyone if to_member(m).serving_on(today)]
    issues = completeness_issues([to_member(m) for m in everyone], rules, today)
    return RosterStatus(serving, issues, rules)


def _check_roster(current: list[Member], proposed: list[Member]) -> None:
    try:
        check_change(current, proposed, composition_rules())
    except GovernanceError as err:
        raise _invalid(err) from None


def add_member(
    session: Session,
    actor: Principal,
    *,
    user_id: int,
    seat: str,
    community: str,
    technical_experience: str,
    term_start: date,
    term_end: date | None = None,
    is_chair: bool = False,
    organisation_id: int | None = None,
) -> DugMember:
    """Seat a person on the DUG; the composition rules are checked first (R-DUG-2)."""
    actor.require(Permission.GOVERNANCE_MANAGE)
    user = session.get(User, user_id)
    if user is None:
        raise Invalid("No such user.", field="user_id")
    if not user.active:
        raise Invalid(f"{user.email} is disabled: enable the account before seating it.", field="user_id")
    try:
        seat_kind = SeatKind(seat)
    except ValueError:
        raise Invalid("Seat must be 'voting' or 'liaison'.", field="seat") from None
    try:
        comm = Community(community)
    except ValueError:
        raise Invalid(
            "Community must be 'cctld', 'gtld' or 'technical'.", field="community"
        ) from None
    # R-DUG-3: a member's "own organisation" is the one of their account, by which disputes and
    # urgent reviews recuse them; a seat for another would let motions recuse by a different one
    org_id = user.organisation_id
    if organisation_id is not None and organisation_id != org_id:
        if session.get(Organisation, organisation_id) is None:
            raise Invalid("No such organisation.", field="organisation_id")
        raise Invalid(
            "A member sits for their own organisation, the one of their account: recusal "
            "(R-DUG-3) follows it everywhere.", field="organisation_id",
        )
    everyone = repo.memberships(session)
    current = [to_member(m) for m in everyone]
    new = Member(
        id=-1,
        person_id=user.id,
        name=user.name,
        organisation_id=org_id,
        seat=seat_kind,
        community=comm,
        technical_experience=technical_experience.strip(),
        term_start=term_start,
        term_end=term_end,
        is_chair=is_chair,
    )
    _check_roster(current, [*current, new])
    row = DugMember(
        user_id=user.id,
        name=user.name,
        organisation_id=org_id,
        seat=seat_kind.value,
        community=comm.value,
        technical_experience=new.technical_experience,
        term_start=term_start,
        term_end=term_end,
        is_chair=is_chair,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "dug_member:added",
        actor=actor,
        subject_type="dug_member",
        subject_id=row.id,
        data={
            "name": row.name,
            "seat": row.seat,
            "community": row.community,
            "chair": is_chair,
            "term_start": term_start.isoformat(),
            "term_end": term_end.isoformat() if term_end else None,
        },
        public=True,
    )
    return row


def change_member(
    session: Session,
    actor: Principal,
    member_id: int,
    *,
    term_end: date | None = None,
    clear_term_end: bool = False,
    is_chair: bool | None = None,
    technical_experience: str | None = None,
) -> DugMember:
    """End or extend a term, appoint or stand down the chair, update recorded experience."""
    actor.require(Permission.GOVERNANCE_MANAGE)
    row = repo.membership(session, member_id)
    if row is None:
        raise NotFound("No such DUG member.")
    everyone = repo.memberships(session)
    current = [to_member(m) for m in everyone]
    before = to_member(row)
    after = Member(
        id=before.id,
        person_id=before.person_id,
        name=before.name,
        organisation_id=before.organisation_id,
        seat=before.seat,
        community=before.community,
        technical_experience=(
            technical_experience.strip()
            if technical_experience is not None
            else before.technical_experience
        ),
        term_start=before.term_start,
        term_end=None
        if clear_term_end
        else (term_end if term_end is not None else before.term_end),
        is_chair=before.is_chair if is_chair is None else is_chair,
    )
    _check_roster(current, [after if m.id == row.id else m for m in current])
    row.term_end = after.term_end
    row.is_chair = after.is_chair
    row.technical_experience = after.technical_experience
    session.flush()
    record_event(
        session,
        "dug_member:changed",
        actor=actor,
        subject_type="dug_member",
        subject_id=row.id,
        data={
            "name": row.name,
            "chair": row.is_chair,
            "term_end": row.term_end.isoformat() if row.term_end else None,
        },
        public=True,
    )
    return row


def recused_user_ids(
    session: Session, party_organisation_ids: Collection[int], on: date
) -> set[int]:
    """Users serving on the DUG who must recuse from a matter with these parties (R-DUG-3).

    By DUG membership (the seat's organisation). Disputes and urgent reviews decide recusal from
    the signed-in user's organisation instead (``disputes.domain.is_recused``,
    ``systemic.service.recused``); a seat takes the user's organisation unless one is given
    when the member is added.
    """
    members = [to_member(m) for m in repo.serving(session, on)]
    return {m.person_id for m in recused_members(members, party_organisation_ids, on)}


def serving_member(session: Session, principal: Principal, on: date) -> DugMember | None:
    """The viewer's current DUG membership, if any."""
    if principal.user_id is None:
        return None
    return repo.membership_of_user(session, principal.user_id, on)


# --------------------------------------------------------------------------- motions


def today_utc() -> date:
    return utcnow().date()


def moment(today: date | None) -> datetime:
    """When an action dated ``today`` happened: now, or noon UTC of a back-dated day (demo
    data and imports record history on the day it happened)."""
    now = utcnow()
    if today is None or today == now.date():
        return now
    return datetime.combine(today, time(12), tzinfo=UTC)


def subject_parties(session: Session, subject_type: str, subject_id: str) -> tuple[set[int], bool]:
    """The parties a motion's subject has of its own, and whether its record is confidential:
    a dispute's complainant and the IFM (R-DSP-7); an urgent review's operator concerned and the
    IFM; a possible systemic failure (a signal) the IFM. A motion on them takes these parties
    whatever the proposer names, so that the members they employ are recused from it (R-DUG-3).
    One on a dispute or a review is confidential, as their records are (seen by the DUG members
    not recused and by the parties); the DUG's determination of a systemic failure is not."""
    if not subject_id.isdigit() or not 0 < int(subject_id) <= 2**31 - 1:
        return set(), False
    if subject_type == "systemic-signal":
        return set(registry_repo.ifm_organisation_ids(session)), False
    if subject_type == "dispute":
        from steward.disputes.models import DisputeCase

        case = session.get(DisputeCase, int(subject_id))
        if case is None:
            return set(), False
        return {case.complainant_org_id, *registry_repo.ifm_organisation_ids(session)}, True
    if subject_type == "urgent_review":
        from steward.systemic import service as systemic
        from steward.systemic.models import Review

        review = session.get(Review, int(subject_id))
        if review is None:
            return set(), False
        return set(systemic.parties(session, review.operator_org_id)), True
    return set(), False


def propose_motion(
    session: Session,
    actor: Principal,
    *,
    kind: str,
    title: str,
    text: str,
    subject_type: str = "",
    subject_id: str | int = "",
    party_organisation_ids: Iterable[int] = (),
    confidential: bool = False,
    today: date | None = None,
) -> DugMotion:
    """Put a motion to the DUG. Only a serving voting member (or the chair) proposes one.

    ``party_organisation_ids`` are the organisations party to the matter: their members
    are recused from the motion automatically (R-DUG-3).
    """
    today = today or today_utc()
    try:
        motion_kind = MotionKind(kind)
    except ValueError:
        raise Invalid(f"Unknown motion kind {kind!r}.", field="kind") from None
    if not title.strip():
        raise Invalid("A motion needs a title.", field="title")
    if not text.strip():
        raise Invalid("A motion needs its text.", field="text")
    member = serving_member(session, actor, today)
    own_parties, confidential_subject = subject_parties(session, subject_type, str(subject_id).strip())
    parties = set(party_organisation_ids) | own_parties
    confidential = confidential or confidential_subject
    if member is None or member.seat != SeatKind.voting.value:
        raise Forbidden("Only a serving voting member of the DUG can propose a motion.")
    if member.organisation_id is not None and member.organisation_id in parties:
        raise Forbidden("You are recused from this matter: your organisation is a party (R-DUG-3).")
    for org_id in parties:
        if session.get(Organisation, org_id) is None:
            raise Invalid(f"No organisation with id {org_id}.", field="party_organisation_ids")
    motion = DugMotion(
        kind=motion_kind.value,
        title=title.strip(),
        text=text.strip(),
        subject_type=subject_type,
        subject_id=str(subject_id),
        confidential=confidential,
        state=MotionState.open.value,
        proposed_by_id=actor.user_id,
        opened_at=moment(today),
        parties=[DugMotionParty(organisation_id=o) for o in sorted(parties)],
    )
    session.add(motion)
    session.flush()
    record_event(
        session,
        "motion:proposed",
        actor=actor,
        subject_type="motion",
        subject_id=motion.id,
        data={
            "kind": motion.kind,
            "title": motion.title,
            "subject": f"{subject_type}:{subject_id}",
        },
        public=not confidential,
    )
    for m in repo.serving(session, today):
        if m.organisation_id is not None and m.organisation_id in parties:
            continue
        user = session.get(User, m.user_id)
        if user is not None and user.active:
            enqueue_email(
                session,
                user.email,
                f"[DUG] Motion #{motion.id}: {motion.title}",
                f"A motion was put to the DUG: {MOTION_KIND_LABELS[motion_kind]}.\n\n"
                f"{get_settings().base_url}/governance/motions/{motion.id}\n",
                key=f"motion-proposed:{motion.id}:{user.id}",
            )
    return motion


def readable_motion(
    session: Session,
    principal: Principal,
    motion_id: int,
    today: date | None = None,
    *,
    for_update: bool = False,
) -> DugMotion:
    """A motion the viewer may see, or 404 (confidential motions hide from the recused).

    ``for_update`` locks the row (PostgreSQL) so that a vote and the close that counts the
    votes cannot interleave; SQLite already serialises writers.
    """
    member = serving_member(session, principal, today or today_utc())
    stmt = repo.readable_motions(member, principal.organisation_id).where(DugMotion.id == motion_id)
    if for_update:
        stmt = stmt.with_for_update(of=DugMotion)
    motion = session.scalar(stmt)
    if motion is None:
        raise NotFound("No such motion.")
    return motion


def list_motions(
    session: Session, principal: Principal, state: str | None = None, today: date | None = None
) -> list[DugMotion]:
    if state is not None and state not in {s.value for s in MotionState}:
        known = ", ".join(s.value for s in MotionState)
        raise Invalid(f"Unknown state {state!r} (known: {known}).", field="state")
    member = serving_member(session, principal, today or today_utc())
    stmt = repo.motions(repo.readable_motions(member, principal.organisation_id), state)
    return list(session.scalars(stmt))


def _members(session: Session) -> list[Member]:
    return [to_member(m) for m in repo.memberships(session)]


def cast_vote(
    session: Session, actor: Principal, motion_id: int, choice: str, today: date | None = None
) -> DugVote:
    """Record the actor's vote; liaisons and recused members are refused (R-DUG-2, R-DUG-3)."""
    today = today or today_utc()
    motion = readable_motion(session, actor, motion_id, today, for_update=True)
    if motion.state != MotionState.open.value:
        raise Conflict("This motion is closed.")
    try:
        ch = Choice(choice)
    except ValueError:
        raise Invalid("Vote 'yes', 'no' or 'abstain'.", field="choice") from None
    row = serving_member(session, actor, today)
    if row is None:
        raise Forbidden("Only serving DUG members vote.")
    try:
        check_can_vote(
            to_member(row),
            motion.party_organisation_ids,
            {v.member_id for v in motion.votes},
            today,
        )
    except GovernanceError as err:
        raise Forbidden(err.message) from None
    vote = DugVote(motion_id=motion.id, member_id=row.id, choice=ch.value, cast_at=moment(today))
    try:
        with session.begin_nested():
            session.add(vote)
    except IntegrityError:
        raise Conflict(f"{row.name} has already voted on this motion.") from None
    session.refresh(motion)
    record_event(
        session,
        "motion:voted",
        actor=actor,
        subject_type="motion",
        subject_id=motion.id,
        data={"member": row.name, "choice": ch.value},
        public=not motion.confidential,
    )
    ballots = [Ballot(v.member_id, Choice(v.choice)) for v in motion.votes]
    if all_eligible_have_voted(ballots, _members(session), motion.party_organisation_ids, today):
        _close(session, actor, motion, today)
    return vote


def comment(
    session: Session, actor: Principal, motion_id: int, text: str, today: date | None = None
) -> DugMotionComment:
    """Voting members and liaisons may comment on an open motion; recused members may not."""
    today = today or today_utc()
    motion = readable_motion(session, actor, motion_id, today)
    if not text.strip():
        raise Invalid("The comment is empty.", field="text")
    row = serving_member(session, actor, today)
    if row is None:
        raise Forbidden("Only serving DUG members and liaisons comment on motions.")
    try:
        check_can_comment(to_member(row), motion.party_organisation_ids, today)
    except GovernanceError as err:
        raise Forbidden(err.message) from None
    c = DugMotionComment(
        motion_id=motion.id, member_id=row.id, text=text.strip(), created_at=moment(today)
    )
    session.add(c)
    session.flush()
    record_event(
        session,
        "motion:commented",
        actor=actor,
        subject_type="motion",
        subject_id=motion.id,
        data={"member": row.name, "seat": row.seat},
        public=not motion.confidential,
    )
    return c


def current_tally(session: Session, motion: DugMotion, today: date | None = None) -> Tally:
    """The count so far (or the final count of a closed motion, recomputed for display)."""
    ballots = [Ballot(v.member_id, Choice(v.choice)) for v in motion.votes]
    return tally(
        ballots,
        _members(session),
        motion.party_organisation_ids,
        decision_rules(),
        today or today_utc(),
    )


def eligible_for(session: Session, motion: DugMotion, today: date) -> list[DugMember]:
    ids = {m.id for m in eligible_voters(_members(session), motion.party_organisation_ids, today)}
    return [m for m in repo.serving(session, today) if m.id in ids]


def _close(session: Session, actor: Principal | None, motion: DugMotion, today: date) -> DugMotion:
    result = current_tally(session, motion, today)
    now = moment(today)
    # compare-and-set: two concurrent closes cannot both decide the motion
    changed = session.execute(
        update(DugMotion)
        .where(DugMotion.id == motion.id, DugMotion.state == MotionState.open.value)
        .values(
            state=result.state.value,
            closed_at=now,
            result_rule=result.rule,
            result={
                "yes": result.yes,
                "no": result.no,
                "abstain": result.abstain,
                "eligible": result.eligible,
                "voting_members": result.voting_members,
                "quorum_needed": result.quorum_needed,
                "quorum_met": result.quorum_met,
                "majority_needed": result.majority_needed,
                "votes": [{"member": v.member.name, "choice": v.choice} for v in motion.votes],
            },
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This motion was already closed.")
    session.refresh(motion)
    record_event(
        session,
        f"motion:{result.state.value}",
        actor=actor,
        subject_type="motion",
        subject_id=motion.id,
        data={"rule": result.rule, **motion.result},
        public=not motion.confidential,
    )
    if not motion.confidential:
        record_publication(
            session,
            "dug_decision",
            f"DUG decision #{motion.id}: {motion.title} — {result.state.value}",
            f"/governance/motions/{motion.id}",
            {
                "kind": motion.kind,
                "title": motion.title,
                "text": motion.text,
                "state": motion.state,
                "rule": motion.result_rule,
                "result": motion.result,
            },
            actor=actor,
            summary=result.rule,
        )
    return motion


def close_motion(
    session: Session, actor: Principal, motion_id: int, today: date | None = None
) -> DugMotion:
    """The chair closes the vote; the tally decides and states the rule that decided it."""
    today = today or today_utc()
    motion = readable_motion(session, actor, motion_id, today, for_update=True)
    row = serving_member(session, actor, today)
    if row is None or not row.is_chair:
        raise Forbidden("Only the DUG chair closes a vote.")
    if motion.state != MotionState.open.value:
        raise Conflict("This motion is already closed.")
    return _close(session, actor, motion, today)


def withdraw_motion(
    session: Session, actor: Principal, motion_id: int, today: date | None = None
) -> DugMotion:
    """The proposer or the chair withdraws an open motion."""
    today = today or today_utc()
    motion = readable_motion(session, actor, motion_id, today, for_update=True)
    row = serving_member(session, actor, today)
    if row is None or not (row.is_chair or motion.proposed_by_id == actor.user_id):
        raise Forbidden("Only the proposer or the chair withdraws a motion.")
    changed = session.execute(
        update(DugMotion)
        .where(DugMotion.id == motion.id, DugMotion.state == MotionState.open.value)
        .values(
            state=MotionState.withdrawn.value, closed_at=moment(today), result_rule="Withdrawn."
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This motion is already closed.")
    session.refresh(motion)
    record_event(
        session,
        "motion:withdrawn",
        actor=actor,
        subject_type="motion",
        subject_id=motion.id,
        public=not motion.confidential,
    )
    return motion


def require_decision(
    session: Session, kind: MotionKind | str, subject_type: str, subject_id: str | int
) -> DugMotion:
    """The passed DUG decision authorising ``kind`` on a subject, or :class:`Conflict`.

    Call it in a service before carrying out a DUG action, e.g.::

        motion = governance.require_decision(session, MotionKind.engage_mediator,
                                             "dispute", dispute.id)
    """
    kind_value = MotionKind(kind).value
    found = repo.passed_decisions(session, kind_value, subject_type, str(subject_id))
    if not found:
        label = MOTION_KIND_LABELS[MotionKind(kind_value)]
        raise Conflict(
            f"This needs a passed DUG decision: {label!r} on {subject_type} {subject_id}. "
            "Put a motion to the DUG first."
        )
    return found[0]


def decisions_for(session: Session, subject_type: str, subject_id: str | int) -> list[DugMotion]:
    """Every motion on a subject, newest first (for other contexts' pages)."""
    stmt = (
        select(DugMotion)
        .where(DugMotion.subject_type == subject_type, DugMotion.subject_id == str(subject_id))
        .order_by(DugMotion.id.desc())
    )
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------- reminders


def remind_terms_ending(session: Session, now: datetime) -> str:
    """Periodic task: email the member and the chair about terms ending soon (idempotent)."""
    today = now.date()
    window = get_settings().governance_reminder_days
    members = _members(session)
    ending = terms_ending(members, today, window)
    chairs = [m for m in repo.serving(session, today) if m.is_chair]
    sent = 0
    for m in ending:
        row = repo.membership(session, m.id)
        if row is None:
            continue
        recipients = {row.user_id, *(c.user_id for c in chairs)}
        for uid in recipients:
            user = session.get(User, uid)
            if user is None or not user.active:
                continue
            if enqueue_email(
                session,
                user.email,
                f"[DUG] Term of {m.name} ends on {m.term_end}",
                f"The DUG term of {m.name} ({m.seat.value} seat) ends on {m.term_end}.\n"
                f"{get_settings().base_url}/governance\n",
                key=f"dug-term-ending:{m.id}:{m.term_end}:{uid}",
            ):
                sent += 1
    return f"{sent} term reminder(s) queued"


def upcoming_term_ends(session: Session, today: date, days: int) -> list[Member]:
    return terms_ending(_members(session), today, days)
