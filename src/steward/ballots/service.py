"""Consent ballot use cases (R-ESC-1): open, vote, close and tally, verify receipts, execute.

Votes are secret until the close: no function here returns a choice before the ballot is closed,
and after the close only the tally and the anonymous receipt leaves are published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.accounts import service as accounts
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.ballots import domain, emails, repository
from steward.ballots.domain import BallotError, Choice, Leaf, MatterKind, ReceiptLog, Rules, Status
from steward.ballots.models import Ballot
from steward.config import get_settings
from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import record_event, record_publication
from steward.outbox import enqueue_email
from steward.registry import repository as registry_repository
from steward.registry.domain import Chamber


def _invalid(err: BallotError) -> Invalid:
    return Invalid(err.message, field=err.field)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_of(moment: datetime, field: str) -> datetime:
    """A moment given for a new ballot, in UTC; one past the last moment there is (9999-12-31
    23:59 at a negative offset) is refused naming ``field``."""
    try:
        return _utc(moment)
    except OverflowError:
        raise BallotError(f"{moment.isoformat()} is out of range", field) from None


class _HasRules(Protocol):
    """A ballot, or the row of its rules that a vote reads."""

    @property
    def opens_at(self) -> datetime: ...
    @property
    def closes_at(self) -> datetime: ...
    @property
    def quorum_percent(self) -> int: ...
    @property
    def majority_percent(self) -> int: ...
    @property
    def closed(self) -> bool: ...


def rules_of(ballot: _HasRules) -> Rules:
    return Rules(opens_at=_utc(ballot.opens_at), closes_at=_utc(ballot.closes_at),
                 quorum_percent=ballot.quorum_percent, majority_percent=ballot.majority_percent)


def status_of(ballot: _HasRules, now: datetime) -> Status:
    return domain.status(rules_of(ballot), ballot.closed, now)


def sizes_of(ballot: Ballot) -> dict[Chamber, int]:
    return {Chamber.CCTLD: ballot.electorate_cctld, Chamber.GTLD: ballot.electorate_gtld}


MAX_ID = 2**31 - 1


def get(session: Session, ballot_id: int, *, lock: bool = False) -> Ballot:
    """The ballot, or 404; ``lock`` takes its row exclusively (the close)."""
    if not 0 < ballot_id <= MAX_ID:
        row = None
    elif not lock:
        row = repository.ballot(session, ballot_id)
    else:
        row = repository.ballot_locked(session, ballot_id)
    if row is None:
        raise NotFound(f"no ballot #{ballot_id}")
    return row


# ----------------------------------------------------------------------------- matters


@dataclass(frozen=True)
class Matter:
    kind: MatterKind
    id: int
    title: str
    url: str


def matter(session: Session, matter_type: str, matter_id: int) -> Matter:
    """The matter a ballot is about, if it is eligible for the Further Escalation Options: a
    dispute whose IAP outcome allows it (R-DSP-6) or an urgent review (R-SYS-2)."""
    kind = _matter_kind(matter_type)
    if not 0 < matter_id <= MAX_ID:
        raise Invalid(f"no {kind.value.replace('_', ' ')} #{matter_id}", field="matter_id")
    if kind is MatterKind.DISPUTE:
        from steward.disputes import domain as disputes_domain
        from steward.disputes.models import DisputeCase

        case = session.get(DisputeCase, matter_id)
        if case is None:
            raise Invalid(f"no dispute #{matter_id}", field="matter_id")
        if disputes_domain.Stage(case.stage) not in disputes_domain.FURTHER_ESCALATION_ELIGIBLE:
            raise Conflict(f"dispute {case.reference} is not eligible for the Further Escalation "
                           "Options: only after an IAP finding of a breach not capable of remedy, "
                           "or a remedy not made in time (R-DSP-6)")
        return Matter(kind, case.id, f"Dispute {case.reference}", f"/disputes/{case.id}")
    from steward.systemic import service as systemic_service

    review = systemic_service.review_by_id(session, matter_id)
    if review is None:
        raise Invalid(f"no urgent review #{matter_id}", field="matter_id")
    if not systemic_service.escalation_eligible(review):
        raise Conflict(f"urgent review #{review.id} is not eligible for the Further Escalation "
                       "Options: only after an IAP finding of a breach not capable of remedy, or "
                       "a remedy not made in time")
    return Matter(kind, review.id, f"Urgent review #{review.id}: {review.title}",
                  f"/systemic/reviews/{review.id}")


def _manage_refusal(session: Session, actor: Principal, kind: MatterKind, matter_id: int) -> str | None:
    """Why ``actor`` may not take the DUG's steps on consent ballots about this matter (open one,
    execute the option consented to), or None. They are the chair's (``ballot:manage``); whose
    organisation is a party to the matter (a dispute's complainant, an urgent review's operator
    concerned, and the IFM in both) is recused (R-DUG-3); when every chair is, a DUG member who
    is not stands in for the chair, as on the matter itself."""
    from steward.governance.service import subject_parties

    matter_parties, _confidential = subject_parties(session, kind.value, str(matter_id))
    # one answer whatever the reason: telling a member "recused" would tell them who the matter's
    # parties are, which a review they may not read keeps from them
    refusal = ("Consent ballots on this matter are not yours to manage: they are the DUG chair's, or "
               "a DUG member's standing in when every chair is recused; whose organisation is a party "
               "to the matter is recused (R-DUG-3).")
    if actor.organisation_id is not None and actor.organisation_id in matter_parties:
        return refusal
    if actor.has(Permission.BALLOT_MANAGE):
        return None
    if actor.has_role(Role.DUG_MEMBER) and accounts.chairs_recused(session, matter_parties):
        return None
    return refusal


def may_manage(session: Session, actor: Principal, ballot_or_matter: Ballot | tuple[MatterKind, int]) -> bool:
    """Whether the page offers ``actor`` the DUG's steps on this ballot or matter."""
    if isinstance(ballot_or_matter, Ballot):
        kind, matter_id = MatterKind(ballot_or_matter.matter_type), ballot_or_matter.matter_id
    else:
        kind, matter_id = ballot_or_matter
    return _manage_refusal(session, actor, kind, matter_id) is None


