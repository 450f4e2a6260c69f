"""Pure rules of the IANA Performance Review Team (IPRT).

* R-IPRT-1 — convened per review; default 14 seats by constituency (8 registry
  customers; 1 each from GAC, ALAC, SSAC, RSSAC, IETF; 1 "other" member for independent
  legal or organisational input); direct customers must be the majority.
* R-IPRT-2 — first review 3 years after the transition date, then every 4 years.
* R-IPRT-3 — scope: due process and adherence to community policy guidance, not
  operational service levels (those are the DUG's); remedial directions are tracked.

No I/O here: callers pass ``today`` and plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class ReviewError(ValueError):
    """A rule was broken; ``field`` names the input at fault and ``rule`` the rule id."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule


# --------------------------------------------------------------------------- schedule


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class CycleStatus(StrEnum):
    """Where one scheduled cycle stands on a given day."""

    upcoming = "upcoming"
    overdue = "overdue"
    started = "started"
    completed = "completed"


@dataclass(frozen=True)
class Cycle:
    """One scheduled occurrence (a review or an audit) and what happened to it."""

    number: int
    due: date
    status: CycleStatus
    record_id: int | None = None

    @property
    def overdue(self) -> bool:
        """Past due and not started."""
        return self.status is CycleStatus.overdue


def periodic_schedule(
    anchor: date,
    first_after_years: int,
    every_years: int,
    today: date,
    started: Mapping[int, tuple[int, bool]] | None = None,
    ahead: int = 1,
) -> list[Cycle]:
    """All cycles due up to ``today`` plus ``ahead`` future ones.

    Cycle 1 is due ``first_after_years`` after ``anchor``; each later cycle
    ``every_years`` after the previous one. ``started`` maps a cycle number to
    ``(record_id, completed)`` for cycles that have been convened or commissioned. A
    cycle whose due date has passed (``today`` is after it) without being started is
    overdue; a cycle due today is not yet overdue.
    """
    if first_after_years < 0 or every_years < 1:
        raise ReviewError("A schedule needs a positive interval.", field="every_years")
    started = started or {}
    cycles: list[Cycle] = []
    number = 1
    future = 0
    while True:
        due = add_years(anchor, first_after_years + (number - 1) * every_years)
        if number in started:
            record_id, completed = started[number]
            status = CycleStatus.completed if completed else CycleStatus.started
            cycles.append(Cycle(number, due, status, record_id))
        else:
            status = CycleStatus.overdue if today > due else CycleStatus.upcoming
            cycles.append(Cycle(number, due, status))
        if due > today:
            future += 1
            if future >= ahead:
                break
        number += 1
    return cycles


def iprt_schedule(
    transition_date: date,
    today: date,
    started: Mapping[int, tuple[int, bool]] | None = None,
    first_after_years: int = 3,
    every_years: int = 4,
) -> list[Cycle]:
    """The IPRT review schedule (R-IPRT-2): transition + 3 years, then every 4 years."""
    return periodic_schedule(transition_date, first_after_years, every_years, today, started)


def next_cycle(cycles: Sequence[Cycle]) -> Cycle | None:
    """The first cycle not yet started (the next one to convene), overdue or not."""
    for c in cycles:
        if c.status in (CycleStatus.upcoming, CycleStatus.overdue):
            return c
    return None


def reminders_due(cycles: Sequence[Cycle], today: date, within_days: int) -> list[Cycle]:
    """Cycles not yet started that are overdue or fall due within ``within_days`` of ``today``."""
    horizon = today + timedelta(days=within_days)
    return [
        c
        for c in cycles
        if c.status in (CycleStatus.upcoming, CycleStatus.overdue) and c.due <= horizon
    ]


# --------------------------------------------------------------------------- composition


class Constituency(StrEnum):
    """IPRT constituencies (R-IPRT-1)."""

    registry_customer = "registry_customer"
    gac = "gac"
    alac = "alac"
    ssac = "ssac"
    rssac = "rssac"
    ietf = "ietf"
    other = "other"


CONSTITUENCY_LABELS: dict[Constituency, str] = {
    Constituency.registry_customer: "Registry customer (ccTLD / gTLD)",
    Constituency.gac: "GAC",
    Constituency.alac: "ALAC",
    Constituency.ssac: "SSAC",
    Constituency.rssac: "RSSAC",
    Constituency.ietf: "IETF",
    Constituency.other: "Other (independent legal / organisational input)",
}

DEFAULT_SEATS: dict[Constituency, int] = {
    Constituency.registry_customer: 8,
    Constituency.gac: 1,
    Constituency.alac: 1,
    Constituency.ssac: 1,
    Constituency.rssac: 1,
    Constituency.ietf: 1,
    Constituency.other: 1,
}

