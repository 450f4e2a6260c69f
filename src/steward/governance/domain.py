"""Pure rules of the Direct User Group: charter, membership, recusal and decisions.

Rules implemented here (see docs/domain.md):

* R-DUG-1 — the DUG works under a versioned charter that defines its role, the
  appointment of a chair and the lines of communication with IFM staff.
* R-DUG-2 — by default 8 voting members from the ccTLD / gTLD registry community and
  2–3 non-voting liaisons from the technical community; every member has recorded
  technical experience.
* R-DUG-3 — a member whose organisation is a party to a matter recuses from it.

Nothing in this module touches a database, the clock or the network: callers pass
``today`` / ``now`` and plain data, and get plain data or a :class:`GovernanceError`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction


class GovernanceError(ValueError):
    """A rule was broken; ``field`` names the input at fault and ``rule`` the rule id."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule


# --------------------------------------------------------------------------- charter


@dataclass(frozen=True)
class CharterText:
    """The three parts R-DUG-1 requires of every charter version."""

    role: str
    chair_appointment: str
    communication_lines: str


CHARTER_FIELDS: dict[str, str] = {
    "role": "the role of the DUG",
    "chair_appointment": "the appointment of the chair",
    "communication_lines": "the lines of communication between the DUG and IFM staff",
}


def validate_charter(text: CharterText) -> CharterText:
    """Return the charter with surrounding blanks trimmed, or raise naming the empty part.

    R-DUG-1: a charter that omits its role, the appointment of the chair, or the lines of
    communication with IFM staff is not a charter.
    """
    cleaned = CharterText(
        role=text.role.strip(),
        chair_appointment=text.chair_appointment.strip(),
        communication_lines=text.communication_lines.strip(),
    )
    for name, meaning in CHARTER_FIELDS.items():
        if not getattr(cleaned, name):
            raise GovernanceError(
                f"The charter must define {meaning} (R-DUG-1).", field=name, rule="R-DUG-1"
            )
    return cleaned


def next_charter_version(existing: Iterable[int]) -> int:
    """Version number for a new charter: one more than the highest so far, starting at 1."""
    return max(existing, default=0) + 1


def charter_in_force(versions: Iterable[tuple[int, date]], on: date) -> int | None:
    """The version number in force on ``on``: the latest effective on or before that day.

    ``versions`` are ``(number, effective_from)`` pairs; ties on the date go to the higher
    number, since a later adoption supersedes an earlier one made the same day. This is the
    one definition of the charter in force: pages and services go through it.
    """
    candidates = [(eff, num) for num, eff in versions if eff <= on]
    if not candidates:
        return None
    return max(candidates)[1]


def check_charter_effective(versions: Iterable[tuple[int, date]], effective_from: date) -> None:
    """Refuse a new version that would take effect before the latest one (R-DUG-1).

    ``versions`` are the existing ``(number, effective_from)`` pairs. Versions take effect
    in the order they are adopted, so a new version is in force from its own date until a
    later one is: backdating it before the latest version would make "the charter in force"
    ambiguous. The same day as the latest is allowed: the new version supersedes it.
    """
    latest = max(((eff, num) for num, eff in versions), default=None)
    if latest is not None and effective_from < latest[0]:
        raise GovernanceError(
            f"A new charter version cannot take effect before version {latest[1]}, the latest, "
            f"which takes effect on {latest[0].isoformat()} (R-DUG-1).",
            field="effective_from",
            rule="R-DUG-1",
        )


# --------------------------------------------------------------------------- membership


class SeatKind(StrEnum):
    """Voting participant or non-voting liaison (R-DUG-2)."""

    voting = "voting"
    liaison = "liaison"


class Community(StrEnum):
    """The community a member is drawn from."""

    cctld = "cctld"
    gtld = "gtld"
    technical = "technical"


VOTING_COMMUNITIES: frozenset[Community] = frozenset({Community.cctld, Community.gtld})


@dataclass(frozen=True)
class Member:
    """One DUG membership: a person in a seat for a term.

    ``term_end`` is the last day of the term (inclusive); ``None`` means open-ended.
    """

    id: int
    person_id: int
    name: str
    organisation_id: int | None
    seat: SeatKind
    community: Community
    technical_experience: str
    term_start: date
    term_end: date | None = None
    is_chair: bool = False

    def serving_on(self, day: date) -> bool:
        """Whether the term covers ``day``."""
        return self.term_start <= day and (self.term_end is None or day <= self.term_end)

    @property
    def votes(self) -> bool:
        """Only voting seats vote; liaisons comment (R-DUG-2)."""
        return self.seat is SeatKind.voting


