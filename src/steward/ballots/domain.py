"""The naming customers' consent ballot on a Further Escalation Option (R-ESC-1).

Pure rules, no I/O:

* the options the DUG may propose (Contract Co, Golden Bylaw, spilling the ICANN Board, other);
* the electorate: every registry operator, one vote in each chamber it belongs to (chambers come
  from :func:`steward.registry.domain.chambers_of`), fixed when the ballot opens;
* the rules (quorum and majority per chamber, opening and closing moments), fixed at opening;
* when a vote may be cast or changed (only while open), and the tally per chamber;
* receipts: a voter's secret receipt code, the public receipt id derived from it, and the RFC 9162
  Merkle tree over every counted vote published at the close (hashing and proofs reused from
  :mod:`steward.archive.merkle`), so that a voter can check its vote is in the published tally
  while the published leaves reveal no one's identity;
* the guard "the DUG cannot execute an option without a passed ballot".

Counting rule (documented in ``docs/ballots.md``): quorum counts every vote returned in a
chamber, abstentions included (``cast * 100 >= quorum_percent * electorate``); consent in a
chamber needs ``yes * 100 > majority_percent * (yes + no)`` (abstentions count for the quorum
but not for the majority). The ballot passes only when every chamber with electors passes and
both chambers (ccTLD and gTLD) have electors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from steward.archive import merkle
from steward.registry.domain import Chamber


class BallotError(ValueError):
    """A ballot rule refused an action; ``field`` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Option(StrEnum):
    """The Further Escalation Options named by the seed (section E), plus another, described."""

    CONTRACT_CO = "contract_co"
    GOLDEN_BYLAW = "golden_bylaw"
    SPILL_BOARD = "spill_board"
    OTHER = "other"

    @property
    def label(self) -> str:
        return OPTION_LABELS[self]


