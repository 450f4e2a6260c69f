"""Every query of the ballots context.

Ballots themselves are public (the matter, the option, the rules). Votes are not: the only reads
of ``ballot_vote`` are the voter's own "has my organisation voted" (never the choice) and the
tally at the close, which publishes anonymous receipt leaves instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from steward.accounts.models import User, UserRole
from steward.ballots.models import Ballot, Elector, ReceiptLeaf, Vote
from steward.registry.models import Organisation


def readable_statement() -> Select[Ballot]:
    """Every ballot is public: the matter, the option, the rules and, after the close, the tally."""
    return select(Ballot)


# A vote is the ballots context's hot path (every operator at once, at the close of a campaign):
# its statements are built once, since a reused statement object keeps its cache key and compiled
# form, and building them per request cost more than running them.
_elector_t, _vote_t = Elector.__table__, Vote.__table__
assert isinstance(_vote_t, Table)
_BALLOT = readable_statement().where(Ballot.id == bindparam("ballot_id"))
_BALLOT_LOCKED = _BALLOT.with_for_update().execution_options(populate_existing=True)
# what a vote checks of its ballot, as a plain row, under the shared row lock
_BALLOT_FOR_VOTE = select(
    Ballot.id, Ballot.opens_at, Ballot.closes_at, Ballot.quorum_percent, Ballot.majority_percent, Ballot.closed,
).where(Ballot.id == bindparam("ballot_id")).with_for_update(read=True)
_VOTER = (
    select(_elector_t.c.cctld, _elector_t.c.gtld, _vote_t.c.id, _vote_t.c.chamber, _vote_t.c.cast_at)
    .select_from(_elector_t)
    .outerjoin(_vote_t, and_(_vote_t.c.ballot_id == _elector_t.c.ballot_id,
                             _vote_t.c.organisation_id == _elector_t.c.organisation_id))
    .where(_elector_t.c.ballot_id == bindparam("ballot_id"), _elector_t.c.organisation_id == bindparam("org_id"))
)
_INSERT_VOTE = insert(_vote_t)
_CHANGE_VOTE = update(_vote_t).where(_vote_t.c.id == bindparam("vote_id")).values(
    choice=bindparam("new_choice"), receipt=bindparam("new_receipt"), cast_at=bindparam("new_cast_at"),
    cast_by_id=bindparam("new_cast_by_id"), changes=_vote_t.c.changes + 1)


@dataclass(frozen=True)
class Voter:
    """An elector's chambers and its current votes: {chamber: (vote id, cast at)}; never the choice."""

    cctld: bool
    gtld: bool
    votes: dict[str, tuple[int, datetime]]


def ballots(session: Session) -> list[Ballot]:
    return list(session.scalars(readable_statement().order_by(Ballot.id.desc())))


def ballot(session: Session, ballot_id: int) -> Ballot | None:
    return session.scalar(_BALLOT, {"ballot_id": ballot_id})


def ballot_locked(session: Session, ballot_id: int) -> Ballot | None:
    """The ballot with an exclusive row lock, for the close (PostgreSQL; SQLite transactions are
    serial anyway). Votes take the row shared (:func:`ballot_for_vote`), so a vote in flight is
    either counted or sees the close."""
    return session.scalar(_BALLOT_LOCKED, {"ballot_id": ballot_id})


def ballot_for_vote(session: Session, ballot_id: int) -> Row[int, datetime, datetime, int, int, bool] | None:
    """The ballot's id, rules and ``closed`` flag, with the shared row lock a vote takes."""
    return session.execute(_BALLOT_FOR_VOTE, {"ballot_id": ballot_id}).first()


def ballots_on(session: Session, matter_type: str, matter_id: int, option: str | None = None) -> list[Ballot]:
    stmt = readable_statement().where(Ballot.matter_type == matter_type, Ballot.matter_id == matter_id)
    if option is not None:
        stmt = stmt.where(Ballot.option == option)
    return list(session.scalars(stmt.order_by(Ballot.id)))