@dataclass(frozen=True)
class CompositionRules:
    """Size rules of the DUG (settings; defaults from R-DUG-2)."""

    voting_seats: int = 8
    liaisons_min: int = 2
    liaisons_max: int = 3

    def __post_init__(self) -> None:
        if self.voting_seats < 1:
            raise GovernanceError("The DUG needs at least one voting seat.", field="voting_seats")
        if not 0 <= self.liaisons_min <= self.liaisons_max:
            raise GovernanceError(
                "Liaison bounds must satisfy 0 ≤ minimum ≤ maximum.", field="liaisons_min"
            )


@dataclass(frozen=True)
class CompositionIssue:
    """One way a roster departs from the rules."""

    code: str
    message: str
    rule: str
    field: str | None = None
    member_id: int | None = None


def validate_member(member: Member) -> None:
    """Check one membership on its own: seat vs community, experience, term, chair seat."""
    if not member.name.strip():
        raise GovernanceError("A member needs a name.", field="name")
    if member.seat is SeatKind.voting and member.community not in VOTING_COMMUNITIES:
        raise GovernanceError(
            "A voting member must come from the ccTLD or gTLD registry community (R-DUG-2).",
            field="community",
            rule="R-DUG-2",
        )
    if member.seat is SeatKind.liaison and member.community is not Community.technical:
        raise GovernanceError(
            "A non-voting liaison must come from the technical community (R-DUG-2).",
            field="community",
            rule="R-DUG-2",
        )
    if not member.technical_experience.strip():
        raise GovernanceError(
            "Every member must have relevant technical experience, recorded here (R-DUG-2).",
            field="technical_experience",
            rule="R-DUG-2",
        )
    if member.term_end is not None and member.term_end < member.term_start:
        raise GovernanceError("The term cannot end before it starts.", field="term_end")
    if member.is_chair and member.seat is not SeatKind.voting:
        raise GovernanceError(
            "The chair must hold a voting seat (R-DUG-1, R-DUG-2).",
            field="is_chair",
            rule="R-DUG-1",
        )


def _overlaps(a: Member, b: Member) -> bool:
    a_end = a.term_end or date.max
    b_end = b.term_end or date.max
    return a.term_start <= b_end and b.term_start <= a_end


def _term_boundaries(members: Sequence[Member]) -> list[date]:
    """Every day on which the set of serving members can change."""
    days = {m.term_start for m in members}
    days |= {
        m.term_end + timedelta(days=1) for m in members if m.term_end and m.term_end < date.max
    }
    return sorted(days)


def roster_on(members: Iterable[Member], day: date) -> list[Member]:
    """The members serving on ``day``."""
    return [m for m in members if m.serving_on(day)]


def hard_issues(members: Sequence[Member], rules: CompositionRules) -> list[CompositionIssue]:
    """Breaches that no change may ever introduce, on any day of any term.

    Too many voting members or liaisons at once, more than one chair at once, or one
    person holding two overlapping seats. (A roster that is merely not yet full is not a
    breach; see :func:`completeness_issues`.)
    """
    issues: list[CompositionIssue] = []
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            if a.person_id == b.person_id and _overlaps(a, b):
                issues.append(
                    CompositionIssue(
                        "duplicate_person",
                        f"{a.name} already holds a seat during that term.",
                        "R-DUG-2",
                        "person_id",
                        b.id,
                    )
                )
    seen: set[str] = set()
    for day in _term_boundaries(members):
        serving = roster_on(members, day)
        voting = [m for m in serving if m.seat is SeatKind.voting]
        liaisons = [m for m in serving if m.seat is SeatKind.liaison]
        chairs = [m for m in serving if m.is_chair]
        if len(voting) > rules.voting_seats and "too_many_voting" not in seen:
            seen.add("too_many_voting")
            issues.append(
                CompositionIssue(
                    "too_many_voting",
                    f"On {day.isoformat()} there would be {len(voting)} voting members; "
                    f"the DUG has {rules.voting_seats} voting seats (R-DUG-2).",
                    "R-DUG-2",
                    "seat",
                )
            )
        if len(liaisons) > rules.liaisons_max and "too_many_liaisons" not in seen:
            seen.add("too_many_liaisons")
            issues.append(
                CompositionIssue(
                    "too_many_liaisons",
                    f"On {day.isoformat()} there would be {len(liaisons)} liaisons; "
                    f"at most {rules.liaisons_max} are allowed (R-DUG-2).",
                    "R-DUG-2",
                    "seat",
                )
            )
        if len(chairs) > 1 and "two_chairs" not in seen:
            seen.add("two_chairs")
            issues.append(
                CompositionIssue(
                    "two_chairs",
                    f"On {day.isoformat()} {', '.join(c.name for c in chairs)} would all be chair; "
                    "the DUG has one chair (R-DUG-1).",
                    "R-DUG-1",
                    "is_chair",
                )
            )
    return issues


