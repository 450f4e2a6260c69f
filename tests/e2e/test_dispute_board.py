"""The DUG's dispute board (/disputes/board): per stage, the BOARD_PER_STAGE most urgent open
cases the viewer may see, the stage's full count, and a way to the rest; what the viewer may not
see (R-DSP-7, R-DUG-3) is neither shown nor counted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from steward.db import session_scope
from steward.disputes import service
from steward.disputes.domain import Stage
from steward.disputes.models import DisputeCase
from steward.disputes.views import BOARD_PER_STAGE
from tests.support import login

T0 = datetime(2025, 11, 24, 18, 0, tzinfo=UTC)  # a Monday, 10:00 in Los Angeles
LODGED = 13  # more than BOARD_PER_STAGE in one stage

FORM: dict[str, Any] = {"service_levels": ["released → published 72 h"], "subject": "service_level",
                        "what_happened": "Nine days.", "negotiation": "Ticket 1234."}


def open_case(user: Any, title: str, tld: str, *, negotiate_first: bool = False) -> int:
    with session_scope() as s:
        form = service.ComplaintForm(title=title, tlds=[tld], **FORM)
        return service.open_case(s, user.principal(s), form, negotiate_first=negotiate_first, now=T0).id


def request_response(member: Any, case_id: int) -> None:
    with session_scope() as s:
        service.act(s, member.principal(s), case_id, service.ActionRequest(action="request_response"), now=T0)


def due(case_id: int, at: datetime | None) -> None:
    with session_scope() as s:
        s.execute(update(DisputeCase).where(DisputeCase.id == case_id).values(next_due_at=at))


def column(page: str, stage: Stage) -> str:
    match = re.search(rf'<li id="stage-{stage.value}">(.*?)</li>', page, re.S)
    assert match, stage
    return match.group(1)


def case_links(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/disputes/(\d+)">', html)]


@pytest.fixture
def board(client: Any, make: Any) -> dict[str, Any]:
    ifm_org = make.org("Public Technical Identifiers", "ifm")
    op_org = make.operator("Example Registry", tlds=(("example", "country-code"),))
    member_org = make.operator("Member Registry", tlds=(("member", "generic"),))
    operator = make.user("operator_staff", org=op_org)
    member_operator = make.user("operator_staff", org=member_org)
    member = make.user("dug_member", org=member_org)
    ifm = make.user("ifm_staff", org=ifm_org)

    # lodged by another operator, due in an order unlike the order of lodging; one has no deadline
    lodged = [open_case(operator, f"Lodged case {n}", "example") for n in range(LODGED)]
    hours = [7, 3, 11, 0, 9, 5, 12, 1, 8, 2, 10, 6]
    for case_id, h in zip(lodged, hours, strict=False):
        due(case_id, T0 + timedelta(hours=h))
    due(lodged[-1], None)
    # two moved on by the DUG: their own column
    answered = [open_case(operator, f"Answer case {n}", "example") for n in range(2)]
    for case_id in answered:
        request_response(member, case_id)
    # R-DUG-3: lodged by the member's own organisation, and the most urgent of all
    recused = open_case(member_operator, "Own organisation's complaint", "member")
    due(recused, T0 - timedelta(days=3))
    # R-DSP-2 / R-DSP-7: still in direct negotiation, not lodged with the DUG
    negotiating = open_case(operator, "Still negotiating", "example", negotiate_first=True)
    due(negotiating, T0 - timedelta(days=2))

    with session_scope() as s:
        order = {c.id: c.next_due_at for c in s.query(DisputeCase).filter(DisputeCase.id.in_(lodged))}
        assert s.get(DisputeCase, recused).stage == Stage.LODGED.value
        assert s.get(DisputeCase, negotiating).stage == Stage.NEGOTIATION.value
    urgent = sorted(lodged, key=lambda i: (order[i] is None, order[i], -i))
    return {"member": member, "ifm": ifm, "lodged": lodged, "urgent": urgent, "answered": answered,
            "recused": recused, "negotiating": negotiating}


def test_each_stage_shows_its_most_urgent_cases_first_and_counts_them_all(client: Any, board: dict[str, Any]) -> None:
    """R-DSP-7, R-DUG-3: a non-recused DUG member sees every lodged case of another operator; the
    board shows the BOARD_PER_STAGE soonest due of a stage, with its full count and a way to the rest."""
    login(client, board["member"])
    page = client.get("/disputes/board")
    assert page.status_code == 200

    lodged = column(page.text, Stage.LODGED)
    assert f"({LODGED})" in lodged  # the heading counts the whole stage
    shown = case_links(lodged)
    assert len(shown) == BOARD_PER_STAGE
    assert shown == board["urgent"][:BOARD_PER_STAGE]  # earliest next deadline first
    assert board["lodged"][-1] not in shown  # no deadline: least urgent
    assert f"The {BOARD_PER_STAGE} most urgent of {LODGED}" in lodged
    assert '<a href="/disputes">all cases</a>' in lodged

    answered = column(page.text, Stage.RESPONSE_REQUESTED)
    assert "(2)" in answered
    assert sorted(case_links(answered)) == sorted(board["answered"])
    assert '<a href="/disputes">all cases</a>' not in answered  # nothing more to see
    # the IFM's response was asked for in November 2025: its deadline (R-DSP-3) has long passed,
    # and each such case carries the flag; a lodged case has no running deadline to flag
    assert answered.count("response overdue") == 2
    assert "overdue" not in lodged

    total = LODGED + len(board["answered"])
    assert f"{total} open cases" in page.text

    # the rest is on /disputes, most urgent first too
    listing = client.get("/disputes").text
    for case_id in board["lodged"]:
        assert f'href="/disputes/{case_id}"' in listing


def test_cases_the_member_may_not_see_are_neither_shown_nor_counted(client: Any, board: dict[str, Any]) -> None:
    """R-DUG-3: a case lodged by the member's own organisation (the member is recused), and
    R-DSP-7 with R-DSP-2: a case still in direct negotiation (not lodged with the DUG), are absent
    from the board and from its counts, even though both are due before every visible case."""
    login(client, board["member"])
    page = client.get("/disputes/board").text

    for hidden in (board["recused"], board["negotiating"]):
        assert f'href="/disputes/{hidden}"' not in page
    assert "Own organisation&#39;s complaint" not in page and "Own organisation's complaint" not in page
    assert "Still negotiating" not in page

    lodged = column(page, Stage.LODGED)
    assert f"({LODGED})" in lodged and f"({LODGED + 1})" not in lodged
    assert case_links(lodged)[0] == board["urgent"][0]
    negotiation = column(page, Stage.NEGOTIATION)
    assert "(0)" in negotiation and case_links(negotiation) == []
    assert f"{LODGED + len(board['answered'])} open cases" in page

    # and the member cannot open them either
    for hidden in (board["recused"], board["negotiating"]):
        assert client.get(f"/disputes/{hidden}").status_code == 404

    # the IFM, a party to every dispute, sees both: on its board they come first and count
    client.cookies.clear()
    login(client, board["ifm"])
    page = client.get("/disputes/board").text
    lodged = column(page, Stage.LODGED)
    assert f"({LODGED + 1})" in lodged and case_links(lodged)[0] == board["recused"]
    negotiation = column(page, Stage.NEGOTIATION)
    assert "(1)" in negotiation and case_links(negotiation) == [board["negotiating"]]