def _require_manage(session: Session, actor: Principal, kind: MatterKind, matter_id: int) -> None:
    refusal = _manage_refusal(session, actor, kind, matter_id)
    if refusal is not None:
        raise Forbidden(refusal)


def _matter_kind(matter_type: str) -> MatterKind:
    try:
        return MatterKind(matter_type)
    except ValueError:
        raise Invalid("the matter is a dispute or an urgent_review", field="matter_type") from None


def matter_of(session: Session, ballot: Ballot) -> dict[str, Any]:
    """What the ballot page says about its matter (title and link only)."""
    kind = MatterKind(ballot.matter_type)
    if kind is MatterKind.DISPUTE:
        return {"type": kind.value, "id": ballot.matter_id, "title": f"Dispute #{ballot.matter_id}",
                "url": f"/disputes/{ballot.matter_id}"}
    return {"type": kind.value, "id": ballot.matter_id, "title": f"Urgent review #{ballot.matter_id}",
            "url": f"/systemic/reviews/{ballot.matter_id}"}


# ----------------------------------------------------------------------------- open


def open_ballot(
    session: Session,
    actor: Principal,
    *,
    matter_type: str,
    matter_id: int,
    option: str,
    description: str = "",
    title: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime,
    now: datetime,
) -> Ballot:
    """The DUG proposes an option on an eligible matter and opens the ballot of the naming
    customers. The rules (quorum, majority, moments) and the electorate are fixed now. The chair
    opens it, or a DUG member when every chair is recused from the matter (R-DUG-3)."""
    if not actor.has_role(Role.DUG_MEMBER):
        actor.require(Permission.BALLOT_MANAGE)
    settings = get_settings()
    try:
        opt, text = domain.describe_option(option, description)
        opens = _utc_of(opens_at or now, "opens_at")
        rules = Rules(opens_at=opens, closes_at=_utc_of(closes_at, "closes_at"),
                      quorum_percent=settings.ballot_quorum_percent,
                      majority_percent=settings.ballot_majority_percent)
        domain.check_schedule(rules.opens_at, rules.closes_at, now, settings.ballot_min_open_hours,
                              settings.ballot_max_open_days)
    except BallotError as err:
        raise _invalid(err) from None
    # recusal first: a recused member learns nothing of the matter, not even whether it is eligible
    _require_manage(session, actor, _matter_kind(matter_type), matter_id)
    subject = matter(session, matter_type, matter_id)
    from steward.governance import service as governance

    motion = governance.require_decision(session, "proceed_further_escalation", subject.kind.value, subject.id)
    for other in repository.ballots_on(session, subject.kind.value, subject.id, opt.value):
        if not other.closed:
            raise Conflict(f"ballot #{other.id} on this option is still open")
    voters = domain.electorate(registry_repository.operator_chambers(session))
    sizes = domain.electorate_sizes(voters.values())
    ballot = Ballot(
        title=" ".join(title.split()) or f"{opt.label} — {subject.title}",
        matter_type=subject.kind.value, matter_id=subject.id, option=opt.value, description=text,
        opens_at=rules.opens_at, closes_at=rules.closes_at, quorum_percent=rules.quorum_percent,
        majority_percent=rules.majority_percent, electorate_cctld=sizes[Chamber.CCTLD],
        electorate_gtld=sizes[Chamber.GTLD], motion_id=motion.id, opened_by_id=actor.user_id,
        created_at=now,
    )
    session.add(ballot)
    session.flush()
    repository.add_electors(session, ballot.id, [
        (org, Chamber.CCTLD in ch, Chamber.GTLD in ch) for org, ch in sorted(voters.items())
    ])
    session.flush()
    record_event(session, "ballot:opened", actor=actor, subject_type="ballot", subject_id=ballot.id,
                 data={"matter": f"{subject.kind.value}:{subject.id}", "option": opt.value,
                       "rules": rules.describe(), "electorate": {c.value: n for c, n in sizes.items()},
                       "motion": motion.id}, public=True)
    _email_electors(session, ballot, "opened")
    return ballot