def completeness_issues(
    members: Sequence[Member], rules: CompositionRules, on: date
) -> list[CompositionIssue]:
    """How the roster serving on ``on`` falls short of a fully constituted DUG."""
    serving = roster_on(members, on)
    voting = sum(1 for m in serving if m.seat is SeatKind.voting)
    liaisons = sum(1 for m in serving if m.seat is SeatKind.liaison)
    chairs = sum(1 for m in serving if m.is_chair)
    issues: list[CompositionIssue] = []
    if voting < rules.voting_seats:
        issues.append(
            CompositionIssue(
                "voting_seats_vacant",
                f"{voting} of {rules.voting_seats} voting seats are filled (R-DUG-2).",
                "R-DUG-2",
            )
        )
    if liaisons < rules.liaisons_min:
        issues.append(
            CompositionIssue(
                "too_few_liaisons",
                f"{liaisons} liaisons serve; at least {rules.liaisons_min} are needed (R-DUG-2).",
                "R-DUG-2",
            )
        )
    if chairs == 0:
        issues.append(CompositionIssue("no_chair", "No chair is appointed (R-DUG-1).", "R-DUG-1"))
    return issues


def check_change(
    current: Sequence[Member], proposed: Sequence[Member], rules: CompositionRules
) -> None:
    """Accept a roster change or raise the first problem it would introduce.

    Every member of ``proposed`` must be valid on its own, and the change may not add a
    hard breach (:func:`hard_issues`) that ``current`` did not already have — so a roster
    that was over-full under older settings can still be shrunk.
    """
    for member in proposed:
        validate_member(member)
    before = {(i.code, i.member_id) for i in hard_issues(current, rules)}
    for issue in hard_issues(proposed, rules):
        if (issue.code, issue.member_id) not in before:
            raise GovernanceError(issue.message, field=issue.field, rule=issue.rule)


def terms_ending(members: Iterable[Member], today: date, within_days: int) -> list[Member]:
    """Members whose term ends between ``today`` and ``today + within_days`` inclusive."""
    horizon = today + timedelta(days=within_days)
    return sorted(
        (m for m in members if m.term_end is not None and today <= m.term_end <= horizon),
        key=lambda m: (m.term_end or date.max, m.name),
    )


# --------------------------------------------------------------------------- recusal


def is_recused(member: Member, party_organisation_ids: Collection[int]) -> bool:
    """R-DUG-3: a member recuses when their own organisation is a party to the matter."""
    return member.organisation_id is not None and member.organisation_id in party_organisation_ids


def recused_members(
    members: Iterable[Member], party_organisation_ids: Collection[int], on: date
) -> list[Member]:
    """The serving members who must recuse from a matter with these parties (R-DUG-3)."""
    return [m for m in roster_on(members, on) if is_recused(m, party_organisation_ids)]


def eligible_voters(
    members: Iterable[Member], party_organisation_ids: Collection[int], on: date
) -> list[Member]:
    """Serving voting members who are not recused: the only ones who vote (R-DUG-2, R-DUG-3)."""
    return [
        m for m in roster_on(members, on) if m.votes and not is_recused(m, party_organisation_ids)
    ]


# --------------------------------------------------------------------------- decisions


class MotionKind(StrEnum):
    """The DUG actions that need a decision."""

    instruct_ifm = "instruct_ifm"
    engage_mediator = "engage_mediator"
    engage_iap = "engage_iap"
    determine_systemic_failure = "determine_systemic_failure"
    appoint_experts = "appoint_experts"
    commission_audit = "commission_audit"
    publish_findings = "publish_findings"
    refine_service_levels = "refine_service_levels"
    agree_technical_plan = "agree_technical_plan"
    initiate_urgent_review = "initiate_urgent_review"
    proceed_further_escalation = "proceed_further_escalation"
    adopt_charter = "adopt_charter"
    other = "other"


