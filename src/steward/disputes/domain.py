"""Individual disputes: the escalation ladder as an explicit transition table (R-DSP-1…9).

The ladder (seed section B, "Individual party dispute"; domain.md R-DSP-*):

    direct negotiation (optional) → complaint lodged with the DUG → IFM response requested
    (10 working days) → DUG assessment and facilitation → resolved by agreement | external
    mediation → agreement with tracked remedial actions | mediation failed → IAP (only with
    the operator's recorded agreement to be bound) → finding: no breach | breach capable of
    remedy (remedy due in N calendar days) → remedied | not remedied | breach not capable of
    remedy.  Withdrawn from any open stage (R-DSP-8).  Every closed case is archived and
    never changes again (R-DSP-9).

Every row of :data:`TRANSITIONS` says: from which stage, by which action, to which stage,
under which guard, who (relation to the case) and with which permission. :func:`apply` is
the only way to move a case; it is pure and returns the new state, so the service can
persist it with a compare-and-set on a version column.

Visibility (R-DSP-7, R-DUG-3) is the pure function :func:`relations` / :func:`can_see`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

import idna

from steward.workdays.domain import (
    Deadline,
    WorkdayCalendar,
    calendar_day_deadline,
    recompute,
    working_day_deadline,
)

# --------------------------------------------------------------------------- vocabulary


class Stage(StrEnum):
    """Where a case stands on the ladder. ``START`` exists only before a case is created."""

    START = "start"
    NEGOTIATION = "negotiation"
    LODGED = "lodged"
    RESPONSE_REQUESTED = "response_requested"
    ASSESSMENT = "assessment"
    MEDIATION = "mediation"
    REMEDIATION = "remediation"
    MEDIATION_FAILED = "mediation_failed"
    IAP = "iap"
    REMEDY_PENDING = "remedy_pending"
    # closed, hence archived (R-DSP-9)
    SETTLED = "settled"
    REFUSED = "refused"
    RESOLVED_BY_AGREEMENT = "resolved_by_agreement"
    RESOLVED_IN_MEDIATION = "resolved_in_mediation"
    NO_BREACH = "no_breach"
    REMEDIED = "remedied"
    NOT_REMEDIED = "not_remedied"
    NOT_CAPABLE_OF_REMEDY = "not_capable_of_remedy"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """A short human label."""
        return STAGE_LABELS[self]

    @property
    def closed(self) -> bool:
        """True for the final stages: the case is archived and immutable (R-DSP-9)."""
        return self in CLOSED_STAGES

    @property
    def open(self) -> bool:
        """True for the stages a live case can be in."""
        return self in OPEN_STAGES


STAGE_LABELS: dict[Stage, str] = {
    Stage.START: "Not yet opened",
    Stage.NEGOTIATION: "Direct negotiation",
    Stage.LODGED: "Complaint lodged with the DUG",
    Stage.RESPONSE_REQUESTED: "IFM response requested",
    Stage.ASSESSMENT: "DUG assessment and facilitation",
    Stage.MEDIATION: "External mediation",
    Stage.REMEDIATION: "Agreed in mediation: remedial actions",
    Stage.MEDIATION_FAILED: "Mediation failed",
    Stage.IAP: "Independent Appeals Panel",
    Stage.REMEDY_PENDING: "Breach capable of remedy: remedy pending",
    Stage.SETTLED: "Settled in direct negotiation",
    Stage.REFUSED: "Refused (R-DSP-1)",
    Stage.RESOLVED_BY_AGREEMENT: "Resolved by agreement",
    Stage.RESOLVED_IN_MEDIATION: "Resolved in mediation",
    Stage.NO_BREACH: "IAP finding: no breach",
    Stage.REMEDIED: "Breach remedied",
    Stage.NOT_REMEDIED: "Breach not remedied in time",
    Stage.NOT_CAPABLE_OF_REMEDY: "IAP finding: breach not capable of remedy",
    Stage.WITHDRAWN: "Withdrawn",
}

CLOSED_STAGES: frozenset[Stage] = frozenset(
    {
        Stage.SETTLED,
        Stage.REFUSED,
        Stage.RESOLVED_BY_AGREEMENT,
        Stage.RESOLVED_IN_MEDIATION,
        Stage.NO_BREACH,
        Stage.REMEDIED,
        Stage.NOT_REMEDIED,
        Stage.NOT_CAPABLE_OF_REMEDY,
        Stage.WITHDRAWN,
    }
)
OPEN_STAGES: frozenset[Stage] = frozenset(set(Stage) - CLOSED_STAGES - {Stage.START})

# The ladder's order, for boards and diagrams (open stages only).
LADDER: tuple[Stage, ...] = (
    Stage.NEGOTIATION,
    Stage.LODGED,
    Stage.RESPONSE_REQUESTED,
    Stage.ASSESSMENT,
    Stage.MEDIATION,
    Stage.REMEDIATION,
    Stage.MEDIATION_FAILED,
    Stage.IAP,
    Stage.REMEDY_PENDING,
)

# R-DSP-6: the IAP's three findings, named by the stage each one leads to.
FINDING_LABELS: dict[Stage, str] = {
    Stage.NO_BREACH: "No breach",
    Stage.REMEDY_PENDING: "Breach capable of remedy",
    Stage.NOT_CAPABLE_OF_REMEDY: "Breach not capable of remedy",
}


def iap_finding(stage: Stage, finding_at: object, remedy_due: object) -> Stage | None:
    """The IAP's finding on a case (R-DSP-6), whatever happened after it: a breach capable of
    remedy stays that finding once the remedy is confirmed, declared not made, or the operator
    withdraws during the remedy period (R-DSP-8). The other two findings close the case."""
    if finding_at is None:
        return None
    if remedy_due is not None:
        return Stage.REMEDY_PENDING
    return stage if stage in FINDING_LABELS else None


# R-DSP-6 / R-ESC-1: these outcomes make the matter eligible for the Further Escalation Options.
FURTHER_ESCALATION_ELIGIBLE: frozenset[Stage] = frozenset(
    {Stage.NOT_REMEDIED, Stage.NOT_CAPABLE_OF_REMEDY}
)


class Action(StrEnum):
    """Everything a person can do to a case."""

    OPEN_NEGOTIATION = "open_negotiation"
    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"
    SETTLE = "settle"
    LODGE = "lodge"
    ESCALATE = "escalate"
    REFUSE = "refuse"
    REQUEST_RESPONSE = "request_response"
    SUBMIT_RESPONSE = "submit_response"
    PROCEED_WITHOUT_RESPONSE = "proceed_without_response"
    ISSUE_INSTRUCTION = "issue_instruction"
    RESOLVE_BY_AGREEMENT = "resolve_by_agreement"
    ENGAGE_MEDIATOR = "engage_mediator"
    FILE_DUG_REPORT = "file_dug_report"
    FILE_IFM_REPORT = "file_ifm_report"
    RECORD_MEDIATION_AGREEMENT = "record_mediation_agreement"
    DECLARE_MEDIATION_FAILED = "declare_mediation_failed"
    ADD_REMEDIAL_ACTION = "add_remedial_action"
    COMPLETE_REMEDIAL_ACTION = "complete_remedial_action"
    CLOSE_REMEDIATION = "close_remediation"
    AGREE_TO_BE_BOUND = "agree_to_be_bound"
    ENGAGE_IAP = "engage_iap"
    FIND_NO_BREACH = "find_no_breach"
    FIND_BREACH_REMEDIABLE = "find_breach_remediable"
    FIND_BREACH_NOT_REMEDIABLE = "find_breach_not_remediable"
    CONFIRM_REMEDY = "confirm_remedy"
    DECLARE_NOT_REMEDIED = "declare_not_remedied"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        """A short human label (button text)."""
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.OPEN_NEGOTIATION: "Open direct negotiation",
    Action.ACKNOWLEDGE: "Acknowledge",
    Action.ANSWER: "Answer",
    Action.SETTLE: "Settled: close",
    Action.LODGE: "Lodge complaint with the DUG",
    Action.ESCALATE: "Escalate to the DUG",
    Action.REFUSE: "Refuse (R-DSP-1)",
    Action.REQUEST_RESPONSE: "Request the IFM's written response",
    Action.SUBMIT_RESPONSE: "Submit written response",
    Action.PROCEED_WITHOUT_RESPONSE: "Proceed without response (overdue)",
    Action.ISSUE_INSTRUCTION: "Issue instruction to the IFM",
    Action.RESOLVE_BY_AGREEMENT: "Record agreed outcome",
    Action.ENGAGE_MEDIATOR: "Engage external mediator",
    Action.FILE_DUG_REPORT: "File DUG report to the mediator",
    Action.FILE_IFM_REPORT: "File IFM report to the mediator",
    Action.RECORD_MEDIATION_AGREEMENT: "Record agreement in mediation",
    Action.DECLARE_MEDIATION_FAILED: "Declare mediation failed",
    Action.ADD_REMEDIAL_ACTION: "Add remedial action",
    Action.COMPLETE_REMEDIAL_ACTION: "Record remedial action completed",
    Action.CLOSE_REMEDIATION: "Close: remedial actions complete",
    Action.AGREE_TO_BE_BOUND: "Record agreement to be bound by the IAP",
    Action.ENGAGE_IAP: "Engage the Independent Appeals Panel",
    Action.FIND_NO_BREACH: "Finding: no breach",
    Action.FIND_BREACH_REMEDIABLE: "Finding: breach capable of remedy",
    Action.FIND_BREACH_NOT_REMEDIABLE: "Finding: breach not capable of remedy",
    Action.CONFIRM_REMEDY: "Confirm breach remedied",
    Action.DECLARE_NOT_REMEDIED: "Declare breach not remedied in time",
    Action.WITHDRAW: "Withdraw (R-DSP-8)",
}


class CaseRole(StrEnum):
    """A person's relation to one case (not a global role)."""

    COMPLAINANT = "complainant"  # staff of the complainant operator
    IFM = "ifm"  # IFM staff
    DUG = "dug"  # a non-recused DUG member
    MEDIATOR = "mediator"  # the engaged mediator
    PANELIST = "panelist"  # an engaged IAP panelist


