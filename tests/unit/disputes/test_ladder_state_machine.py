"""Random action sequences keep the ladder's invariants (hypothesis RuleBasedStateMachine).

Invariants: no stage is skipped (every move is a row of the table), never an IAP without
the recorded agreement to be bound (R-DSP-5), an archived case never changes (R-DSP-9),
and a refused action changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from steward.disputes.domain import (
    TRANSITIONS,
    Action,
    ActionInput,
    Actor,
    Case,
    DisputeError,
    RefusalGround,
    Stage,
    Subject,
    apply,
    transitions_from,
)
from tests.unit.disputes.dispute_builders import (
    ACTOR_FOR,
    DUG_MEMBER,
    POLICY,
    STRANGER,
    T0,
    case_at,
    complaint,
)

EDGES = {(t.source, t.action, t.target) for t in TRANSITIONS}
ACTORS = [*ACTOR_FOR.values(), DUG_MEMBER, STRANGER]


class LadderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.case = Case()
        self.now = T0
        self.history: list[Stage] = [Stage.START]
        self.archived_snapshot: Case | None = None

    @initialize(stage=st.sampled_from(list(Stage)))
    def start_somewhere_on_the_ladder(self, stage: Stage) -> None:
        # Runs start at every stage (reached through the table by the builders), so random
        # sequences exercise the top of the ladder as often as the bottom.
        self.case = case_at(stage)
        self.now = T0 + timedelta(days=1)
        self.history = [stage]
        if self.case.remedy_due is not None:
            self.now = max(self.now, self.case.finding_at or self.now)

    @rule(hours=st.integers(min_value=0, max_value=24 * 40))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(
        action=st.sampled_from(list(Action)),
        actor=st.sampled_from(ACTORS),
        text=st.sampled_from(["", "a written text"]),
        subject=st.sampled_from(list(Subject)),
        ground=st.one_of(st.none(), st.sampled_from(list(RefusalGround))),
        engage=st.booleans(),
        index=st.one_of(st.none(), st.integers(0, 3)),
    )
    def act(
        self,
        action: Action,
        actor: Actor,
        text: str,
        subject: Subject,
        ground: RefusalGround | None,
        engage: bool,
        index: int | None,
    ) -> None:
        before = self.case
        inp = ActionInput(
            now=self.now,
            text=text,
            complaint=complaint(subject),
            refusal_ground=ground,
            mediator_ids=frozenset({5}) if engage else frozenset(),
            panelist_ids=frozenset({6}) if engage else frozenset(),
            remedial_action_index=index,
        )
        try:
            out = apply(before, action, actor, inp, POLICY)
        except DisputeError:
            assert self.case is before  # refused: nothing changed
            return
        assert not before.archived, "an archived case accepted an action"
        assert (before.stage, action, out.case.stage) in EDGES, "a stage was skipped"
        if out.case.stage is Stage.IAP and before.stage is not Stage.IAP:
            assert before.bound_agreement_at is not None, "IAP engaged without consent"
        self.case = out.case
        if out.case.stage != before.stage:
            self.history.append(out.case.stage)

    @precondition(lambda self: not self.case.archived)
    @rule(
        pick=st.integers(min_value=0, max_value=1000),
        onwards=st.integers(min_value=0, max_value=9),
        subject=st.sampled_from(list(Subject)),
        ground=st.sampled_from(list(RefusalGround)),
        index=st.integers(0, 3),
    )
    def take_a_row_of_the_table(
        self, pick: int, onwards: int, subject: Subject, ground: RefusalGround, index: int
    ) -> None:
        # Steer towards the rows leaving the current stage, acted by the right person and
        # mostly not ending the case, so random runs climb the whole ladder.
        rows = transitions_from(self.case.stage)
        if onwards:
            rows = [r for r in rows if r.target not in (Stage.WITHDRAWN, Stage.REFUSED)] or rows
            subject = Subject.SERVICE_LEVEL
        row = rows[pick % len(rows)]
        if row.action is Action.COMPLETE_REMEDIAL_ACTION:
            index = next((i for i, a in enumerate(self.case.remedial_actions) if not a.done), 0)
        if row.action is Action.DECLARE_NOT_REMEDIED and onwards > 4:
            self.now = max(self.now, self.case.remedy_due or self.now)
        self.act(row.action, ACTOR_FOR[row.actor], "a written text", subject, ground, True, index)

    @invariant()
    def history_follows_the_table(self) -> None:
        sources = {(t.source, t.target) for t in TRANSITIONS}
        for a, b in zip(self.history, self.history[1:], strict=False):
            assert (a, b) in sources

    @invariant()
    def iap_only_with_consent(self) -> None:
        if Stage.IAP in self.history:
            assert self.case.bound_agreement_at is not None
            assert self.case.bound_agreement_at <= (self.case.finding_at or self.now)

    @invariant()
    def archived_never_changes(self) -> None:
        if self.archived_snapshot is not None:
            assert self.case == self.archived_snapshot
        elif self.case.archived:
            self.archived_snapshot = self.case

    @invariant()
    def remedy_deadline_only_after_a_remediable_finding(self) -> None:
        if self.case.remedy_due is not None:
            assert self.case.finding_at is not None
            assert self.case.remedy_due == self.case.finding_at + timedelta(days=POLICY.remedy_days)


LadderMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestLadderMachine = LadderMachine.TestCase