MOTION_KIND_LABELS: dict[MotionKind, str] = {
    MotionKind.instruct_ifm: "Issue an instruction to the IFM",
    MotionKind.engage_mediator: "Engage an external mediator",
    MotionKind.engage_iap: "Engage the Independent Appeals Panel",
    MotionKind.determine_systemic_failure: "Determine a significant or systemic failure",
    MotionKind.appoint_experts: "Appoint a team of technical experts",
    MotionKind.commission_audit: "Commission the periodic audit",
    MotionKind.publish_findings: "Publish findings",
    MotionKind.refine_service_levels: "Refine the agreed service levels",
    MotionKind.agree_technical_plan: "Agree a technical change implementation plan",
    MotionKind.initiate_urgent_review: "Initiate an urgent review",
    MotionKind.proceed_further_escalation: "Proceed to the Further Escalation Options",
    MotionKind.adopt_charter: "Adopt a charter version",
    MotionKind.other: "Other",
}


class MotionState(StrEnum):
    """Lifecycle of a motion."""

    open = "open"
    passed = "passed"
    failed = "failed"
    withdrawn = "withdrawn"


class Choice(StrEnum):
    """A ballot: abstentions count towards quorum but are not votes cast."""

    yes = "yes"
    no = "no"
    abstain = "abstain"


@dataclass(frozen=True)
class Threshold:
    """A "more than" (or, if ``inclusive``, "at least") fraction of a base."""

    fraction: Fraction = Fraction(1, 2)
    inclusive: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.fraction <= 1:
            raise GovernanceError("A threshold fraction lies between 0 and 1.", field="fraction")

    def met(self, count: int, base: int) -> bool:
        """Whether ``count`` reaches the threshold of ``base``."""
        need = self.fraction * base
        return count >= need if self.inclusive else count > need

    def minimum(self, base: int) -> int:
        """The smallest count that meets the threshold of ``base``."""
        need = self.fraction * base
        whole = need.numerator // need.denominator
        if self.inclusive:
            return whole if whole == need else whole + 1
        return whole + 1

    def describe(self) -> str:
        """Words for the rule, e.g. "more than 1/2"."""
        words = {Fraction(1, 2): "half", Fraction(2, 3): "two thirds", Fraction(1, 3): "one third"}
        name = words.get(self.fraction, str(self.fraction))
        return f"{'at least' if self.inclusive else 'more than'} {name}"


class QuorumBase(StrEnum):
    """What the quorum is a fraction of."""

    voting_members = "voting_members"
    eligible_voters = "eligible_voters"


@dataclass(frozen=True)
class DecisionRules:
    """Quorum and majority (settings). Defaults: quorum is more than half of the serving
    voting members; a motion passes with more than half of the votes cast."""

    quorum: Threshold = field(default_factory=Threshold)
    quorum_base: QuorumBase = QuorumBase.voting_members
    majority: Threshold = field(default_factory=Threshold)


@dataclass(frozen=True)
class Ballot:
    """One member's vote on a motion."""

    member_id: int
    choice: Choice


def check_can_vote(
    member: Member,
    party_organisation_ids: Collection[int],
    already_voted: Collection[int],
    on: date,
) -> None:
    """Raise with the reason if ``member`` may not vote on a motion on day ``on``."""
    if not member.serving_on(on):
        raise GovernanceError(
            f"{member.name} is not serving on {on.isoformat()}.", field="member", rule="R-DUG-2"
        )
    if not member.votes:
        raise GovernanceError(
            f"{member.name} is a non-voting liaison: liaisons may comment but not vote (R-DUG-2).",
            field="member",
            rule="R-DUG-2",
        )
    if is_recused(member, party_organisation_ids):
        raise GovernanceError(
            f"{member.name} is recused: their organisation is a party to this matter (R-DUG-3).",
            field="member",
            rule="R-DUG-3",
        )
    if member.id in already_voted:
        raise GovernanceError(f"{member.name} has already voted on this motion.", field="member")


def check_can_comment(member: Member, party_organisation_ids: Collection[int], on: date) -> None:
    """Voting members and liaisons may comment; a recused member may not (R-DUG-3)."""
    if not member.serving_on(on):
        raise GovernanceError(f"{member.name} is not serving on {on.isoformat()}.", field="member")
    if is_recused(member, party_organisation_ids):
        raise GovernanceError(
            f"{member.name} is recused from this matter (R-DUG-3).", field="member", rule="R-DUG-3"
        )