class Subject(StrEnum):
    """What a complaint is about (R-DSP-1)."""

    SERVICE_LEVEL = "service_level"
    PERFORMANCE = "performance"
    DELEGATION = "delegation"
    REDELEGATION = "redelegation"
    POLICY = "policy"


class RefusalGround(StrEnum):
    """Why a complaint is outside the procedure (R-DSP-1)."""

    DELEGATION = "delegation"
    REDELEGATION = "redelegation"
    POLICY = "policy"


REFUSAL_REASONS: dict[RefusalGround, str] = {
    RefusalGround.DELEGATION: (
        "Disputes about the delegation of a TLD are excluded from the dispute procedure."
    ),
    RefusalGround.REDELEGATION: (
        "Disputes about the re-delegation of a TLD are excluded from the dispute procedure."
    ),
    RefusalGround.POLICY: (
        "Policy matters are outside the dispute procedure, which covers agreed service "
        "levels and performance only."
    ),
}


class DeadlineKind(StrEnum):
    """The clocks a case can run."""

    ACKNOWLEDGEMENT = "acknowledgement"  # IFM acknowledges in direct negotiation (1 working day)
    ANSWER = "answer"  # IFM answers in direct negotiation (2 working days)
    RESPONSE = "response"  # IFM written response to the DUG (10 working days, R-DSP-3)
    REMEDY = "remedy"  # IFM remedies a breach (N calendar days, R-DSP-6)


class DocumentKind(StrEnum):
    """The kinds of document in a case file."""

    COMPLAINT = "complaint"
    NEGOTIATION_ANSWER = "negotiation_answer"
    IFM_RESPONSE = "ifm_response"
    INSTRUCTION = "instruction"
    AGREED_OUTCOME = "agreed_outcome"
    DUG_REPORT = "dug_report"
    IFM_REPORT = "ifm_report"
    MEDIATION_OUTCOME = "mediation_outcome"
    REMEDIAL_ACTION = "remedial_action"
    AGREEMENT_TO_BE_BOUND = "agreement_to_be_bound"
    IAP_DECISION = "iap_decision"
    REFUSAL = "refusal"
    WITHDRAWAL = "withdrawal"
    NOTE = "note"


# Permission strings ("resource:action"); steward.authz.Permission carries the same values.
PERM_LODGE = "dispute:lodge"
PERM_RESPOND = "dispute:respond"
PERM_FACILITATE = "dispute:facilitate"
PERM_DECIDE = "dispute:decide"
PERM_MEDIATE = "dispute:mediate"
PERM_ADJUDICATE = "dispute:adjudicate"

# Global roles (steward.authz.Role values) that make someone a DUG member for R-DSP-7.
DUG_ROLES: frozenset[str] = frozenset({"dug_member", "dug_chair", "dug_liaison"})


# --------------------------------------------------------------------------- errors


class DisputeError(Exception):
    """Base of the domain's errors."""


