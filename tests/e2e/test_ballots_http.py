"""The consent ballot over HTTP (R-ESC-1): nobody reads a vote before the close; after it only the
tally and the receipts' inclusion; votes change until the close; no execution without consent."""

from __future__ import annotations

from datetime import timedelta

from steward import db as dbmod
from steward.ballots.models import Ballot
from steward.db import utcnow
from tests.integration.ballots.factories import eligible_review
from tests.support import login, post_form


def _world(make):
    cc = make.operator("CC Registry", tlds=(("aa", "country-code"),))
    g = make.operator("G Registry", tlds=(("example", "generic"),))
    both = make.operator("Both Registry", tlds=(("bb", "country-code"), ("shop", "generic")))
    chair = make.user("dug_chair", "dug_member")
    users = {k: make.user("operator_staff", org=o) for k, o in (("cc", cc), ("g", g), ("both", both))}
    with dbmod.session_scope() as s:
        review_id = eligible_review(s).id
    tokens = {k: make.token(u) for k, u in users.items()}
    return {"chair": chair, "chair_token": make.token(chair), "users": users, "tokens": tokens, "review": review_id}


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _open(client, w, option="golden_bylaw"):
    closes = (utcnow() + timedelta(days=7)).isoformat()
    r = client.post("/api/v1/ballots", json={"matter_type": "urgent_review", "matter_id": w["review"],
                                              "option": option, "closes_at": closes}, headers=_h(w["chair_token"]))
    assert r.status_code == 201, r.text
    return r.json()


def _pass_time(ballot_id: int) -> None:
    """Move the closing moment into the past (tests never wait for time to pass)."""
    with dbmod.session_scope() as s:
        b = s.get(Ballot, ballot_id)
        assert b is not None
        shift = b.closes_at - utcnow() + timedelta(seconds=1)
        b.opens_at -= shift
        b.closes_at -= shift


def test_votes_are_secret_until_the_close_then_only_tally_and_receipts_R_ESC_1(client, make):
    w = _world(make)
    ballot = _open(client, w)
    assert ballot["status"] == "open" and ballot["electorate"] == {"cctld": 2, "gtld": 2}
    assert any("Quorum" in line for line in ballot["rules"])
    votes = {}
    for k, choice in (("cc", "yes"), ("g", "no"), ("both", "yes")):
        r = client.post(f"/api/v1/ballots/{ballot['id']}/vote", json={"choice": choice}, headers=_h(w["tokens"][k]))
        assert r.status_code == 200, r.text
        votes[k] = r.json()
    # a changed vote: the gTLD operator changes its mind; the old receipt no longer counts
    changed = client.post(f"/api/v1/ballots/{ballot['id']}/vote", json={"choice": "yes"}, headers=_h(w["tokens"]["g"]))
    assert changed.json()["changed"] is True
    old_code = votes["g"]["receipt_code"]
    votes["g"] = changed.json()

    # before the close: no route reveals a vote or the tally, to anyone
    for headers in ({}, _h(w["tokens"]["cc"]), _h(w["chair_token"])):
        one = client.get(f"/api/v1/ballots/{ballot['id']}", headers=headers).json()
        assert one["result"] is None
        if one["your_organisation"]:
            assert set(one["your_organisation"]) == {"elector", "chambers", "voted"}
        listing = client.get("/api/v1/ballots", headers=headers).text
        assert '"yes"' not in listing and '"no"' not in listing
    assert client.get(f"/api/v1/ballots/{ballot['id']}/receipts").status_code == 404
    rid = votes["cc"]["receipts"]["cctld"]
    assert client.get(f"/api/v1/ballots/{ballot['id']}/receipts/{rid}").status_code == 404
    assert client.post(f"/api/v1/ballots/{ballot['id']}/verify", json={"code": votes["cc"]["receipt_code"]}).status_code == 404
    assert client.post(f"/api/v1/ballots/{ballot['id']}/close", headers=_h(w["chair_token"])).status_code == 409
    refused = client.post(f"/api/v1/ballots/{ballot['id']}/execute", json={}, headers=_h(w["chair_token"]))
    assert refused.status_code == 409 and "not closed" in refused.json()["detail"]

    _pass_time(ballot["id"])
    late = client.post(f"/api/v1/ballots/{ballot['id']}/vote", json={"choice": "no"}, headers=_h(w["tokens"]["cc"]))
    assert late.status_code == 409
    closed = client.post(f"/api/v1/ballots/{ballot['id']}/close", headers=_h(w["chair_token"]))
    assert closed.status_code == 200, closed.text
    result = closed.json()["result"]
    assert result["passed"] is True
    assert [(c["chamber"], c["yes"], c["no"]) for c in result["tally"]["chambers"]] == [("cctld", 2, 0), ("gtld", 2, 0)]

    # after the close: the anonymous leaves, and each voter checks its own receipt
    leaves = client.get(f"/api/v1/ballots/{ballot['id']}/receipts").json()
    assert leaves["tree_size"] == 4 and leaves["root_hex"] == result["receipt_tree"]["root_hex"]
    assert all(set(x) == {"index", "receipt", "chamber", "choice"} for x in leaves["leaves"])
    check = client.post(f"/api/v1/ballots/{ballot['id']}/verify", json={"code": votes["both"]["receipt_code"]}).json()
    assert {v["leaf"]["chamber"] for v in check["votes"]} == {"cctld", "gtld"}
    assert client.post(f"/api/v1/ballots/{ballot['id']}/verify", json={"code": old_code}).status_code == 404
    proof = client.get(f"/api/v1/ballots/{ballot['id']}/receipts/{rid}").json()
    assert proof["verified"] and proof["tree_size"] == 4
    bad = client.post(f"/api/v1/ballots/{ballot['id']}/verify", json={"code": "nonsense"})
    assert bad.status_code == 422 and bad.json()["field"] == "code"

    executed = client.post(f"/api/v1/ballots/{ballot['id']}/execute", json={"note": "Bylaw amended"},
                           headers=_h(w["chair_token"]))
    assert executed.status_code == 200 and executed.json()["executed_at"]
    # the public page shows the tally and the published result
    page = client.get(f"/ballots/{ballot['id']}")
    assert "Consent given" in page.text and result["receipt_tree"]["root_hex"] in page.text