def _email_electors(session: Session, ballot: Ballot, message: str, voted: dict[int, set[str]] | None = None) -> int:
    """Queue ``message`` to every elector's contacts (contact address and operator staff)."""
    rules = rules_of(ballot).describe()
    sent = 0
    for org_id, (name, cc, g, addresses) in repository.elector_contacts(session, ballot.id).items():
        chambers = ", ".join(c for c, on in (("ccTLD", cc), ("gTLD", g)) if on)
        subject, text = emails.render(message, {
            "ballot": ballot, "option_label": domain.Option(ballot.option).label,
            "organisation": name, "chambers": chambers, "rules": rules,
            "voted": ", ".join(sorted((voted or {}).get(org_id, set()))),
        })
        for address in sorted(addresses):
            if enqueue_email(session, address, subject, text, key=f"ballot:{ballot.id}:{message}:{address}"):
                sent += 1
    return sent


# ----------------------------------------------------------------------------- vote


@dataclass(frozen=True)
class VoteReceipt:
    """What the voter gets back: the secret code (shown once) and the public receipt ids."""

    ballot_id: int
    code: str
    receipts: dict[str, str]
    changed: bool
    cast_at: datetime


def cast_vote(
    session: Session,
    actor: Principal,
    ballot_id: int,
    *,
    choice: str | None = None,
    chambers: dict[str, str] | None = None,
    now: datetime,
) -> VoteReceipt:
    """An operator's staff vote for their organisation, in each chamber it belongs to; a later
    vote replaces the earlier one (with a new receipt) until the close."""
    actor.require(Permission.BALLOT_VOTE)
    ballot = repository.ballot_for_vote(session, ballot_id) if 0 < ballot_id <= MAX_ID else None
    if ballot is None:
        raise NotFound(f"no ballot #{ballot_id}")
    org_id = actor.organisation_id
    voter = repository.voter(session, ballot.id, org_id) if org_id is not None else None
    voter_chambers = None if voter is None else frozenset(
        c for c, on in ((Chamber.CCTLD, voter.cctld), (Chamber.GTLD, voter.gtld)) if on)
    try:
        picked = domain.split_choice(voter_chambers or frozenset(), choice, chambers)
        domain.check_vote(rules_of(ballot), ballot.closed, now, voter_chambers, picked)
    except BallotError as err:
        if status_of(ballot, now) in (Status.CLOSED, Status.AWAITING_CLOSE):
            raise Conflict(err.message) from None
        raise _invalid(err) from None
    assert org_id is not None and voter is not None
    code = domain.new_receipt_code()
    receipts: dict[str, str] = {}
    new: list[dict[str, object]] = []
    replaced: list[dict[str, object]] = []
    for chamber, c in sorted(picked.items()):
        rid = domain.receipt_id(ballot.id, chamber, code)
        receipts[chamber.value] = rid
        earlier = voter.votes.get(chamber.value)
        if earlier is None:
            new.append({"ballot_id": ballot.id, "organisation_id": org_id, "chamber": chamber.value,
                        "choice": c.value, "receipt": rid, "cast_at": now, "cast_by_id": actor.user_id,
                        "changes": 0})
        else:
            replaced.append({"vote_id": earlier[0], "new_choice": c.value, "new_receipt": rid,
                             "new_cast_at": now, "new_cast_by_id": actor.user_id})
    try:
        repository.record_votes(session, new, replaced)
    except IntegrityError:
        raise Conflict("another vote for your organisation was being recorded at the same moment; "
                       "vote again") from None
    # No audit event per vote: the choice must stay secret, and even who voted when is nobody
    # else's business before the close. The vote row keeps who cast it and when; at the close the
    # receipt tree, whose root the public "ballot:closed" event carries into the archive, commits
    # to every counted vote.
    return VoteReceipt(ballot.id, code, receipts, bool(replaced), now)