class InvalidInput(DisputeError, ValueError):
    """Bad input for an action; ``field`` names what was wrong. Nothing changes."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class TransitionRefused(DisputeError):
    """The action is not possible now; ``rule`` cites the rule (e.g. ``R-DSP-5``)."""

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


class NotPermitted(DisputeError):
    """The actor may see the case but may not take this action."""


# --------------------------------------------------------------------------- case state


@dataclass(frozen=True)
class Complaint:
    """A written complaint (R-DSP-2): the TLDs, the service levels, what happened, the negotiation tried."""

    tlds: tuple[str, ...]
    service_levels: tuple[str, ...]
    subject: Subject
    what_happened: str
    negotiation: str = ""


@dataclass(frozen=True)
class Refusal:
    """A refusal under R-DSP-1, with the rule id and the reason."""

    ground: RefusalGround
    reason: str
    rule: str = "R-DSP-1"


@dataclass(frozen=True)
class RemedialAction:
    """A remedial action agreed in mediation (R-DSP-4), tracked to completion."""

    description: str
    completed_at: datetime | None = None
    completion_note: str = ""

    @property
    def done(self) -> bool:
        """True once the IFM has recorded it completed."""
        return self.completed_at is not None


@dataclass(frozen=True)
class DisputePolicy:
    """The numbers the seed leaves open, and the calendar (settings)."""

    calendar: WorkdayCalendar = field(default_factory=WorkdayCalendar)
    acknowledgement_working_days: int = 1
    answer_working_days: int = 2
    response_working_days: int = 10
    remedy_days: int = 30
    reminder_working_days: int = 3
    remedy_reminder_days: int = 7


@dataclass(frozen=True)
class Case:
    """Everything the rules need to know about one case. Immutable; :func:`apply` returns a new one."""

    stage: Stage = Stage.START
    complaint: Complaint | None = None
    lodged_at: datetime | None = None
    acknowledgement_due: Deadline | None = None
    acknowledged_at: datetime | None = None
    answer_due: Deadline | None = None
    answered_at: datetime | None = None
    response_due: Deadline | None = None
    responded_at: datetime | None = None
    instructions: int = 0
    mediator_ids: frozenset[int] = frozenset()
    dug_report_filed: bool = False
    ifm_report_filed: bool = False
    remedial_actions: tuple[RemedialAction, ...] = ()
    bound_agreement_at: datetime | None = None
    panelist_ids: frozenset[int] = frozenset()
    finding_at: datetime | None = None
    remedy_due: datetime | None = None
    remedied_at: datetime | None = None
    refusal: Refusal | None = None
    withdrawal_reason: str | None = None
    closed_at: datetime | None = None

    @property
    def archived(self) -> bool:
        """Closed cases are archived and never change again (R-DSP-9)."""
        return self.stage.closed

    @property
    def lodged(self) -> bool:
        """True once the complaint has reached the DUG."""
        return self.lodged_at is not None

    @property
    def eligible_for_further_escalation(self) -> bool:
        """R-DSP-6: not capable of remedy, or not remedied in time."""
        return self.stage in FURTHER_ESCALATION_ELIGIBLE


@dataclass(frozen=True)
class Actor:
    """Who acts: their relations to this case and their global permissions."""

    user_id: int
    relations: frozenset[CaseRole]
    permissions: frozenset[str]


@dataclass(frozen=True)
class ActionInput:
    """What comes with an action. Only the fields an action needs are read."""

    now: datetime
    text: str = ""
    complaint: Complaint | None = None
    refusal_ground: RefusalGround | None = None
    mediator_ids: frozenset[int] = frozenset()
    panelist_ids: frozenset[int] = frozenset()
    remedial_action_index: int | None = None


Guard = Callable[[Case, ActionInput], str | None]


@dataclass(frozen=True)
class Transition:
    """One row of the ladder: source, action, target, guard, who and which permission."""

    source: Stage
    action: Action
    target: Stage
    actor: CaseRole
    permission: str
    event: str
    guard: Guard | None = None
    guard_rule: str | None = None
    guard_text: str = ""


@dataclass(frozen=True)
class Outcome:
    """The result of :func:`apply`: the new case, the row taken, the document the input carried."""

    case: Case
    transition: Transition
    document: DocumentKind | None

    @property
    def event(self) -> str:
        """The audit event tag, e.g. ``dispute:lodged``."""
        return self.transition.event

    @property
    def stage_changed(self) -> bool:
        """True when the case moved to another stage."""
        return self.transition.source != self.transition.target


# --------------------------------------------------------------------------- guards
# A guard returns None when the action may proceed, else the reason (str) it may not.


def _excluded(case: Case, inp: ActionInput) -> str | None:
    complaint = inp.complaint or case.complaint
    if complaint is not None and screen_complaint(complaint) is not None:
        return None
    return "the complaint is within the procedure"


def _not_excluded(case: Case, inp: ActionInput) -> str | None:
    complaint = inp.complaint or case.complaint
    refusal = screen_complaint(complaint) if complaint is not None else None
    return refusal.reason if refusal is not None else None


def _not_acknowledged(case: Case, inp: ActionInput) -> str | None:
    return "already acknowledged" if case.acknowledged_at is not None else None


def _not_answered(case: Case, inp: ActionInput) -> str | None:
    return "already answered" if case.answered_at is not None else None


def _response_overdue(case: Case, inp: ActionInput) -> str | None:
    if case.response_due is None or not case.response_due.is_overdue(inp.now):
        due = case.response_due.due.isoformat() if case.response_due else "unset"
        return f"the IFM's response is not overdue yet (due {due})"
    return None


def _dug_report_filed(case: Case, inp: ActionInput) -> str | None:
    if not case.dug_report_filed:
        return "the DUG's report on previous attempts must be given to the mediator first"
    return None


def _both_reports_filed(case: Case, inp: ActionInput) -> str | None:
    """An agreement in mediation rests on both reports (R-DSP-4). A failure needs only the DUG's:
    an IFM that withholds its report must not keep the operator from the IAP."""
    if not case.ifm_report_filed:
        return "the IFM's report must be given to the mediator first"
    return _dug_report_filed(case, inp)


def _no_dug_report_yet(case: Case, inp: ActionInput) -> str | None:
    return "the DUG's report is already filed" if case.dug_report_filed else None


def _no_ifm_report_yet(case: Case, inp: ActionInput) -> str | None:
    return "the IFM's report is already filed" if case.ifm_report_filed else None


def _remedial_action_open(case: Case, inp: ActionInput) -> str | None:
    i = inp.remedial_action_index
    if i is None or not 0 <= i < len(case.remedial_actions):
        return "no such remedial action"
    if case.remedial_actions[i].done:
        return "that remedial action is already completed"
    return None


def _all_remedial_actions_done(case: Case, inp: ActionInput) -> str | None:
    if not case.remedial_actions:
        return "record at least one remedial action first"
    if not all(a.done for a in case.remedial_actions):
        return "some remedial actions are not completed yet"
    return None


def _not_yet_bound(case: Case, inp: ActionInput) -> str | None:
    return "the agreement is already recorded" if case.bound_agreement_at is not None else None


def _bound(case: Case, inp: ActionInput) -> str | None:
    if case.bound_agreement_at is None:
        return (
            "the IAP cannot be engaged before the operator's explicit agreement to be bound "
            "is recorded"
        )
    return None


def _before_remedy_due(case: Case, inp: ActionInput) -> str | None:
    if case.remedy_due is not None and inp.now >= case.remedy_due:
        return f"the remedy period ended at {case.remedy_due.isoformat()}"
    return None


def _remedy_period_over(case: Case, inp: ActionInput) -> str | None:
    if case.remedy_due is None or inp.now < case.remedy_due:
        due = case.remedy_due.isoformat() if case.remedy_due else "unset"
        return f"the remedy period has not ended (due {due})"
    return None


# --------------------------------------------------------------------------- the table

_C, _I, _D, _M, _P = (
    CaseRole.COMPLAINANT,
    CaseRole.IFM,
    CaseRole.DUG,
    CaseRole.MEDIATOR,
    CaseRole.PANELIST,
)
S, A = Stage, Action


def _t(
    source: Stage,
    action: Action,
    target: Stage,
    actor: CaseRole,
    permission: str,
    event: str,
    guard: Guard | None = None,
    rule: str | None = None,
    text: str = "",
) -> Transition:
    return Transition(
        source, action, target, actor, permission, f"dispute:{event}", guard, rule, text
    )


_PRE_IAP_OPEN = (
    S.NEGOTIATION,
    S.LODGED,
    S.RESPONSE_REQUESTED,
    S.ASSESSMENT,
    S.MEDIATION,
    S.MEDIATION_FAILED,
)
_REFUSABLE = (S.LODGED, S.RESPONSE_REQUESTED, S.ASSESSMENT)

TRANSITIONS: tuple[Transition, ...] = (
    # direct negotiation (R-DSP-2): optional; the DUG is not engaged
    _t(S.START, A.OPEN_NEGOTIATION, S.NEGOTIATION, _C, PERM_LODGE, "negotiation_opened"),
    _t(S.NEGOTIATION, A.ACKNOWLEDGE, S.NEGOTIATION, _I, PERM_RESPOND, "acknowledged",
       _not_acknowledged, None, "not yet acknowledged"),
    _t(S.NEGOTIATION, A.ANSWER, S.NEGOTIATION, _I, PERM_RESPOND, "answered",
       _not_answered, None, "not yet answered"),
    _t(S.NEGOTIATION, A.SETTLE, S.SETTLED, _C, PERM_LODGE, "settled"),
    # lodging with the DUG (R-DSP-1, R-DSP-3); excluded subjects are refused at the door
    _t(S.START, A.LODGE, S.REFUSED, _C, PERM_LODGE, "refused", _excluded, "R-DSP-1",
       "delegation, re-delegation or policy"),
    _t(S.START, A.LODGE, S.LODGED, _C, PERM_LODGE, "lodged", _not_excluded, "R-DSP-1",
       "service levels or performance"),
    _t(S.NEGOTIATION, A.ESCALATE, S.REFUSED, _C, PERM_LODGE, "refused", _excluded, "R-DSP-1",
       "delegation, re-delegation or policy"),
    _t(S.NEGOTIATION, A.ESCALATE, S.LODGED, _C, PERM_LODGE, "lodged", _not_excluded, "R-DSP-1",
       "service levels or performance"),
    *(_t(s, A.REFUSE, S.REFUSED, _D, PERM_DECIDE, "refused") for s in _REFUSABLE),
    _t(S.LODGED, A.REQUEST_RESPONSE, S.RESPONSE_REQUESTED, _D, PERM_FACILITATE,
       "response_requested"),
    _t(S.RESPONSE_REQUESTED, A.SUBMIT_RESPONSE, S.ASSESSMENT, _I, PERM_RESPOND,
       "response_submitted"),
    _t(S.RESPONSE_REQUESTED, A.PROCEED_WITHOUT_RESPONSE, S.ASSESSMENT, _D, PERM_FACILITATE,
       "proceeded_without_response", _response_overdue, "R-DSP-3", "the response is overdue"),
    # DUG assessment and facilitation (R-DSP-3)
    _t(S.ASSESSMENT, A.ISSUE_INSTRUCTION, S.ASSESSMENT, _D, PERM_DECIDE, "instruction_issued"),
    _t(S.ASSESSMENT, A.RESOLVE_BY_AGREEMENT, S.RESOLVED_BY_AGREEMENT, _D, PERM_DECIDE,
       "resolved_by_agreement"),
    _t(S.ASSESSMENT, A.ENGAGE_MEDIATOR, S.MEDIATION, _D, PERM_DECIDE, "mediator_engaged"),
    # mediation (R-DSP-4)
    _t(S.MEDIATION, A.FILE_DUG_REPORT, S.MEDIATION, _D, PERM_FACILITATE, "dug_report_filed",
       _no_dug_report_yet, None, "no DUG report yet"),
    _t(S.MEDIATION, A.FILE_IFM_REPORT, S.MEDIATION, _I, PERM_RESPOND, "ifm_report_filed",
       _no_ifm_report_yet, None, "no IFM report yet"),
    _t(S.MEDIATION, A.RECORD_MEDIATION_AGREEMENT, S.REMEDIATION, _M, PERM_MEDIATE,
       "mediation_agreed", _both_reports_filed, "R-DSP-4", "the DUG's and the IFM's reports are on file"),
    _t(S.MEDIATION, A.DECLARE_MEDIATION_FAILED, S.MEDIATION_FAILED, _M, PERM_MEDIATE,
       "mediation_failed", _dug_report_filed, "R-DSP-4", "the DUG's report is on file"),
    _t(S.REMEDIATION, A.ADD_REMEDIAL_ACTION, S.REMEDIATION, _D, PERM_FACILITATE,
       "remedial_action_added"),
    _t(S.REMEDIATION, A.COMPLETE_REMEDIAL_ACTION, S.REMEDIATION, _I, PERM_RESPOND,
       "remedial_action_completed", _remedial_action_open, "R-DSP-4", "the action is open"),
    _t(S.REMEDIATION, A.CLOSE_REMEDIATION, S.RESOLVED_IN_MEDIATION, _D, PERM_DECIDE,
       "resolved_in_mediation", _all_remedial_actions_done, "R-DSP-4",
       "every remedial action is completed"),
    # the IAP (R-DSP-5, R-DSP-6)
    *(
        _t(s, A.AGREE_TO_BE_BOUND, s, _C, PERM_LODGE, "agreed_to_be_bound", _not_yet_bound,
           "R-DSP-5", "not yet recorded")
        for s in _PRE_IAP_OPEN
    ),
    _t(S.MEDIATION_FAILED, A.ENGAGE_IAP, S.IAP, _D, PERM_DECIDE, "iap_engaged", _bound,
       "R-DSP-5", "the operator's agreement to be bound is recorded"),
    _t(S.IAP, A.FIND_NO_BREACH, S.NO_BREACH, _P, PERM_ADJUDICATE, "finding_no_breach"),
    _t(S.IAP, A.FIND_BREACH_REMEDIABLE, S.REMEDY_PENDING, _P, PERM_ADJUDICATE,
       "finding_breach_remediable"),
    _t(S.IAP, A.FIND_BREACH_NOT_REMEDIABLE, S.NOT_CAPABLE_OF_REMEDY, _P, PERM_ADJUDICATE,
       "finding_breach_not_remediable"),
    _t(S.REMEDY_PENDING, A.CONFIRM_REMEDY, S.REMEDIED, _D, PERM_DECIDE, "remedied",
       _before_remedy_due, "R-DSP-6", "within the remedy period"),
    _t(S.REMEDY_PENDING, A.DECLARE_NOT_REMEDIED, S.NOT_REMEDIED, _D, PERM_DECIDE, "not_remedied",
       _remedy_period_over, "R-DSP-6", "the remedy period is over"),
    # the operator's right to legal action (R-DSP-8): withdraw from any open stage
    *(
        _t(s, A.WITHDRAW, S.WITHDRAWN, _C, PERM_LODGE, "withdrawn")
        for s in sorted(OPEN_STAGES, key=lambda s: list(Stage).index(s))
    ),
)  # fmt: skip

del S, A

# The document an action's text becomes in the case file.
ACTION_DOCUMENT: dict[Action, DocumentKind] = {
    Action.OPEN_NEGOTIATION: DocumentKind.COMPLAINT,
    Action.LODGE: DocumentKind.COMPLAINT,
    Action.ESCALATE: DocumentKind.COMPLAINT,
    Action.ANSWER: DocumentKind.NEGOTIATION_ANSWER,
    Action.REFUSE: DocumentKind.REFUSAL,
    Action.SUBMIT_RESPONSE: DocumentKind.IFM_RESPONSE,
    Action.ISSUE_INSTRUCTION: DocumentKind.INSTRUCTION,
    Action.RESOLVE_BY_AGREEMENT: DocumentKind.AGREED_OUTCOME,
    Action.FILE_DUG_REPORT: DocumentKind.DUG_REPORT,
    Action.FILE_IFM_REPORT: DocumentKind.IFM_REPORT,
    Action.RECORD_MEDIATION_AGREEMENT: DocumentKind.MEDIATION_OUTCOME,
    Action.DECLARE_MEDIATION_FAILED: DocumentKind.MEDIATION_OUTCOME,
    Action.ADD_REMEDIAL_ACTION: DocumentKind.REMEDIAL_ACTION,
    Action.COMPLETE_REMEDIAL_ACTION: DocumentKind.REMEDIAL_ACTION,
    Action.AGREE_TO_BE_BOUND: DocumentKind.AGREEMENT_TO_BE_BOUND,
    Action.FIND_NO_BREACH: DocumentKind.IAP_DECISION,
    Action.FIND_BREACH_REMEDIABLE: DocumentKind.IAP_DECISION,
    Action.FIND_BREACH_NOT_REMEDIABLE: DocumentKind.IAP_DECISION,
    Action.WITHDRAW: DocumentKind.WITHDRAWAL,
}

# Actions whose text is required (a written document or a recorded reason).
TEXT_REQUIRED: frozenset[Action] = frozenset(
    set(ACTION_DOCUMENT) - {Action.OPEN_NEGOTIATION, Action.LODGE, Action.ESCALATE}
)


def transitions_from(stage: Stage) -> list[Transition]:
    """Every row leaving ``stage`` (self-transitions included), in table order."""
    return [t for t in TRANSITIONS if t.source == stage]


def rows_for(stage: Stage, action: Action) -> list[Transition]:
    """The rows for ``action`` at ``stage``, in table order (the first passing guard wins)."""
    return [t for t in TRANSITIONS if t.source == stage and t.action == action]


# --------------------------------------------------------------------------- complaints

_TLD_LABEL = re.compile(r"^[a-z0-9\-]{1,63}$")


def normalise_tld(raw: str) -> str:
    """Lower-case A-label without a leading dot; a U-label is converted (IDNA, UTS 46).

    Raises :class:`InvalidInput` (field ``tlds``).
    """
    tld = raw.strip().lower().lstrip(".")
    if not tld.isascii():
        try:
            tld = idna.encode(tld, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise InvalidInput(f"{raw!r} is not a valid internationalised TLD", "tlds") from None
    if not tld or not _TLD_LABEL.match(tld) or tld.startswith("-") or tld.endswith("-"):
        raise InvalidInput(f"{raw!r} is not a TLD (give its A-label, e.g. 'example')", "tlds")
    return tld


def validate_complaint(complaint: Complaint, *, require_negotiation: bool = True) -> Complaint:
    """Check a complaint names what R-DSP-2 asks for; return it normalised.

    Raises :class:`InvalidInput` naming the field: ``tlds``, ``service_levels``,
    ``what_happened`` or ``negotiation`` (which an excluded complaint, refused under R-DSP-1, need
    not give).
    """
    # R-DSP-1: an excluded complaint is refused with the reason, whatever else it leaves out: a
    # policy matter may concern no TLD, and no negotiation is asked for before the refusal
    excluded = screen_complaint(complaint) is not None
    tlds = tuple(dict.fromkeys(normalise_tld(t) for t in complaint.tlds if t.strip()))
    if not tlds and complaint.subject is not Subject.POLICY:
        raise InvalidInput("name at least one TLD concerned", "tlds")
    levels = tuple(dict.fromkeys(s.strip() for s in complaint.service_levels if s.strip()))
    if not levels and complaint.subject in (Subject.SERVICE_LEVEL, Subject.PERFORMANCE):
        raise InvalidInput("name at least one service level concerned", "service_levels")
    what = complaint.what_happened.strip()
    if not what:
        raise InvalidInput("describe what happened", "what_happened")
    negotiation = complaint.negotiation.strip()
    if require_negotiation and not negotiation and not excluded:
        raise InvalidInput(
            "describe the direct negotiation tried with the IFM (R-DSP-2)", "negotiation"
        )
    return Complaint(tlds, levels, complaint.subject, what, negotiation)


def screen_complaint(complaint: Complaint) -> Refusal | None:
    """R-DSP-1: a refusal (rule id and reason) for delegation, re-delegation or policy complaints."""
    ground = {
        Subject.DELEGATION: RefusalGround.DELEGATION,
        Subject.REDELEGATION: RefusalGround.REDELEGATION,
        Subject.POLICY: RefusalGround.POLICY,
    }.get(complaint.subject)
    return Refusal(ground, REFUSAL_REASONS[ground]) if ground is not None else None


# --------------------------------------------------------------------------- apply


def apply(
    case: Case,
    action: Action,
    actor: Actor,
    inp: ActionInput,
    policy: DisputePolicy | None = None,
) -> Outcome:
    """Take ``action`` on ``case``: check stage, actor, input and guard; return the new case.

    Raises :class:`TransitionRefused` (archived case, wrong stage, failed guard — with the
    rule id), :class:`NotPermitted` (wrong relation or permission) or :class:`InvalidInput`
    (a missing or bad field). Never mutates ``case``.
    """
    pol = policy or DisputePolicy()
    if inp.now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware", "now")
    if case.archived:
        raise TransitionRefused(
            f"the case is closed ({case.stage.label}) and archived; archived records never change",
            "R-DSP-9",
        )
    rows = rows_for(case.stage, action)
    if not rows:
        raise TransitionRefused(f"'{action.label}' is not possible at stage '{case.stage.label}'")
    allowed = [t for t in rows if t.actor in actor.relations and t.permission in actor.permissions]
    if not allowed:
        who = ", ".join(sorted({t.actor.value for t in rows}))
        raise NotPermitted(f"only the {who} may {action.label.lower()} at this stage")
    checked = _validate_input(case, action, inp)
    refusals: list[tuple[str, str | None]] = []
    for row in allowed:
        reason = row.guard(case, checked) if row.guard is not None else None
        if reason is None:
            return Outcome(_effect(case, row, checked, pol), row, ACTION_DOCUMENT.get(action))
        refusals.append((reason, row.guard_rule))
    raise TransitionRefused(*refusals[0])


def _validate_input(case: Case, action: Action, inp: ActionInput) -> ActionInput:
    if action in TEXT_REQUIRED and not inp.text.strip():
        name = "reason" if action in (Action.WITHDRAW, Action.REFUSE) else "text"
        raise InvalidInput(f"'{action.label}' needs a written {name}", name)
    if action in (Action.LODGE, Action.ESCALATE, Action.OPEN_NEGOTIATION):
        if inp.complaint is None:
            raise InvalidInput("the complaint is missing", "complaint")
        complaint = validate_complaint(
            inp.complaint, require_negotiation=action is not Action.OPEN_NEGOTIATION
        )
        return replace(inp, complaint=complaint, text=inp.text.strip())
    if action is Action.REFUSE and inp.refusal_ground is None:
        raise InvalidInput(
            "choose the ground: delegation, re-delegation or policy (R-DSP-1)", "refusal_ground"
        )
    if action is Action.ENGAGE_MEDIATOR and not inp.mediator_ids:
        raise InvalidInput("name the mediator engaged", "mediator_ids")
    if action is Action.ENGAGE_IAP and not inp.panelist_ids:
        raise InvalidInput("name at least one IAP panelist", "panelist_ids")
    if action is Action.COMPLETE_REMEDIAL_ACTION and inp.remedial_action_index is None:
        raise InvalidInput("say which remedial action is completed", "remedial_action_index")
    return replace(inp, text=inp.text.strip())


def _effect(case: Case, row: Transition, inp: ActionInput, pol: DisputePolicy) -> Case:
    now = inp.now
    a = row.action
    changes: dict[str, object] = {"stage": row.target}
    if row.target.closed:
        changes["closed_at"] = now
    if a is Action.OPEN_NEGOTIATION:
        changes["complaint"] = inp.complaint
        changes["acknowledgement_due"] = working_day_deadline(
            now, pol.acknowledgement_working_days, pol.calendar
        )
        changes["answer_due"] = working_day_deadline(now, pol.answer_working_days, pol.calendar)
    elif a in (Action.LODGE, Action.ESCALATE):
        changes["complaint"] = inp.complaint
        changes["lodged_at"] = now
        if row.target is Stage.REFUSED and inp.complaint is not None:
            changes["refusal"] = screen_complaint(inp.complaint)
    elif a is Action.ACKNOWLEDGE:
        changes["acknowledged_at"] = now
    elif a is Action.ANSWER:
        changes["answered_at"] = now
        changes["acknowledged_at"] = case.acknowledged_at or now
    elif a is Action.REFUSE and inp.refusal_ground is not None:
        changes["refusal"] = Refusal(inp.refusal_ground, inp.text)
    elif a is Action.REQUEST_RESPONSE:
        changes["response_due"] = working_day_deadline(now, pol.response_working_days, pol.calendar)
    elif a is Action.SUBMIT_RESPONSE:
        changes["responded_at"] = now
    elif a is Action.ISSUE_INSTRUCTION:
        changes["instructions"] = case.instructions + 1
    elif a is Action.ENGAGE_MEDIATOR:
        changes["mediator_ids"] = case.mediator_ids | inp.mediator_ids
    elif a is Action.FILE_DUG_REPORT:
        changes["dug_report_filed"] = True
    elif a is Action.FILE_IFM_REPORT:
        changes["ifm_report_filed"] = True
    elif a is Action.ADD_REMEDIAL_ACTION:
        changes["remedial_actions"] = (*case.remedial_actions, RemedialAction(inp.text))
    elif a is Action.COMPLETE_REMEDIAL_ACTION and inp.remedial_action_index is not None:
        actions = list(case.remedial_actions)
        i = inp.remedial_action_index
        actions[i] = replace(actions[i], completed_at=now, completion_note=inp.text)
        changes["remedial_actions"] = tuple(actions)
    elif a is Action.AGREE_TO_BE_BOUND:
        changes["bound_agreement_at"] = now
    elif a is Action.ENGAGE_IAP:
        changes["panelist_ids"] = case.panelist_ids | inp.panelist_ids
    elif a in (Action.FIND_NO_BREACH, Action.FIND_BREACH_NOT_REMEDIABLE):
        changes["finding_at"] = now
    elif a is Action.FIND_BREACH_REMEDIABLE:
        changes["finding_at"] = now
        changes["remedy_due"] = calendar_day_deadline(now, pol.remedy_days)
    elif a is Action.CONFIRM_REMEDY:
        changes["remedied_at"] = now
    elif a is Action.WITHDRAW:
        changes["withdrawal_reason"] = inp.text
    return replace(case, **changes)  # type: ignore[arg-type]


def available_actions(case: Case, actor: Actor, now: datetime) -> list[Action]:
    """Actions ``actor`` could take now (guards that depend only on the case and time)."""
    if case.archived:
        return []
    probe = ActionInput(now=now, remedial_action_index=_first_open_remedial(case))
    seen: dict[Action, None] = {}
    for t in transitions_from(case.stage):
        if t.actor not in actor.relations or t.permission not in actor.permissions:
            continue
        if t.guard in (_excluded, _not_excluded) or t.guard is None or t.guard(case, probe) is None:
            seen[t.action] = None
    return list(seen)


def _first_open_remedial(case: Case) -> int | None:
    return next((i for i, a in enumerate(case.remedial_actions) if not a.done), None)


# --------------------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class Notice:
    """A notification due for a case now; ``key`` makes sending it idempotent."""

    kind: str
    deadline: DeadlineKind
    due: datetime

    @property
    def key(self) -> str:
        """Stable per case and kind (the outbox key is ``dispute:<id>:<key>``)."""
        return f"{self.deadline.value}:{self.kind}"


def open_deadlines(case: Case) -> dict[DeadlineKind, datetime]:
    """Deadlines still running: the moment each falls due."""
    return running_deadlines(
        case.stage,
        acknowledgement_due=case.acknowledgement_due.due if case.acknowledgement_due else None,
        acknowledged=case.acknowledged_at is not None,
        answer_due=case.answer_due.due if case.answer_due else None,
        answered=case.answered_at is not None,
        response_due=case.response_due.due if case.response_due else None,
        remedy_due=case.remedy_due,
    )


def running_deadlines(
    stage: Stage, *, acknowledgement_due: datetime | None, acknowledged: bool, answer_due: datetime | None,
    answered: bool, response_due: datetime | None, remedy_due: datetime | None,
) -> dict[DeadlineKind, datetime]:
    """``open_deadlines`` from the moments the deadlines fall due (what a list of many cases reads)."""
    out: dict[DeadlineKind, datetime] = {}
    if stage is Stage.NEGOTIATION:
        if acknowledgement_due is not None and not acknowledged:
            out[DeadlineKind.ACKNOWLEDGEMENT] = acknowledgement_due
        if answer_due is not None and not answered:
            out[DeadlineKind.ANSWER] = answer_due
    if stage is Stage.RESPONSE_REQUESTED and response_due is not None:
        out[DeadlineKind.RESPONSE] = response_due
    if stage is Stage.REMEDY_PENDING and remedy_due is not None:
        out[DeadlineKind.REMEDY] = remedy_due
    return out


def overdue(case: Case, now: datetime) -> frozenset[DeadlineKind]:
    """Running deadlines that have passed: flagged on the case and in the DUG's queue."""
    return passed(open_deadlines(case), now)