def test_only_the_dug_chair_opens_and_only_operators_vote(client, make):
    w = _world(make)
    closes = (utcnow() + timedelta(days=7)).isoformat()
    body = {"matter_type": "urgent_review", "matter_id": w["review"], "option": "spill_board", "closes_at": closes}
    assert client.post("/api/v1/ballots", json=body, headers=_h(w["tokens"]["cc"])).status_code == 403
    assert client.post("/api/v1/ballots", json=body).status_code == 401
    bad = client.post("/api/v1/ballots", json={**body, "option": "other"}, headers=_h(w["chair_token"]))
    assert bad.status_code == 422 and bad.json()["field"] == "description"
    ballot = _open(client, w)
    assert client.post(f"/api/v1/ballots/{ballot['id']}/vote", json={"choice": "yes"},
                       headers=_h(w["chair_token"])).status_code == 403
    wrong = client.post(f"/api/v1/ballots/{ballot['id']}/vote", json={"choice": "maybe"}, headers=_h(w["tokens"]["cc"]))
    assert wrong.status_code == 422 and wrong.json()["field"] == "choice"


def test_operator_votes_through_the_page_and_gets_a_receipt_once(client, make):
    w = _world(make)
    ballot = _open(client, w)
    login(client, w["users"]["both"])
    page = client.get(f"/ballots/{ballot['id']}")
    assert 'name="choice_cctld"' in page.text and 'name="choice_gtld"' in page.text
    r = post_form(client, f"/ballots/{ballot['id']}/vote", {"choice_cctld": "yes", "choice_gtld": "abstain"})
    assert r.status_code == 200 and 'id="receipt-code"' in r.text
    again = client.get(f"/ballots/{ballot['id']}")
    assert "It voted in cctld" in again.text and "Change the vote" in again.text
    assert 'id="receipt-code"' not in again.text
    empty = post_form(client, f"/ballots/{ballot['id']}/vote", {})
    assert empty.status_code == 422 and "choose yes, no or abstain" in empty.text


def test_every_operators_contacts_get_the_opening_and_the_reminder_by_email_R_ESC_1(client, make, smtp_server):
    from steward import worker
    from steward.registry.models import Tld

    org = make.org("Mailed Registry", "operator", contact_email="registry@mailed.example")
    with dbmod.session_scope() as s:
        s.add(Tld(a_label="mailed", u_label="mailed", type="generic", manager_id=org.id))
    staff = make.user("operator_staff", org=org)
    w = _world(make)
    ballot = _open(client, w)
    with dbmod.session_scope() as s:  # the close is now one hour away: inside the reminder window
        b = s.get(Ballot, ballot["id"])
        assert b is not None
        b.closes_at = utcnow() + timedelta(hours=1)
    worker.run_once()
    sent = [(m["To"], m["Subject"]) for m in smtp_server.messages]
    for address in ("registry@mailed.example", staff.email, w["users"]["cc"].email):
        subjects = [subject for to, subject in sent if to == address]
        assert any("is open" in x for x in subjects), (address, sent)
        assert any("closes" in x for x in subjects), (address, sent)
    assert not [s for to, s in sent if to == w["chair"].email and "ballot" in s.lower()], sent
