"""Builders for dispute domain tests: actors, inputs and cases walked up the ladder."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from steward.disputes.domain import (
    PERM_ADJUDICATE,
    PERM_DECIDE,
    PERM_FACILITATE,
    PERM_LODGE,
    PERM_MEDIATE,
    PERM_RESPOND,
    Action,
    ActionInput,
    Actor,
    Case,
    CaseRole,
    Complaint,
    DisputePolicy,
    Stage,
    Subject,
    apply,
)

LA = ZoneInfo("America/Los_Angeles")
T0 = datetime(2025, 11, 24, 10, 0, tzinfo=LA)  # Monday before Thanksgiving
POLICY = DisputePolicy()

OPERATOR = Actor(1, frozenset({CaseRole.COMPLAINANT}), frozenset({PERM_LODGE}))
IFM = Actor(2, frozenset({CaseRole.IFM}), frozenset({PERM_RESPOND}))
DUG_MEMBER = Actor(3, frozenset({CaseRole.DUG}), frozenset({PERM_FACILITATE}))
DUG_CHAIR = Actor(4, frozenset({CaseRole.DUG}), frozenset({PERM_FACILITATE, PERM_DECIDE}))
MEDIATOR = Actor(5, frozenset({CaseRole.MEDIATOR}), frozenset({PERM_MEDIATE}))
PANELIST = Actor(6, frozenset({CaseRole.PANELIST}), frozenset({PERM_ADJUDICATE}))
STRANGER = Actor(9, frozenset(), frozenset({PERM_LODGE, PERM_DECIDE}))

ACTOR_FOR: dict[CaseRole, Actor] = {
    CaseRole.COMPLAINANT: OPERATOR,
    CaseRole.IFM: IFM,
    CaseRole.DUG: DUG_CHAIR,
    CaseRole.MEDIATOR: MEDIATOR,
    CaseRole.PANELIST: PANELIST,
}


def complaint(subject: Subject = Subject.SERVICE_LEVEL) -> Complaint:
    return Complaint(
        tlds=(".Example",),
        service_levels=("released→published 72 h",),
        subject=subject,
        what_happened="NS change for .example took 9 days to publish.",
        negotiation="Ticket 1234 opened 3 Nov; IFM answered but did not fix it.",
    )


def inp(now: datetime = T0, **kw: object) -> ActionInput:
    return ActionInput(now=now, **kw)  # type: ignore[arg-type]


# The happy path up the ladder, with the actor and extra input for each action.
LADDER_STEPS: list[tuple[Action, Actor, dict[str, object]]] = [
    (Action.LODGE, OPERATOR, {"complaint": complaint()}),
    (Action.REQUEST_RESPONSE, DUG_MEMBER, {}),
    (Action.SUBMIT_RESPONSE, IFM, {"text": "We accept a delay."}),
    (Action.ISSUE_INSTRUCTION, DUG_CHAIR, {"text": "Publish within 24 h."}),
    (Action.ENGAGE_MEDIATOR, DUG_CHAIR, {"mediator_ids": frozenset({5})}),
    (Action.FILE_DUG_REPORT, DUG_MEMBER, {"text": "Facilitation attempts: ..."}),
    (Action.FILE_IFM_REPORT, IFM, {"text": "Our view: ..."}),
    (Action.AGREE_TO_BE_BOUND, OPERATOR, {"text": "We agree to be bound by the IAP."}),
    (Action.DECLARE_MEDIATION_FAILED, MEDIATOR, {"text": "No agreement reached."}),
    (Action.ENGAGE_IAP, DUG_CHAIR, {"panelist_ids": frozenset({6})}),
    (Action.FIND_BREACH_REMEDIABLE, PANELIST, {"text": "Breach; remediable."}),
]


def walk(steps: list[tuple[Action, Actor, dict[str, object]]], now: datetime = T0) -> Case:
    case = Case()
    for i, (action, actor, extra) in enumerate(steps):
        case = apply(case, action, actor, inp(now + timedelta(hours=i), **extra), POLICY).case
    return case


def case_at(stage: Stage) -> Case:
    """A case brought to ``stage`` through the ladder (consent recorded before mediation)."""
    if stage is Stage.START:
        return Case()
    if stage is Stage.NEGOTIATION:
        return walk([(Action.OPEN_NEGOTIATION, OPERATOR, {"complaint": complaint()})])
    order = [
        Stage.LODGED,
        Stage.RESPONSE_REQUESTED,
        Stage.ASSESSMENT,
        Stage.ASSESSMENT,
        Stage.MEDIATION,
        Stage.MEDIATION,
        Stage.MEDIATION,
        Stage.MEDIATION,
        Stage.MEDIATION_FAILED,
        Stage.IAP,
        Stage.REMEDY_PENDING,
    ]
    if stage in order:
        return walk(LADDER_STEPS[: order.index(stage) + 1])
    if stage is Stage.REMEDIATION:
        return walk(
            [
                *LADDER_STEPS[:7],
                (Action.RECORD_MEDIATION_AGREEMENT, MEDIATOR, {"text": "Agreed: fix + report."}),
            ]
        )
    closing: dict[Stage, list[tuple[Action, Actor, dict[str, object]]]] = {
        Stage.SETTLED: [
            (Action.OPEN_NEGOTIATION, OPERATOR, {"complaint": complaint()}),
            (Action.SETTLE, OPERATOR, {}),
        ],
        Stage.REFUSED: [(Action.LODGE, OPERATOR, {"complaint": complaint(Subject.POLICY)})],
        Stage.WITHDRAWN: [
            LADDER_STEPS[0],
            (Action.WITHDRAW, OPERATOR, {"text": "Going to court."}),
        ],
        Stage.RESOLVED_BY_AGREEMENT: [
            *LADDER_STEPS[:3],
            (Action.RESOLVE_BY_AGREEMENT, DUG_CHAIR, {"text": "Agreed."}),
        ],
        Stage.NO_BREACH: [
            *LADDER_STEPS[:10],
            (Action.FIND_NO_BREACH, PANELIST, {"text": "No breach."}),
        ],
        Stage.NOT_CAPABLE_OF_REMEDY: [
            *LADDER_STEPS[:10],
            (Action.FIND_BREACH_NOT_REMEDIABLE, PANELIST, {"text": "Irremediable."}),
        ],
        Stage.REMEDIED: [*LADDER_STEPS, (Action.CONFIRM_REMEDY, DUG_CHAIR, {})],
    }
    if stage in closing:
        return walk(closing[stage])
    if stage is Stage.NOT_REMEDIED:
        case = walk(LADDER_STEPS)
        assert case.remedy_due is not None
        return apply(
            case, Action.DECLARE_NOT_REMEDIED, DUG_CHAIR, inp(case.remedy_due), POLICY
        ).case
    if stage is Stage.RESOLVED_IN_MEDIATION:
        case = case_at(Stage.REMEDIATION)
        for action, actor, extra in [
            (Action.ADD_REMEDIAL_ACTION, DUG_MEMBER, {"text": "Publish the NS change."}),
            (Action.COMPLETE_REMEDIAL_ACTION, IFM, {"text": "Done.", "remedial_action_index": 0}),
            (Action.CLOSE_REMEDIATION, DUG_CHAIR, {}),
        ]:
            case = apply(case, action, actor, inp(T0 + timedelta(days=1), **extra), POLICY).case
        return case
    raise AssertionError(stage)