def passed(deadlines: dict[DeadlineKind, datetime], now: datetime) -> frozenset[DeadlineKind]:
    """Which of these running deadlines have passed at ``now``."""
    return frozenset(k for k, due in deadlines.items() if now >= due)


def next_due(case: Case) -> datetime | None:
    """The earliest running deadline, for sorting queues."""
    return min(open_deadlines(case).values(), default=None)


def notices_due(case: Case, now: datetime, policy: DisputePolicy | None = None) -> list[Notice]:
    """Reminders and overdue notices that should have been sent by ``now``.

    "Response due in 3 working days" from the close of working day N−3; "remedy due" a
    set number of calendar days before the remedy deadline; "overdue" at the deadline.
    """
    pol = policy or DisputePolicy()
    out: list[Notice] = []
    for kind, due in open_deadlines(case).items():
        if now >= due:
            out.append(Notice("overdue", kind, due))
            continue
        if kind is DeadlineKind.RESPONSE and case.response_due is not None:
            remind = case.response_due.remaining_at(pol.reminder_working_days)
        elif kind is DeadlineKind.REMEDY:
            remind = due - timedelta(days=pol.remedy_reminder_days)
        else:
            continue
        if now >= remind:
            out.append(Notice("due_soon", kind, due))
    return out


def recompute_deadlines(case: Case, calendar: WorkdayCalendar) -> tuple[Case, list[DeadlineKind]]:
    """Recount the running working-day deadlines on ``calendar``; return what changed."""
    running = open_deadlines(case)
    changes: dict[str, Deadline] = {}
    changed: list[DeadlineKind] = []
    for kind, attr in (
        (DeadlineKind.ACKNOWLEDGEMENT, "acknowledgement_due"),
        (DeadlineKind.ANSWER, "answer_due"),
        (DeadlineKind.RESPONSE, "response_due"),
    ):
        old: Deadline | None = getattr(case, attr)
        if kind not in running or old is None:
            continue
        new = recompute(old, calendar)
        if new != old:
            changes[attr] = new
            changed.append(kind)
    return (replace(case, **changes) if changes else case), changed  # type: ignore[arg-type]


