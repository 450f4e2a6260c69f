"""R-DSP-9 on a real database (SQLite and PostgreSQL): a dispute's documents, files and closed
record are committed to the tamper-evident log, so that `steward archive verify` names each one
altered or deleted in the database afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from steward.archive import service as archive
from steward.db import session_scope
from steward.disputes import service
from steward.disputes.models import DisputeCase
from steward.events import AuditEvent
from tests.integration.disputes.test_disputes_service import FORM, T0, World, act


@pytest.fixture
def world(db_url: str, make: Any) -> World:
    return World(make)


def _verify() -> list[str]:
    with session_scope() as s:
        return archive.verify_log(s, None).problems


def _sql(statement: str, **params: Any) -> None:
    with session_scope() as s:
        s.execute(text(statement), params)


def test_an_archived_dispute_altered_or_deleted_in_the_database_is_named_R_DSP_9(world: World) -> None:
    w = world
    evidence = service.Upload("ticket.txt", "text/plain", b"Ticket 4711: NS change published after 5 days.")
    with session_scope() as s:
        cid = service.open_case(s, w.p(s, "operator"), FORM, uploads=[evidence], now=T0).id
    act(w, "member", cid, "request_response", T0)
    act(w, "ifm", cid, "submit_response", T0, text="Our written response.")
    act(w, "operator", cid, "withdraw", T0, text="Taken to court.")
    with session_scope() as s:  # a policy complaint, refused (and archived) at once (R-DSP-1)
        refused = service.open_case(s, w.p(s, "operator"), service.ComplaintForm(
            **{**FORM.__dict__, "subject": "policy"}), now=T0)
        refused_id, refused_ref = refused.id, refused.reference
        kinds = {e.tag for e in s.scalars(select(AuditEvent).where(AuditEvent.subject_type == "dispute"))}
        reference = s.get(DisputeCase, cid).reference
    assert "dispute:archived" in kinds
    assert _verify() == []

    _sql("UPDATE dispute_document SET body = 'We met every level.' WHERE case_id = :c AND kind = 'ifm_response'", c=cid)
    _sql("UPDATE dispute_attachment SET data = :d", d=b"Ticket 4711: published on time.")
    _sql("UPDATE dispute_case SET title = 'Nothing happened' WHERE id = :c", c=cid)
    problems = _verify()
    assert any("ifm_response" in p and f"case #{cid}" in p and "altered (sha256)" in p for p in problems), problems
    assert any("(complaint" in p and "altered (attachments)" in p for p in problems), problems
    assert any(p.startswith(f"dispute {reference} (#{cid}) altered after it was archived (title_sha256)")
               for p in problems), problems

    for table in ("dispute_timeline", "dispute_document"):
        _sql(f"DELETE FROM {table} WHERE case_id = :c", c=refused_id)
    _sql("DELETE FROM dispute_case WHERE id = :c", c=refused_id)
    problems = _verify()
    assert any(f"(complaint, case #{refused_id}) deleted" in p for p in problems), problems
    assert any(p.startswith(f"dispute {refused_ref} (#{refused_id}) deleted") for p in problems), problems


def test_a_party_opens_its_cases_sealed_entries_to_prove_them_R_DSP_9(world: World) -> None:
    """Issue 5: "a party can later reveal salt and content to prove it" — the complainant's staff
    and the IFM's get the case's sealed entries opened; the log accepts each reveal. Others who
    see the case get 403, strangers 404."""
    from steward.errors import Forbidden, NotFound

    w = world
    with session_scope() as s:
        cid = service.open_case(s, w.p(s, "operator"), FORM, now=T0).id
    act(w, "member", cid, "request_response", T0)
    with session_scope() as s:
        opened = service.archive_reveals(s, w.p(s, "operator"), cid)
        assert [e["tag"] for e in opened] == ["dispute:lodged", "dispute:response_requested"]
        assert opened[0]["content"]["data"]["document"]["kind"] == "complaint"
        for e in opened:
            assert archive.check_reveal(s, e["seq"], e["salt"], e["content"])
        assert not archive.check_reveal(s, opened[0]["seq"], opened[0]["salt"], opened[1]["content"])
        assert [e["seq"] for e in service.archive_reveals(s, w.p(s, "ifm"), cid)] == [e["seq"] for e in opened]
        with pytest.raises(Forbidden):
            service.archive_reveals(s, w.p(s, "member"), cid)
        for stranger in ("other_operator", "sysadmin", "recused"):
            with pytest.raises(NotFound):
                service.archive_reveals(s, w.p(s, stranger), cid)