OPTION_LABELS: dict[Option, str] = {
    Option.CONTRACT_CO: "Move the IANA function through a “Contract Co”",
    Option.GOLDEN_BYLAW: "A “Golden Bylaw” amendment",
    Option.SPILL_BOARD: "Spill the ICANN Board",
    Option.OTHER: "Another option (described)",
}


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Status(StrEnum):
    """Where a ballot stands at a moment; ``closed`` once tallied."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    AWAITING_CLOSE = "awaiting_close"
    CLOSED = "closed"


class MatterKind(StrEnum):
    """What makes a matter eligible for the Further Escalation Options (R-DSP-6, R-SYS-2)."""

    DISPUTE = "dispute"
    URGENT_REVIEW = "urgent_review"


CHAMBERS: tuple[Chamber, ...] = (Chamber.CCTLD, Chamber.GTLD)


def describe_option(option: Option | str, description: str) -> tuple[Option, str]:
    """Validate a proposed option; ``other`` must be described. Returns the cleaned pair."""
    try:
        opt = Option(option)
    except ValueError:
        known = ", ".join(o.value for o in Option)
        raise BallotError(f"unknown option '{option}' (known: {known})", "option") from None
    text = " ".join(description.split())
    if opt is Option.OTHER and len(text) < 10:
        raise BallotError("describe the other option (at least 10 characters)", "description")
    if len(text) > 5000:
        raise BallotError("the description is longer than 5000 characters", "description")
    return opt, text


@dataclass(frozen=True)
class Rules:
    """The rules fixed when a ballot opens and shown on it.

    ``quorum_percent``: share of a chamber's electors that must return a vote (abstentions
    count). ``majority_percent``: ``yes`` must exceed this share of ``yes + no``.
    """

    opens_at: datetime
    closes_at: datetime
    quorum_percent: int = 50
    majority_percent: int = 50

    def __post_init__(self) -> None:
        if self.opens_at.tzinfo is None or self.closes_at.tzinfo is None:
            raise BallotError("opening and closing moments need a time zone", "opens_at")
        if self.closes_at <= self.opens_at:
            raise BallotError("the ballot must close after it opens", "closes_at")
        if not 0 <= self.quorum_percent <= 100:
            raise BallotError("quorum must be a percentage between 0 and 100", "quorum_percent")
        if not 50 <= self.majority_percent < 100:
            raise BallotError("majority must be a percentage from 50 to 99", "majority_percent")

    def quorum_needed(self, electorate: int) -> int:
        """Fewest votes that make quorum in a chamber of ``electorate`` electors."""
        return math.ceil(self.quorum_percent * electorate / 100)

    def describe(self) -> list[str]:
        """The rules in words, as shown on the ballot page."""
        return [
            f"Opens {self.opens_at:%Y-%m-%d %H:%M} UTC, closes {self.closes_at:%Y-%m-%d %H:%M} UTC.",
            "One vote per registry operator in each chamber it belongs to (ccTLD, gTLD).",
            f"Quorum in each chamber: at least {self.quorum_percent}% of its electors vote "
            "(abstentions count towards quorum).",
            f"Consent in each chamber: “yes” is more than {self.majority_percent}% of "
            "the yes and no votes.",
            "The option is consented to only if both chambers reach quorum and consent.",
            "Votes stay secret until the close and may be changed until then.",
        ]


def check_schedule(opens_at: datetime, closes_at: datetime, now: datetime, min_hours: int,
                   max_days: int | None = None) -> None:
    """A new ballot may not open in the past, must stay open at least ``min_hours`` and must
    close within ``max_days`` of ``now`` (a closing moment in 9999 is a typing error, and the
    naming customers would wait for ever)."""
    if opens_at < now - timedelta(minutes=5):
        raise BallotError("the opening moment is in the past", "opens_at")
    if closes_at - opens_at < timedelta(hours=min_hours):
        raise BallotError(f"the ballot must stay open at least {min_hours} hours", "closes_at")
    if max_days is not None and closes_at - now > timedelta(days=max_days):
        latest = now + timedelta(days=max_days)
        raise BallotError(f"the ballot must close within {max_days} days, by {latest:%Y-%m-%d %H:%M} UTC "
                          f"(not {closes_at:%Y-%m-%d %H:%M} UTC)", "closes_at")


def electorate(operator_chambers: Mapping[int, frozenset[Chamber]]) -> dict[int, frozenset[Chamber]]:
    """The electorate fixed at opening: operators with at least one chamber, and their chambers."""
    return {org: ch for org, ch in operator_chambers.items() if ch}


def electorate_sizes(voters: Iterable[frozenset[Chamber]]) -> dict[Chamber, int]:
    """Electors per chamber; an operator in both chambers counts once in each."""
    sizes = dict.fromkeys(CHAMBERS, 0)
    for chambers in voters:
        for c in chambers:
            sizes[c] += 1
    return sizes


def status(rules: Rules, closed: bool, now: datetime) -> Status:
    """Scheduled before opening, open until the closing moment, then awaiting the tally."""
    if closed:
        return Status.CLOSED
    if now < rules.opens_at:
        return Status.SCHEDULED
    if now < rules.closes_at:
        return Status.OPEN
    return Status.AWAITING_CLOSE


def check_vote(
    rules: Rules,
    closed: bool,
    now: datetime,
    voter_chambers: frozenset[Chamber] | None,
    choices: Mapping[Chamber, Choice],
) -> None:
    """A vote is accepted only while open, from an elector, in the chambers it belongs to."""
    st = status(rules, closed, now)
    if st is Status.SCHEDULED:
        raise BallotError("the ballot is not open yet")
    if st is not Status.OPEN:
        raise BallotError("the ballot is closed; votes are no longer accepted")
    if not voter_chambers:
        raise BallotError("your organisation is not in this ballot's electorate")
    if not choices:
        raise BallotError("choose yes, no or abstain", "choice")
    for chamber in choices:
        if chamber not in voter_chambers:
            raise BallotError(f"your organisation does not vote in the {chamber.value} chamber", "chamber")


def split_choice(
    voter_chambers: frozenset[Chamber], choice: str | None, per_chamber: Mapping[str, str] | None = None
) -> dict[Chamber, Choice]:
    """Turn a single choice (applied to every chamber of the voter) or per-chamber choices into
    a validated ``{chamber: choice}``. Unknown values name the field."""
    result: dict[Chamber, Choice] = {}
    if per_chamber:
        for key, value in per_chamber.items():
            try:
                chamber = Chamber(key)
            except ValueError:
                raise BallotError(f"unknown chamber '{key}' (cctld or gtld)", "chambers") from None
            try:
                result[chamber] = Choice(value)
            except ValueError:
                raise BallotError(f"'{value}' is not yes, no or abstain", f"chambers.{key}") from None
        return result
    if choice is None or choice == "":
        raise BallotError("choose yes, no or abstain", "choice")
    try:
        c = Choice(choice)
    except ValueError:
        raise BallotError(f"'{choice}' is not yes, no or abstain", "choice") from None
    return dict.fromkeys(sorted(voter_chambers), c)


# ----------------------------------------------------------------------------- tally


@dataclass(frozen=True)
class ChamberTally:
    """Counts and outcome of one chamber."""

    chamber: Chamber
    electorate: int
    yes: int
    no: int
    abstain: int
    quorum_needed: int

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def quorum_met(self) -> bool:
        return self.electorate > 0 and self.cast >= self.quorum_needed

    def majority_met(self, majority_percent: int) -> bool:
        return self.yes * 100 > majority_percent * (self.yes + self.no)

    def as_dict(self, majority_percent: int) -> dict[str, int | bool | str]:
        return {
            "chamber": self.chamber.value,
            "electorate": self.electorate,
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
            "cast": self.cast,
            "quorum_needed": self.quorum_needed,
            "quorum_met": self.quorum_met,
            "majority_met": self.majority_met(majority_percent),
            "passed": self.quorum_met and self.majority_met(majority_percent),
        }


@dataclass(frozen=True)
class Tally:
    """The result per chamber; ``passed`` only when both chambers consent (R-ESC-1)."""

    rules: Rules
    chambers: tuple[ChamberTally, ...]

    def chamber(self, chamber: Chamber) -> ChamberTally:
        return next(c for c in self.chambers if c.chamber is chamber)

    def chamber_passed(self, chamber: Chamber) -> bool:
        c = self.chamber(chamber)
        return c.quorum_met and c.majority_met(self.rules.majority_percent)

    @property
    def passed(self) -> bool:
        return all(self.chamber_passed(c.chamber) for c in self.chambers)

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "chambers": [c.as_dict(self.rules.majority_percent) for c in self.chambers],
        }


def tally(
    rules: Rules, sizes: Mapping[Chamber, int], votes: Iterable[tuple[Chamber, Choice]]
) -> Tally:
    """Count the final votes (one per elector and chamber) against the fixed rules."""
    counts = {c: dict.fromkeys(Choice, 0) for c in CHAMBERS}
    for chamber, choice in votes:
        counts[chamber][choice] += 1
    return Tally(
        rules=rules,
        chambers=tuple(
            ChamberTally(
                chamber=c,
                electorate=sizes.get(c, 0),
                yes=counts[c][Choice.YES],
                no=counts[c][Choice.NO],
                abstain=counts[c][Choice.ABSTAIN],
                quorum_needed=rules.quorum_needed(sizes.get(c, 0)),
            )
            for c in CHAMBERS
        ),
    )


def check_execute(option_ballots: Sequence[tuple[Status, bool]]) -> None:
    """The DUG cannot execute an option without a passed ballot (R-ESC-1).

    ``option_ballots``: (status, passed) of every ballot held on the option for the matter.
    """
    if not option_ballots:
        raise BallotError("no consent ballot was held on this option: open one first")
    if any(st is Status.CLOSED and passed for st, passed in option_ballots):
        return
    if any(st is not Status.CLOSED for st, _ in option_ballots):
        raise BallotError("the consent ballot has not closed yet: the option cannot be executed")
    raise BallotError("the naming customers did not consent: no ballot on this option passed")


# ----------------------------------------------------------------------------- receipts

RECEIPT_CONTEXT = b"steward-ballot-receipt-v1"


def new_receipt_code() -> str:
    """A fresh secret receipt code (256 random bits, URL-safe base64): only the voter keeps it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def _code_bytes(code: str) -> bytes:
    text = code.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise BallotError("the receipt code is not valid base64url", "code") from None
    if len(raw) != 32:
        raise BallotError("the receipt code must be 43 characters (256 bits)", "code")
    return raw