# --------------------------------------------------------------------------- visibility


@dataclass(frozen=True)
class Viewer:
    """Who is looking: user id (None when anonymous), global role values, organisation."""

    user_id: int | None
    roles: frozenset[str]
    organisation_id: int | None

    @classmethod
    def anonymous(cls) -> Viewer:
        """The public."""
        return cls(None, frozenset(), None)


@dataclass(frozen=True)
class CaseParties:
    """The facts of a case that decide who sees it."""

    complainant_org_id: int
    ifm_org_ids: frozenset[int] = frozenset()
    lodged: bool = False
    mediator_ids: frozenset[int] = frozenset()
    panelist_ids: frozenset[int] = frozenset()
    disclosed: bool = False


def is_recused(viewer: Viewer, parties: CaseParties) -> bool:
    """R-DUG-3: a DUG member whose own organisation is a party (the operator or the IFM)."""
    if not viewer.roles & DUG_ROLES or viewer.organisation_id is None:
        return False
    return viewer.organisation_id in parties.ifm_org_ids | {parties.complainant_org_id}


def relations(viewer: Viewer, parties: CaseParties) -> frozenset[CaseRole]:
    """The viewer's relations to a case under R-DSP-7 (empty: a stranger to it).

    * complainant: operator staff of the complainant organisation;
    * IFM: IFM staff;
    * DUG: DUG members, once the complaint is lodged with the DUG, unless recused (R-DUG-3);
    * mediator / panelist: only the persons engaged on this case.
    The system administrator, auditors, other operators and the public have none.
    """
    out: set[CaseRole] = set()
    if "operator_staff" in viewer.roles and viewer.organisation_id == parties.complainant_org_id:
        out.add(CaseRole.COMPLAINANT)
    if "ifm_staff" in viewer.roles:
        out.add(CaseRole.IFM)
    if viewer.roles & DUG_ROLES and parties.lodged and not is_recused(viewer, parties):
        out.add(CaseRole.DUG)
    if viewer.user_id is not None:
        if "mediator" in viewer.roles and viewer.user_id in parties.mediator_ids:
            out.add(CaseRole.MEDIATOR)
        if "iap_panelist" in viewer.roles and viewer.user_id in parties.panelist_ids:
            out.add(CaseRole.PANELIST)
    return frozenset(out)


