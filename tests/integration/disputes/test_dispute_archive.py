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


def test_a_party_opens_its_own_sealed_entries_to_prove_them_R_DSP_9(world: World) -> None:
    """Issue 5: "a party can later reveal salt and content to prove it" — each party gets the
    entries of the steps its own people took (the other party's filings stay theirs to prove,
    R-DSP-7), and every entry once both consented to disclosure; the log accepts each reveal.
    Others who see the case get 403, strangers 404."""
    from steward.errors import Forbidden, NotFound

    w = world
    with session_scope() as s:
        cid = service.open_case(s, w.p(s, "operator"), FORM, now=T0).id
    act(w, "member", cid, "request_response", T0)
    act(w, "ifm", cid, "submit_response", T0, text="Our written response.")
    with session_scope() as s:
        mine = service.archive_reveals(s, w.p(s, "operator"), cid)
        assert [e["tag"] for e in mine] == ["dispute:lodged"]
        assert mine[0]["content"]["data"]["document"]["kind"] == "complaint"
        assert archive.check_reveal(s, mine[0]["seq"], mine[0]["salt"], mine[0]["content"])
        theirs = service.archive_reveals(s, w.p(s, "ifm"), cid)
        assert [e["tag"] for e in theirs] == ["dispute:response_submitted"]
        assert archive.check_reveal(s, theirs[0]["seq"], theirs[0]["salt"], theirs[0]["content"])
        assert not archive.check_reveal(s, mine[0]["seq"], mine[0]["salt"], theirs[0]["content"])
        with pytest.raises(Forbidden):
            service.archive_reveals(s, w.p(s, "member"), cid)
        for stranger in ("other_operator", "sysadmin", "recused"):
            with pytest.raises(NotFound):
                service.archive_reveals(s, w.p(s, stranger), cid)
    with session_scope() as s:
        for who in ("operator", "ifm"):
            service.consent_to_disclosure(s, w.p(s, who), cid)
    with session_scope() as s:  # disclosed by both: every entry, to either party
        every = [e["tag"] for e in service.archive_reveals(s, w.p(s, "operator"), cid)]
    assert every[:3] == ["dispute:lodged", "dispute:response_requested", "dispute:response_submitted"]