def receipt_id(ballot_id: int, chamber: Chamber, code: str) -> str:
    """The public id of a voter's vote in one chamber: HMAC-SHA-256(code, context|ballot|chamber).

    It reveals nothing about the voter; only the holder of ``code`` can link it back.
    """
    message = RECEIPT_CONTEXT + f"|{ballot_id}|{chamber.value}".encode()
    return hmac.new(_code_bytes(code), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Leaf:
    """One counted vote as published at the close: an anonymous receipt id and the choice."""

    receipt: str
    chamber: Chamber
    choice: Choice

    def data(self, ballot_id: int) -> bytes:
        return json.dumps(
            {"ballot": ballot_id, "chamber": self.chamber.value, "choice": self.choice.value,
             "receipt": self.receipt},
            sort_keys=True, separators=(",", ":"),
        ).encode()

    def hash(self, ballot_id: int) -> bytes:
        return merkle.leaf_hash(self.data(ballot_id))


@dataclass(frozen=True)
class ReceiptLog:
    """The Merkle commitment of every counted vote, published at the close.

    Leaves are ordered by receipt id, which is random, so the order says nothing about who voted
    or when. Anyone can recount the tally from the leaves and recompute the root.
    """

    ballot_id: int
    leaves: tuple[Leaf, ...]
    _store: merkle.MemoryStore = field(compare=False, repr=False)

    @classmethod
    def build(cls, ballot_id: int, leaves: Iterable[Leaf]) -> ReceiptLog:
        ordered = tuple(sorted(leaves, key=lambda leaf: (leaf.receipt, leaf.chamber.value)))
        store = merkle.MemoryStore()
        for leaf in ordered:
            store.append(leaf.hash(ballot_id))
        return cls(ballot_id=ballot_id, leaves=ordered, _store=store)

    @property
    def size(self) -> int:
        return len(self.leaves)

    def root(self) -> bytes:
        return self._store.root()

    def index_of(self, receipt: str) -> int | None:
        for i, leaf in enumerate(self.leaves):
            if leaf.receipt == receipt:
                return i
        return None

    def proof(self, index: int) -> list[bytes]:
        return merkle.prove_inclusion(self._store, index, self.size)

    def recount(self) -> dict[Chamber, dict[Choice, int]]:
        counts = {c: dict.fromkeys(Choice, 0) for c in CHAMBERS}
        for leaf in self.leaves:
            counts[leaf.chamber][leaf.choice] += 1
        return counts


def verify_receipt(
    ballot_id: int, leaf: Leaf, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is at ``index`` in the published receipt tree; raises
    :class:`steward.archive.merkle.InvalidProof` with the reason when it is not."""
    merkle.verify_inclusion(leaf.hash(ballot_id), index, size, proof, root)


def b64(value: bytes) -> str:
    """Standard base64, as the archive's proof documents use."""
    return base64.b64encode(value).decode("ascii")