def can_see(viewer: Viewer, parties: CaseParties) -> bool:
    """True when the viewer may see the confidential record (or both parties disclosed it)."""
    return parties.disclosed or bool(relations(viewer, parties))


# Disclosure (R-DSP-7): each party's consent is recorded; with both, the record is public.
# Consents are kept beside the case, not in it, so they can be given after it is archived
# without altering the archived record.
DISCLOSING_PARTIES: frozenset[CaseRole] = frozenset({CaseRole.COMPLAINANT, CaseRole.IFM})


def disclosure_party(actor_relations: Iterable[CaseRole]) -> CaseRole:
    """Which party a consent to disclosure speaks for; raises :class:`NotPermitted` if none."""
    rels = set(actor_relations)
    for party in (CaseRole.COMPLAINANT, CaseRole.IFM):
        if party in rels:
            return party
    raise NotPermitted("only the complainant operator or the IFM can consent to disclosure")


def is_disclosed(consents: Iterable[CaseRole]) -> bool:
    """True once both parties have consented."""
    return set(consents) >= DISCLOSING_PARTIES


# --------------------------------------------------------------------------- attachments

ALLOWED_CONTENT_TYPES: Mapping[str, str] = {
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
_SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ \-]+")


@dataclass(frozen=True)
class AttachmentFacts:
    """A checked attachment: safe file name, content type, size and SHA-256 digest."""

    filename: str
    content_type: str
    size: int
    sha256: str