# The organisation kinds (registry context) a constituency's member may come from;
# a constituency not listed accepts any organisation or none.
CONSTITUENCY_ORG_KINDS: dict[Constituency, frozenset[str]] = {
    Constituency.registry_customer: frozenset({"operator"}),
    Constituency.gac: frozenset({"so_ac"}),
    Constituency.alac: frozenset({"so_ac"}),
    Constituency.ssac: frozenset({"so_ac"}),
    Constituency.rssac: frozenset({"so_ac"}),
    Constituency.ietf: frozenset({"technical_community"}),
}


@dataclass(frozen=True)
class SeatPlan:
    """Seats per constituency (a setting; default R-IPRT-1)."""

    seats: Mapping[Constituency, int] = field(default_factory=lambda: dict(DEFAULT_SEATS))

    def __post_init__(self) -> None:
        if any(n < 0 for n in self.seats.values()):
            raise ReviewError("A seat count cannot be negative.", field="seats")
        customers = self.seats.get(Constituency.registry_customer, 0)
        if customers * 2 <= self.total:
            raise ReviewError(
                f"Registry customers hold {customers} of {self.total} seats; direct customers "
                "must be the majority of the IPRT (R-IPRT-1).",
                field="seats",
                rule="R-IPRT-1",
            )

    @property
    def total(self) -> int:
        """All seats."""
        return sum(self.seats.values())


@dataclass(frozen=True)
class Appointee:
    """One IPRT member as the composition rules see them.

    ``person_key`` identifies the person (an email address, or a user id) so that nobody
    holds two seats on one team.
    """

    person_key: str
    name: str
    constituency: Constituency
    organisation_kind: str | None = None


def check_appointment(current: Sequence[Appointee], new: Appointee, plan: SeatPlan) -> None:
    """Raise if appointing ``new`` next to ``current`` breaks R-IPRT-1."""
    if not new.name.strip():
        raise ReviewError("An appointee needs a name.", field="name")
    if any(a.person_key == new.person_key for a in current):
        raise ReviewError(f"{new.name} is already a member of this review team.", field="person")
    seats = plan.seats.get(new.constituency, 0)
    taken = sum(1 for a in current if a.constituency is new.constituency)
    if taken >= seats:
        label = CONSTITUENCY_LABELS[new.constituency]
        raise ReviewError(
            f"All {seats} {label} seat(s) are filled (R-IPRT-1).",
            field="constituency",
            rule="R-IPRT-1",
        )
    kinds = CONSTITUENCY_ORG_KINDS.get(new.constituency)
    if kinds is not None and new.organisation_kind not in kinds:
        raise ReviewError(
            f"A {CONSTITUENCY_LABELS[new.constituency]} member must come from an organisation "
            f"of kind {', '.join(sorted(kinds))} (R-IPRT-1).",
            field="organisation",
            rule="R-IPRT-1",
        )


@dataclass(frozen=True)
class CompositionReport:
    """How a roster compares with the seat plan."""

    filled: dict[Constituency, int]
    vacancies: dict[Constituency, int]
    customers: int
    total: int

    @property
    def customers_majority(self) -> bool:
        """Direct customers are more than half of the members (R-IPRT-1)."""
        return self.customers * 2 > self.total

    @property
    def complete(self) -> bool:
        """Every seat filled and customers the majority."""
        return not any(self.vacancies.values()) and self.customers_majority

    def problems(self) -> list[str]:
        """Readable reasons the roster is not complete."""
        out = [
            f"{CONSTITUENCY_LABELS[c]}: {n} seat(s) vacant (R-IPRT-1)."
            for c, n in self.vacancies.items()
            if n
        ]
        if not self.customers_majority:
            out.append(
                f"Registry customers are {self.customers} of {self.total} members; direct "
                "customers must be the majority (R-IPRT-1)."
            )
        return out


def composition(members: Iterable[Appointee], plan: SeatPlan) -> CompositionReport:
    """Count a roster by constituency against the plan."""
    filled = dict.fromkeys(Constituency, 0)
    for m in members:
        filled[m.constituency] += 1
    vacancies = {c: max(plan.seats.get(c, 0) - filled[c], 0) for c in Constituency}
    total = sum(filled.values())
    return CompositionReport(filled, vacancies, filled[Constituency.registry_customer], total)


# --------------------------------------------------------------------------- stages


class Stage(StrEnum):
    """Stages of an IPRT review."""

    convened = "convened"
    terms_of_reference = "terms_of_reference"
    evidence_gathering = "evidence_gathering"
    draft_report = "draft_report"
    final_report = "final_report"
    closed = "closed"


STAGE_LABELS: dict[Stage, str] = {
    Stage.convened: "Convened: appointing members",
    Stage.terms_of_reference: "Terms of reference",
    Stage.evidence_gathering: "Evidence gathering",
    Stage.draft_report: "Draft report: public comment",
    Stage.final_report: "Final report: remedial directions",
    Stage.closed: "Closed",
}

