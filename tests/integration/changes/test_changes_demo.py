"""The demo data of technical changes loads and shows every stage (R-TCH-1, R-TCH-2)."""

from __future__ import annotations

from steward.accounts.principal import Principal
from steward.changes import demo, service
from steward.demo import load_foundation
from steward.governance import demo as governance_demo


def test_demo_shows_plans_at_every_stage(session):
    ctx = load_foundation(session)
    governance_demo.load_demo(session, ctx)
    demo.load_demo(session, ctx)
    session.commit()
    public = {p.title: p for p in service.list_plans(session, Principal.anonymous())}
    assert public["Signed root hints file"].state == "implemented"
    assert public["Signed root hints file"].agreement_basis.startswith("governance:motion:")
    assert public["Additional contact confirmation for gTLD transfers"].state == "statement_issued"
    assert public["Root zone DNSSEC algorithm rollover (8 → 13)"].state == "open_for_comment"
    assert "Retire the legacy zone transfer endpoint" not in public  # a draft
    rows = service.statement_rows(session, public["Signed root hints file"])
    assert [r.disposition.value for r in rows] == ["accepted", "out_of_scope"]
