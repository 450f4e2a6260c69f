"""R-ESC-1: the naming customers' consent ballot — rules, electorate, tally, receipts, guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.archive.merkle import InvalidProof
from steward.ballots import domain as b
from steward.ballots.domain import BallotError, Choice, Leaf, Option, ReceiptLog, Rules, Status
from steward.registry.domain import Chamber, TldType, chambers_of

OPEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CLOSE = OPEN + timedelta(days=14)
CC, G = Chamber.CCTLD, Chamber.GTLD


def rules(q: int = 50, m: int = 50) -> Rules:
    return Rules(opens_at=OPEN, closes_at=CLOSE, quorum_percent=q, majority_percent=m)


def test_other_option_must_be_described_R_ESC_1() -> None:
    with pytest.raises(BallotError) as err:
        b.describe_option("other", "  short ")
    assert err.value.field == "description"
    assert b.describe_option("other", "Transfer to a  new trust")[1] == "Transfer to a new trust"
    assert b.describe_option("golden_bylaw", "")[0] is Option.GOLDEN_BYLAW
    with pytest.raises(BallotError, match="unknown option"):
        b.describe_option("coup", "")


def test_rules_are_validated_and_described_R_ESC_1() -> None:
    with pytest.raises(BallotError) as err:
        Rules(opens_at=CLOSE, closes_at=OPEN)
    assert err.value.field == "closes_at"
    with pytest.raises(BallotError):
        Rules(opens_at=OPEN.replace(tzinfo=None), closes_at=CLOSE.replace(tzinfo=None))
    with pytest.raises(BallotError):
        Rules(opens_at=OPEN, closes_at=CLOSE, quorum_percent=101)
    with pytest.raises(BallotError):
        Rules(opens_at=OPEN, closes_at=CLOSE, majority_percent=40)
    text = " ".join(rules(40, 66).describe())
    assert "40%" in text and "66%" in text and "both chambers" in text


def test_schedule_refuses_past_opening_and_short_ballots() -> None:
    with pytest.raises(BallotError) as err:
        b.check_schedule(OPEN - timedelta(hours=1), CLOSE, OPEN, 72)
    assert err.value.field == "opens_at"
    with pytest.raises(BallotError) as err:
        b.check_schedule(OPEN, OPEN + timedelta(hours=71), OPEN, 72)
    assert err.value.field == "closes_at"
    b.check_schedule(OPEN, OPEN + timedelta(hours=72), OPEN, 72)


def test_schedule_refuses_a_closing_moment_beyond_the_horizon() -> None:
    b.check_schedule(OPEN, OPEN + timedelta(days=366), OPEN, 72, 366)
    with pytest.raises(BallotError, match="within 366 days") as err:
        b.check_schedule(OPEN, OPEN + timedelta(days=366, minutes=1), OPEN, 72, 366)
    assert err.value.field == "closes_at"
    with pytest.raises(BallotError) as err:
        b.check_schedule(OPEN, datetime(9999, 12, 31, 23, 59, tzinfo=UTC), OPEN, 72, 366)
    assert err.value.field == "closes_at"


def test_electorate_is_every_operator_with_a_chamber_one_vote_per_chamber_R_ESC_1() -> None:
    chambers = {
        1: chambers_of([TldType.COUNTRY_CODE]),
        2: chambers_of([TldType.GENERIC, TldType.SPONSORED]),
        3: chambers_of([TldType.COUNTRY_CODE, TldType.GENERIC_RESTRICTED]),
        4: chambers_of([TldType.TEST]),
    }
    voters = b.electorate(chambers)
    assert set(voters) == {1, 2, 3}
    assert b.electorate_sizes(voters.values()) == {CC: 2, G: 2}


def test_status_follows_the_fixed_moments() -> None:
    r = rules()
    assert b.status(r, False, OPEN - timedelta(seconds=1)) is Status.SCHEDULED
    assert b.status(r, False, OPEN) is Status.OPEN
    assert b.status(r, False, CLOSE) is Status.AWAITING_CLOSE
    assert b.status(r, True, OPEN) is Status.CLOSED


def test_votes_only_while_open_and_only_in_own_chambers_R_ESC_1() -> None:
    r = rules()
    with pytest.raises(BallotError, match="not open yet"):
        b.check_vote(r, False, OPEN - timedelta(minutes=1), frozenset({CC}), {CC: Choice.YES})
    with pytest.raises(BallotError, match="closed"):
        b.check_vote(r, False, CLOSE, frozenset({CC}), {CC: Choice.YES})
    with pytest.raises(BallotError, match="closed"):
        b.check_vote(r, True, OPEN, frozenset({CC}), {CC: Choice.YES})
    with pytest.raises(BallotError, match="electorate"):
        b.check_vote(r, False, OPEN, None, {CC: Choice.YES})
    with pytest.raises(BallotError) as err:
        b.check_vote(r, False, OPEN, frozenset({CC}), {G: Choice.YES})
    assert err.value.field == "chamber"
    b.check_vote(r, False, OPEN, frozenset({CC, G}), {CC: Choice.YES, G: Choice.NO})


def test_single_choice_applies_to_every_chamber_of_an_operator_in_both() -> None:
    assert b.split_choice(frozenset({CC, G}), "yes") == {CC: Choice.YES, G: Choice.YES}
    assert b.split_choice(frozenset({CC, G}), None, {"gtld": "no"}) == {G: Choice.NO}
    with pytest.raises(BallotError) as err:
        b.split_choice(frozenset({CC}), "maybe")
    assert err.value.field == "choice"
    with pytest.raises(BallotError) as err:
        b.split_choice(frozenset({CC}), None, {"cctld": "perhaps"})
    assert err.value.field == "chambers.cctld"


def test_quorum_is_met_exactly_at_its_threshold_R_ESC_1() -> None:
    r = rules(q=50)
    sizes = {CC: 10, G: 10}
    at = b.tally(r, sizes, [(CC, Choice.YES)] * 5 + [(G, Choice.YES)] * 5)
    assert at.chamber(CC).quorum_needed == 5 and at.chamber(CC).quorum_met and at.passed
    below = b.tally(r, sizes, [(CC, Choice.YES)] * 4 + [(G, Choice.YES)] * 5)
    assert not below.chamber(CC).quorum_met and not below.passed


def test_abstentions_count_for_quorum_but_not_majority_R_ESC_1() -> None:
    r = rules(q=50)
    votes = [(CC, Choice.YES), (CC, Choice.ABSTAIN), (CC, Choice.ABSTAIN), (CC, Choice.ABSTAIN)]
    votes += [(G, Choice.YES)] * 2
    t = b.tally(r, {CC: 8, G: 4}, votes)
    assert t.chamber(CC).quorum_met and t.chamber_passed(CC) and t.passed


def test_majority_must_be_more_than_half_of_yes_and_no() -> None:
    r = rules(q=0)
    tie = b.tally(r, {CC: 4, G: 1}, [(CC, Choice.YES), (CC, Choice.NO), (G, Choice.YES)])
    assert not tie.chamber_passed(CC) and not tie.passed
    two_thirds = rules(q=0, m=66)
    t = b.tally(two_thirds, {CC: 3, G: 1}, [(CC, Choice.YES)] * 2 + [(CC, Choice.NO), (G, Choice.YES)])
    assert t.chamber_passed(CC)  # 2/3 = 66.7% > 66%


def test_both_chambers_must_consent_R_ESC_1() -> None:
    r = rules()
    t = b.tally(r, {CC: 2, G: 2}, [(CC, Choice.YES)] * 2 + [(G, Choice.NO)] * 2)
    assert t.chamber_passed(CC) and not t.chamber_passed(G) and not t.passed
    empty = b.tally(r, {CC: 2, G: 0}, [(CC, Choice.YES)] * 2)
    assert not empty.passed  # a chamber with no electors cannot consent


def test_no_execution_without_a_passed_ballot_R_ESC_1() -> None:
    with pytest.raises(BallotError, match="no consent ballot"):
        b.check_execute([])
    with pytest.raises(BallotError, match="not closed yet"):
        b.check_execute([(Status.OPEN, False)])
    with pytest.raises(BallotError, match="did not consent"):
        b.check_execute([(Status.CLOSED, False)])
    b.check_execute([(Status.CLOSED, False), (Status.CLOSED, True)])


def test_receipt_ids_depend_on_code_ballot_and_chamber() -> None:
    code = b.new_receipt_code()
    assert len(code) == 43
    rid = b.receipt_id(7, CC, code)
    assert rid == b.receipt_id(7, CC, code)
    assert rid != b.receipt_id(7, G, code) and rid != b.receipt_id(8, CC, code)
    assert rid != b.receipt_id(7, CC, b.new_receipt_code())
    with pytest.raises(BallotError) as err:
        b.receipt_id(7, CC, "not-a-code")
    assert err.value.field == "code"


def _leaves(n: int) -> list[Leaf]:
    return [Leaf(b.receipt_id(3, CC if i % 3 else G, b.new_receipt_code()), CC if i % 3 else G,
                 [Choice.YES, Choice.NO, Choice.ABSTAIN][i % 3]) for i in range(n)]


@given(st.integers(min_value=1, max_value=40), st.data())
def test_every_voter_can_verify_inclusion_in_the_published_tree_R_ESC_1(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    log = ReceiptLog.build(3, leaves)
    mine = data.draw(st.sampled_from(leaves))
    index = log.index_of(mine.receipt)
    assert index is not None
    b.verify_receipt(3, mine, index, log.size, log.proof(index), log.root())
    # the published leaves recount to the tally
    counts = log.recount()
    assert sum(sum(c.values()) for c in counts.values()) == n


def test_a_changed_choice_does_not_verify_against_the_tree() -> None:
    leaves = _leaves(5)
    log = ReceiptLog.build(3, leaves)
    i = 2
    leaf = log.leaves[i]
    forged = Leaf(leaf.receipt, leaf.chamber, Choice.NO if leaf.choice is not Choice.NO else Choice.YES)
    with pytest.raises(InvalidProof):
        b.verify_receipt(3, forged, i, log.size, log.proof(i), log.root())
    with pytest.raises(InvalidProof):
        b.verify_receipt(4, leaf, i, log.size, log.proof(i), log.root())


def test_published_order_is_by_receipt_not_by_voting_order() -> None:
    leaves = _leaves(10)
    assert [x.receipt for x in ReceiptLog.build(3, leaves).leaves] == sorted(x.receipt for x in leaves)
    assert ReceiptLog.build(3, leaves).root() == ReceiptLog.build(3, list(reversed(leaves))).root()


@given(st.lists(st.tuples(st.sampled_from([CC, G]), st.sampled_from(list(Choice))), max_size=60),
       st.integers(0, 100))
def test_tally_counts_every_vote_once(votes: list[tuple[Chamber, Choice]], q: int) -> None:
    sizes = {CC: 60, G: 60}
    t = b.tally(rules(q=q), sizes, votes)
    assert sum(c.cast for c in t.chambers) == len(votes)
    for c in t.chambers:
        assert c.quorum_met == (c.cast * 100 >= q * 60)