NEXT_STAGE: dict[Stage, Stage] = {
    Stage.convened: Stage.terms_of_reference,
    Stage.terms_of_reference: Stage.evidence_gathering,
    Stage.evidence_gathering: Stage.draft_report,
    Stage.draft_report: Stage.final_report,
    Stage.final_report: Stage.closed,
}


@dataclass(frozen=True)
class ReviewFacts:
    """What the stage guards need to know about a review."""

    stage: Stage
    composition: CompositionReport
    terms_of_reference: str = ""
    draft_report: str = ""
    comment_closes: date | None = None
    final_report: str = ""
    open_directions: int = 0


def check_advance(facts: ReviewFacts, target: Stage, today: date) -> None:
    """Raise with the reason unless the review may move from its stage to ``target``."""
    if NEXT_STAGE.get(facts.stage) is not target:
        raise ReviewError(
            f"A review in stage {STAGE_LABELS[facts.stage]!r} cannot move to "
            f"{STAGE_LABELS[target]!r}.",
            field="stage",
        )
    if target is Stage.terms_of_reference and not facts.composition.complete:
        raise ReviewError(
            "The team is not fully constituted: " + " ".join(facts.composition.problems()),
            field="members",
            rule="R-IPRT-1",
        )
    if target is Stage.evidence_gathering and not facts.terms_of_reference.strip():
        raise ReviewError("Record the terms of reference first.", field="terms_of_reference")
    if target is Stage.draft_report:
        if not facts.draft_report.strip():
            raise ReviewError("Record the draft report first.", field="draft_report")
        if facts.comment_closes is None or facts.comment_closes < today:
            raise ReviewError(
                "The public comment period must close on or after today.", field="comment_closes"
            )
    if target is Stage.final_report:
        if facts.comment_closes is not None and today <= facts.comment_closes:
            raise ReviewError(
                f"The public comment period is open until {facts.comment_closes.isoformat()}.",
                field="comment_closes",
            )
        if not facts.final_report.strip():
            raise ReviewError("Record the final report first.", field="final_report")
    if target is Stage.closed and facts.open_directions:
        raise ReviewError(
            f"{facts.open_directions} remedial direction(s) are not yet completed (R-IPRT-3).",
            field="directions",
            rule="R-IPRT-3",
        )


def comment_period_open(comment_closes: date | None, stage: Stage, today: date) -> bool:
    """Public comments are taken in the draft-report stage until the closing day inclusive."""
    return stage is Stage.draft_report and comment_closes is not None and today <= comment_closes


# --------------------------------------------------------------------------- scope guard


class FindingTopic(StrEnum):
    """What a finding is about; only some topics are in the IPRT's scope (R-IPRT-3)."""

    due_process = "due_process"
    policy_adherence = "policy_adherence"
    dug_ifm_relationship = "dug_ifm_relationship"
    operational_service_levels = "operational_service_levels"


IN_SCOPE: frozenset[FindingTopic] = frozenset(
    {FindingTopic.due_process, FindingTopic.policy_adherence, FindingTopic.dug_ifm_relationship}
)


@dataclass(frozen=True)
class ScopeDecision:
    """Whether a finding stays with the IPRT or is pointed to the DUG."""

    in_scope: bool
    referred_to: str | None
    reason: str


def scope_guard(topic: FindingTopic) -> ScopeDecision:
    """R-IPRT-3: a finding about operational service levels goes to the DUG instead."""
    if topic in IN_SCOPE:
        return ScopeDecision(True, None, "Within the IPRT's scope (R-IPRT-3).")
    return ScopeDecision(
        False,
        "dug",
        "Operational service levels are the DUG's remit, not the IPRT's: this finding is "
        "referred to the DUG (R-IPRT-3).",
    )


class DirectionTarget(StrEnum):
    """Who a remedial direction is addressed to."""

    dug = "dug"
    ifm = "ifm"


def check_direction(stage: Stage, target: str, text: str) -> DirectionTarget:
    """Remedial directions are issued with the final report, to the DUG or the IFM."""
    if stage not in (Stage.draft_report, Stage.final_report):
        raise ReviewError(
            "Remedial directions are issued with the draft or final report.", field="stage"
        )
    try:
        to = DirectionTarget(target)
    except ValueError:
        raise ReviewError(
            "A direction is addressed to the DUG or the IFM.", field="target"
        ) from None
    if not text.strip():
        raise ReviewError("A direction needs its text.", field="text")
    return to


def informing_audits(
    audits: Iterable[tuple[int, date | None]], convened_on: date, already: Collection[int] = ()
) -> list[int]:
    """Ids of audits whose results were published on or before ``convened_on`` (R-AUD-2).

    ``audits`` are ``(id, published_on)`` pairs; ``already`` the audits an earlier review
    considered, left out: a review is informed by the audits since the previous one. The
    latest comes first so the review opens with the newest results.
    """
    found = [(p, i) for i, p in audits if p is not None and p <= convened_on and i not in already]
    return [i for _, i in sorted(found, reverse=True)]