def voter(session: Session, ballot_id: int, org_id: int) -> Voter | None:
    """The organisation as an elector of the ballot with its current votes (one statement), or
    None if it is not in the electorate."""
    rows = session.connection().execute(_VOTER, {"ballot_id": ballot_id, "org_id": org_id}).all()
    if not rows:
        return None
    return Voter(bool(rows[0].cctld), bool(rows[0].gtld),
                 {r.chamber: (r.id, r.cast_at) for r in rows if r.id is not None})


def record_votes(session: Session, new: list[dict[str, object]], changed: list[dict[str, object]]) -> None:
    """Insert first votes (``Vote`` columns) and replace earlier ones (``vote_id`` and the
    ``new_*`` values; the change count goes up by one)."""
    if new:
        session.execute(_INSERT_VOTE, new)
    if changed:
        session.execute(_CHANGE_VOTE, changed)


def add_electors(session: Session, ballot_id: int, rows: list[tuple[int, bool, bool]]) -> None:
    session.add_all(Elector(ballot_id=ballot_id, organisation_id=o, cctld=c, gtld=g) for o, c, g in rows)


def counted_votes(session: Session, ballot_id: int) -> list[tuple[str, str, str]]:
    """(receipt, chamber, choice) of every final vote: read only by the tally at the close."""
    rows = session.execute(select(Vote.receipt, Vote.chamber, Vote.choice).where(Vote.ballot_id == ballot_id))
    return [(r, c, ch) for r, c, ch in rows]


def save_leaves(session: Session, ballot_id: int, leaves: list[tuple[str, str, str]]) -> None:
    session.execute(delete(ReceiptLeaf).where(ReceiptLeaf.ballot_id == ballot_id))
    session.add_all(
        ReceiptLeaf(ballot_id=ballot_id, position=i, receipt=r, chamber=c, choice=ch)
        for i, (r, c, ch) in enumerate(leaves)
    )


def leaves(session: Session, ballot_id: int) -> list[ReceiptLeaf]:
    return list(session.scalars(
        select(ReceiptLeaf).where(ReceiptLeaf.ballot_id == ballot_id).order_by(ReceiptLeaf.position)
    ))


def compare_and_set(session: Session, ballot: Ballot, **values: object) -> bool:
    """Update the ballot only if nobody changed it since it was read (version check)."""
    result = session.execute(
        update(Ballot)
        .where(Ballot.id == ballot.id, Ballot.version == ballot.version)
        .values(version=ballot.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0)) != 1:
        return False
    session.refresh(ballot)
    return True


def due_to_close(session: Session, now: object) -> list[Ballot]:
    return list(session.scalars(select(Ballot).where(Ballot.closed.is_(False), Ballot.closes_at <= now)))


def open_ballots(session: Session) -> list[Ballot]:
    return list(session.scalars(select(Ballot).where(Ballot.closed.is_(False))))


def elector_contacts(session: Session, ballot_id: int) -> dict[int, tuple[str, bool, bool, set[str]]]:
    """Every elector: (name, in ccTLD chamber, in gTLD chamber, email addresses) where the
    addresses are the organisation's contact address and its active operator staff users."""
    found: dict[int, tuple[str, bool, bool, set[str]]] = {}
    orgs = session.execute(
        select(Organisation.id, Organisation.name, Organisation.contact_email, Elector.cctld, Elector.gtld)
        .join(Elector, Elector.organisation_id == Organisation.id)
        .where(Elector.ballot_id == ballot_id)
    )
    for org_id, name, email, cc, g in orgs:
        found[org_id] = (name, cc, g, {email} if email else set())
    users = session.execute(
        select(User.organisation_id, User.email)
        .join(Elector, Elector.organisation_id == User.organisation_id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(Elector.ballot_id == ballot_id, User.active, UserRole.role == "operator_staff")
    )
    for user_org, email in users:
        if user_org is not None and user_org in found:
            found[user_org][3].add(email)
    return found


def voted_chambers(session: Session, ballot_id: int) -> dict[int, set[str]]:
    """Which chambers each organisation has voted in (never the choice)."""
    found: dict[int, set[str]] = defaultdict(set)
    for org_id, chamber in session.execute(
        select(Vote.organisation_id, Vote.chamber).where(Vote.ballot_id == ballot_id)
    ):
        found[org_id].add(chamber)
    return found