def voter_view(session: Session, principal: Principal, ballot: Ballot) -> dict[str, Any] | None:
    """For operator staff: their organisation's chambers and when it voted in each — never the
    choice, which stays secret until the close (also from colleagues)."""
    if principal.organisation_id is None or not principal.has(Permission.BALLOT_VOTE):
        return None
    voter = repository.voter(session, ballot.id, principal.organisation_id)
    if voter is None:
        return {"elector": False, "chambers": [], "voted": {}}
    chambers = [c.value for c, on in ((Chamber.CCTLD, voter.cctld), (Chamber.GTLD, voter.gtld)) if on]
    return {"elector": True, "chambers": chambers, "voted": {c: at for c, (_id, at) in voter.votes.items()}}


# ----------------------------------------------------------------------------- close


def close_ballot(session: Session, actor: Principal | None, ballot_id: int, now: datetime) -> Ballot:
    """After the closing moment: tally per chamber, build the receipt tree and publish both."""
    if actor is not None and not actor.has_role(Role.DUG_MEMBER):
        actor.require(Permission.BALLOT_MANAGE)
    ballot = get(session, ballot_id, lock=True)
    if actor is not None:  # the chair, or a stand-in; never someone recused (R-DUG-3)
        _require_manage(session, actor, MatterKind(ballot.matter_type), ballot.matter_id)
    st = status_of(ballot, now)
    if st is Status.CLOSED:
        raise Conflict(f"ballot #{ballot.id} is already closed")
    if st is not Status.AWAITING_CLOSE:
        raise Conflict(f"ballot #{ballot.id} closes at {ballot.closes_at:%Y-%m-%d %H:%M} UTC; "
                       "votes are accepted until then")
    rules = rules_of(ballot)
    votes = repository.counted_votes(session, ballot.id)
    leaves = [Leaf(r, Chamber(c), Choice(ch)) for r, c, ch in votes]
    result = domain.tally(rules, sizes_of(ballot), ((x.chamber, x.choice) for x in leaves))
    log = ReceiptLog.build(ballot.id, leaves)
    root = log.root().hex()
    if not repository.compare_and_set(
        session, ballot, closed=True, closed_at=now, tally=result.as_dict(), passed=result.passed,
        receipt_root=root, receipt_count=log.size,
    ):
        raise Conflict(f"ballot #{ballot.id} was closed by someone else; reload")
    repository.save_leaves(session, ballot.id, [(x.receipt, x.chamber.value, x.choice.value) for x in log.leaves])
    session.flush()
    content = public_result(ballot)
    record_event(session, "ballot:closed", actor=actor, subject_type="ballot", subject_id=ballot.id,
                 data={"passed": result.passed, "receipt_root": root, "receipts": log.size}, public=True)
    record_publication(
        session, "ballot-result",
        f"Consent ballot #{ballot.id} {'passed' if result.passed else 'did not pass'}: {ballot.title}",
        f"/ballots/{ballot.id}", content, actor=actor,
        summary="; ".join(f"{c['chamber']}: {c['yes']} yes, {c['no']} no, {c['abstain']} abstain of "
                          f"{c['electorate']}" for c in result.as_dict()["chambers"]),  # type: ignore[attr-defined]
    )
    return ballot


def public_result(ballot: Ballot) -> dict[str, Any]:
    """The published result: rules, tally per chamber, and the receipt tree's root and size."""
    return {
        "ballot": ballot.id,
        "title": ballot.title,
        "option": ballot.option,
        "description": ballot.description,
        "rules": rules_of(ballot).describe(),
        "tally": ballot.tally,
        "passed": ballot.passed,
        "receipt_tree": {"size": ballot.receipt_count, "root_hex": ballot.receipt_root},
        "closed_at": ballot.closed_at.isoformat() if ballot.closed_at else None,
    }


def published_leaves(session: Session, ballot: Ballot) -> list[dict[str, Any]]:
    """Every counted vote as an anonymous leaf; only after the close."""
    if not ballot.closed:
        raise NotFound("receipts are published when the ballot closes")
    return [{"index": x.position, "receipt": x.receipt, "chamber": x.chamber, "choice": x.choice}
            for x in repository.leaves(session, ballot.id)]