@dataclass(frozen=True)
class Tally:
    """The outcome of a vote and the rule that decided it."""

    state: MotionState
    yes: int
    no: int
    abstain: int
    eligible: int
    voting_members: int
    quorum_base: int
    quorum_needed: int
    quorum_met: bool
    majority_needed: int
    rule: str

    @property
    def participated(self) -> int:
        """Ballots returned, abstentions included."""
        return self.yes + self.no + self.abstain

    @property
    def cast(self) -> int:
        """Votes cast: yes and no; abstentions are not votes cast."""
        return self.yes + self.no


def tally(
    ballots: Iterable[Ballot],
    members: Sequence[Member],
    party_organisation_ids: Collection[int],
    rules: DecisionRules,
    on: date,
) -> Tally:
    """Count a motion's ballots on the day it closes and explain the result.

    Ballots from anyone who was not an eligible voter on ``on`` (a liaison, a recused
    member, someone no longer serving) are ignored, so a stale ballot can never decide.
    A tie is not a majority, so a tied motion fails.
    """
    eligible = eligible_voters(members, party_organisation_ids, on)
    eligible_ids = {m.id for m in eligible}
    voting_members = sum(1 for m in roster_on(members, on) if m.votes)
    counts = dict.fromkeys(Choice, 0)
    seen: set[int] = set()
    for ballot in ballots:
        if ballot.member_id in eligible_ids and ballot.member_id not in seen:
            seen.add(ballot.member_id)
            counts[ballot.choice] += 1
    yes, no, abstain = counts[Choice.yes], counts[Choice.no], counts[Choice.abstain]
    base = voting_members if rules.quorum_base is QuorumBase.voting_members else len(eligible)
    base_words = (
        "serving voting members"
        if rules.quorum_base is QuorumBase.voting_members
        else "non-recused voting members"
    )
    participated = yes + no + abstain
    quorum_needed = rules.quorum.minimum(base)
    quorum_met = base > 0 and rules.quorum.met(participated, base)
    cast = yes + no
    majority_needed = rules.majority.minimum(cast)
    quorum_text = (
        f"quorum is {rules.quorum.describe()} of the {base} {base_words}, i.e. {quorum_needed}; "
        f"{participated} took part"
    )
    if not quorum_met:
        state = MotionState.failed
        rule = f"Failed: no quorum — {quorum_text}."
    elif cast > 0 and rules.majority.met(yes, cast):
        state = MotionState.passed
        rule = (
            f"Passed: {yes} of {cast} votes cast in favour; a motion passes with "
            f"{rules.majority.describe()} of the votes cast, i.e. {majority_needed}; {quorum_text}."
        )
    else:
        state = MotionState.failed
        why = "a tie is not a majority" if yes == no and cast > 0 else "no majority"
        rule = (
            f"Failed: {why} — {yes} of {cast} votes cast in favour; a motion passes with "
            f"{rules.majority.describe()} of the votes cast, i.e. {majority_needed}; {quorum_text}."
        )
    return Tally(
        state=state,
        yes=yes,
        no=no,
        abstain=abstain,
        eligible=len(eligible),
        voting_members=voting_members,
        quorum_base=base,
        quorum_needed=quorum_needed,
        quorum_met=quorum_met,
        majority_needed=majority_needed,
        rule=rule,
    )


def all_eligible_have_voted(
    ballots: Iterable[Ballot],
    members: Sequence[Member],
    party_organisation_ids: Collection[int],
    on: date,
) -> bool:
    """Whether every eligible voter has returned a ballot (the motion may close early)."""
    voted = {b.member_id for b in ballots}
    return all(m.id in voted for m in eligible_voters(members, party_organisation_ids, on))


@dataclass(frozen=True)
class DecisionRef:
    """What a passed motion authorises: an action (its kind) on one subject."""

    kind: MotionKind
    subject_type: str
    subject_id: str
    state: MotionState


def find_authorising(
    decisions: Iterable[DecisionRef], kind: MotionKind, subject_type: str, subject_id: str
) -> DecisionRef | None:
    """The passed decision of this kind on this subject, if any."""
    for d in decisions:
        if (
            d.state is MotionState.passed
            and d.kind is kind
            and d.subject_type == subject_type
            and d.subject_id == subject_id
        ):
            return d
    return None