def check_attachment(
    filename: str, content_type: str, data: bytes, max_bytes: int
) -> AttachmentFacts:
    """Check size and content type (declared type must match the bytes); compute SHA-256.

    Raises :class:`InvalidInput` with field ``attachment``.
    """
    ctype = content_type.split(";", 1)[0].strip().lower()
    name = _SAFE_NAME.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")[:200]
    if not name:
        raise InvalidInput("the attachment has no file name", "attachment")
    if not data:
        raise InvalidInput(f"{name}: the file is empty", "attachment")
    if len(data) > max_bytes:
        raise InvalidInput(
            f"{name}: {len(data)} bytes is over the limit of {max_bytes} bytes", "attachment"
        )
    if ctype not in ALLOWED_CONTENT_TYPES:
        allowed = ", ".join(ALLOWED_CONTENT_TYPES)
        raise InvalidInput(
            f"{name}: type {ctype or 'unknown'} not accepted ({allowed})", "attachment"
        )
    if not _content_matches(ctype, data):
        raise InvalidInput(f"{name}: the content is not {ctype}", "attachment")
    return AttachmentFacts(name, ctype, len(data), hashlib.sha256(data).hexdigest())


def _content_matches(ctype: str, data: bytes) -> bool:
    if ctype == "text/plain":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return "\x00" not in text
    return data.startswith(_SIGNATURES[ctype])