def receipt_proof(session: Session, ballot: Ballot, receipt: str) -> dict[str, Any]:
    """The inclusion proof of one receipt in the published tree (only after the close)."""
    if not ballot.closed:
        raise NotFound("receipts are published when the ballot closes")
    rows = repository.leaves(session, ballot.id)
    leaves = [Leaf(x.receipt, Chamber(x.chamber), Choice(x.choice)) for x in rows]
    log = ReceiptLog.build(ballot.id, leaves)
    index = log.index_of(receipt.strip().lower())
    if index is None:
        raise NotFound("this receipt is not in the published tally")
    leaf = log.leaves[index]
    proof = log.proof(index)
    domain.verify_receipt(ballot.id, leaf, index, log.size, proof, log.root())
    return {
        "ballot": ballot.id,
        "leaf": {"receipt": leaf.receipt, "chamber": leaf.chamber.value, "choice": leaf.choice.value},
        "leaf_data": leaf.data(ballot.id).decode(),
        "index": index,
        "tree_size": log.size,
        "root": domain.b64(log.root()),
        "root_hex": log.root().hex(),
        "proof": [domain.b64(h) for h in proof],
        "verified": True,
    }


def verify_code(session: Session, ballot: Ballot, code: str) -> list[dict[str, Any]]:
    """With the secret receipt code: the voter's leaf and proof in each chamber it voted in."""
    if not ballot.closed:
        raise NotFound("receipts are published when the ballot closes")
    found = []
    for chamber in domain.CHAMBERS:
        try:
            rid = domain.receipt_id(ballot.id, chamber, code)
        except BallotError as err:
            raise _invalid(err) from None
        try:
            found.append(receipt_proof(session, ballot, rid))
        except NotFound:
            continue
    if not found:
        raise NotFound("no vote with this receipt code is in the published tally "
                       "(a vote changed later gets a new code)")
    return found


# ----------------------------------------------------------------------------- execute


def execute_option(session: Session, actor: Principal, ballot_id: int, note: str, now: datetime) -> Ballot:
    """Record that the DUG executes the option: refused without a passed ballot (R-ESC-1)."""
    if not actor.has_role(Role.DUG_MEMBER):
        actor.require(Permission.BALLOT_MANAGE)
    ballot = get(session, ballot_id)
    _require_manage(session, actor, MatterKind(ballot.matter_type), ballot.matter_id)
    held = [(status_of(b, now), bool(b.passed)) for b in
            repository.ballots_on(session, ballot.matter_type, ballot.matter_id, ballot.option)]
    try:
        domain.check_execute(held)
        if not ballot.closed or not ballot.passed:
            raise BallotError("this ballot did not pass: execute the option from the ballot that passed")
    except BallotError as err:
        raise Conflict(err.message) from None
    if ballot.executed_at is not None:
        raise Conflict("this option was already executed")
    if not repository.compare_and_set(session, ballot, executed_at=now, executed_by_id=actor.user_id,
                                      execution_note=note.strip()):
        raise Conflict("the ballot was changed by someone else; reload")
    record_event(session, "ballot:option-executed", actor=actor, subject_type="ballot",
                 subject_id=ballot.id, data={"option": ballot.option, "note": note.strip()}, public=True)
    return ballot


# ----------------------------------------------------------------------------- periodic


def close_due(session: Session, now: datetime) -> str:
    """Periodic: close and tally every ballot whose closing moment has passed."""
    closed = []
    for ballot in repository.due_to_close(session, now):
        try:
            close_ballot(session, None, ballot.id, now)
        except Conflict:
            continue
        closed.append(ballot.id)
    return f"closed {len(closed)} ballots" if closed else "no ballot to close"


def remind_closing(session: Session, now: datetime) -> str:
    """Periodic: email every elector's contacts once, ``ballot_reminder_hours`` before the close."""
    hours = get_settings().ballot_reminder_hours
    total = 0
    for ballot in repository.open_ballots(session):
        if ballot.reminder_sent or status_of(ballot, now) is not Status.OPEN:
            continue
        if _utc(ballot.closes_at) - timedelta(hours=hours) > now:
            continue
        total += _email_electors(session, ballot, "reminder", repository.voted_chambers(session, ballot.id))
        repository.compare_and_set(session, ballot, reminder_sent=True)
    return f"queued {total} ballot reminders"
