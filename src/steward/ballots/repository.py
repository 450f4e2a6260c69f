"""Every query of the ballots context.

Ballots themselves are public (the matter, the option, the rules). Votes are not: the only reads
of ``ballot_vote`` are the voter's own "has my organisation voted" (never the choice) and the
tally at the close, which publishes anonymous receipt leaves instead.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from steward.accounts.models import User, UserRole
from steward.ballots.models import Ballot, Elector, ReceiptLeaf, Vote
from steward.registry.models import Organisation


def readable_statement() -> Select[Ballot]:
    """Every ballot is public: the matter, the option, the rules and, after the close, the tally."""
    return select(Ballot)


def ballots(session: Session) -> list[Ballot]:
    return list(session.scalars(readable_statement().order_by(Ballot.id.desc())))


def ballot(session: Session, ballot_id: int) -> Ballot | None:
    return session.scalar(readable_statement().where(Ballot.id == ballot_id))


def ballot_locked(session: Session, ballot_id: int, *, exclusive: bool) -> Ballot | None:
    """The ballot with a row lock (PostgreSQL; SQLite transactions are serial anyway): votes take
    it shared, the close exclusive, so a vote in flight is either counted or sees the close."""
    stmt = readable_statement().where(Ballot.id == ballot_id).with_for_update(read=not exclusive)
    return session.scalar(stmt.execution_options(populate_existing=True))


def ballots_on(session: Session, matter_type: str, matter_id: int, option: str | None = None) -> list[Ballot]:
    stmt = readable_statement().where(Ballot.matter_type == matter_type, Ballot.matter_id == matter_id)
    if option is not None:
        stmt = stmt.where(Ballot.option == option)
    return list(session.scalars(stmt.order_by(Ballot.id)))


def elector(session: Session, ballot_id: int, org_id: int) -> Elector | None:
    return session.get(Elector, (ballot_id, org_id))


def add_electors(session: Session, ballot_id: int, rows: list[tuple[int, bool, bool]]) -> None:
    session.add_all(Elector(ballot_id=ballot_id, organisation_id=o, cctld=c, gtld=g) for o, c, g in rows)


def own_votes(session: Session, ballot_id: int, org_id: int) -> list[Vote]:
    """The voter's own vote rows (the page shows only which chambers were voted and when)."""
    return list(session.scalars(
        select(Vote).where(Vote.ballot_id == ballot_id, Vote.organisation_id == org_id)
    ))


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