# --------------------------------------------------------------------------- diagram


def ladder_mermaid() -> str:
    """The ladder as a Mermaid state diagram, generated from :data:`TRANSITIONS`.

    Withdrawal (from every open stage) and the agreement to be bound (a self-transition at
    every stage before the IAP) are drawn once each, as notes, to keep the picture readable.
    """
    lines = ["stateDiagram-v2", "    direction TB"]
    seen: set[tuple[Stage, Stage, Action]] = set()
    for t in TRANSITIONS:
        if t.action in (Action.WITHDRAW, Action.AGREE_TO_BE_BOUND):
            continue
        key = (t.source, t.target, t.action)
        if key in seen:
            continue
        seen.add(key)
        src = "[*]" if t.source is Stage.START else t.source.value
        guard = f" [{t.guard_rule}]" if t.guard_rule else ""
        lines.append(f"    {src} --> {t.target.value}: {t.action.value}{guard}")
    for stage in sorted(CLOSED_STAGES, key=lambda s: list(Stage).index(s)):
        lines.append(f"    {stage.value} --> [*]")
    lines.append("    note right of lodged: withdraw (R-DSP-8) from every open stage → withdrawn")
    lines.append(
        "    note right of mediation_failed: agree_to_be_bound (R-DSP-5) at any stage before the IAP"
    )
    return "\n".join(lines)


def ladder_dot() -> str:
    """The ladder as a Graphviz digraph, generated from :data:`TRANSITIONS` (same reading as
    :func:`ladder_mermaid`); rendered to ``docs/disputes-ladder.svg`` by ``scripts/render-ladder``."""
    lines = [
        "digraph ladder {",
        '    rankdir=TB; node [shape=box, style="rounded", fontname="DejaVu Sans", fontsize=10];',
        '    edge [fontname="DejaVu Sans", fontsize=8];',
        '    start [shape=circle, label="", width=0.2, style=filled, fillcolor=black];',
    ]
    seen: set[tuple[Stage, Stage, Action]] = set()
    for t in TRANSITIONS:
        if t.action in (Action.WITHDRAW, Action.AGREE_TO_BE_BOUND):
            continue
        key = (t.source, t.target, t.action)
        if key in seen:
            continue
        seen.add(key)
        src = "start" if t.source is Stage.START else t.source.value
        guard = f"\\n[{t.guard_rule}]" if t.guard_rule else ""
        lines.append(f'    {src} -> {t.target.value} [label="{t.action.value}{guard}"];')
    for stage in sorted(CLOSED_STAGES, key=lambda s: list(Stage).index(s)):
        lines.append(f"    {stage.value} [peripheries=2];")
    lines.append(
        '    note [shape=note, label="withdraw (R-DSP-8) from every open stage -> withdrawn\\n'
        'agree_to_be_bound (R-DSP-5) at any stage before the IAP"];'
    )
    lines.append("}")
    return "\n".join(lines) + "\n"
