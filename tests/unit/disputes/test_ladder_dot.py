"""The rendered ladder in docs/ is generated from the transition table and kept equal to it."""

from __future__ import annotations

from pathlib import Path

from steward.disputes.domain import TRANSITIONS, ladder_dot

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_committed_graphviz_source_equals_the_transition_table():
    assert (DOCS / "disputes-ladder.dot").read_text(encoding="utf-8") == ladder_dot()
    assert (DOCS / "disputes-ladder.svg").stat().st_size > 0


def test_every_drawn_transition_is_in_the_table():
    dot = ladder_dot()
    for t in TRANSITIONS:
        if t.action.value not in ("withdraw", "agree_to_be_bound"):
            assert f'-> {t.target.value} [label="{t.action.value}' in dot
