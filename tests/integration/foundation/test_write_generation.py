"""The write generation (steward.db.write_generation), by which this process's kept public pages
are made again (steward.middleware.PublicCache), moves at the commit of a transaction that wrote
a table a public page may show, on both backends; not for one that wrote only the private tables
(steward.db.PRIVATE_TABLES), nor for a rollback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from steward import db as dbmod
from steward.events import record_publication
from steward.outbox import enqueue_emails


def test_the_generation_moves_only_for_a_committed_write_a_public_page_may_show(db_url: str) -> None:
    start = dbmod.write_generation()
    with dbmod.session_scope() as s:  # mail only: private
        enqueue_emails(s, [("a@example.org", "S", "B", "k1")])
    with dbmod.session_scope() as s:  # reads only
        s.execute(text("SELECT count(*) FROM publication")).scalar()
    assert dbmod.write_generation() == start

    s = dbmod.new_session()
    try:  # a publication, rolled back
        record_publication(s, "iap_finding", "Rolled back", "/x", {}, actor=None)
        s.rollback()
    finally:
        s.close()
    assert dbmod.write_generation() == start

    with dbmod.session_scope() as s:  # a publication (and its archive entry), committed
        record_publication(s, "iap_finding", "Published", "/x", {}, actor=None)
    moved = dbmod.write_generation()
    assert moved != start

    with dbmod.session_scope() as s:  # a write through SQL text to a table public pages show
        s.execute(text("UPDATE registry_tld SET active = active"))
    assert dbmod.write_generation() != moved


def test_rows_written_straight_through_the_driver_count_too(db_url: str) -> None:
    """The SLA ingest writes its events past SQLAlchemy (steward.sla.repository._Raw)."""
    from steward.sla.repository import _Raw

    start = dbmod.write_generation()
    with dbmod.session_scope() as s:
        _Raw(s).executemany("UPDATE registry_tld SET active = active WHERE id = ?", [(1,)])
    assert dbmod.write_generation() != start


def test_a_dispute_lodged_and_acted_on_leaves_the_public_pages_kept(db_url: str, make: Any) -> None:
    """Every write of a dispute action is private: its case and file, the audit event, the archive
    append (on PostgreSQL one WITH statement), the mail (R-DSP-7: nothing of it is public)."""
    from steward.accounts.models import User
    from steward.accounts.principal import Principal
    from steward.disputes import service as disputes

    org = make.operator("Quiet Registry", tlds=(("quiettld", "generic"),))
    operator = make.user("operator_staff", org=org)
    member = make.user("dug_member")
    form = disputes.ComplaintForm(title="Confidential", tlds=["quiettld"], service_levels=["NS change"],
                                  subject="service_level", what_happened="Slow.", negotiation="Ticket.")
    start = dbmod.write_generation()
    with dbmod.session_scope() as s:
        case_id = disputes.open_case(s, Principal.of(s.get(User, operator.id)), form).id
    with dbmod.session_scope() as s:
        disputes.act(s, Principal.of(s.get(User, member.id)), case_id,
                     disputes.ActionRequest(action="request_response", text="Please respond."))
    assert dbmod.write_generation() == start


def _publish(s: Any, title: str) -> None:
    record_publication(s, "iap_finding", title, "/x", {}, actor=None)


def test_savepoints_neither_lose_nor_advance_the_mark(db_url: str) -> None:
    """A savepoint (``begin_nested``, used by several services) is part of its transaction: a
    public write before it, inside it or after a rolled-back one moves the generation at the
    transaction's commit, and not before."""
    from sqlalchemy.exc import IntegrityError

    start = dbmod.write_generation()
    with dbmod.session_scope() as s:  # a public write, then a savepoint that writes privately
        _publish(s, "Before a savepoint")
        with s.begin_nested():
            enqueue_emails(s, [("a@example.org", "S", "B", "k-nested")])
        assert dbmod.write_generation() == start  # released, not committed
    first = dbmod.write_generation()
    assert first != start

    with dbmod.session_scope() as s:  # the public write inside the savepoint
        enqueue_emails(s, [("a@example.org", "S", "B", "k-outer")])
        with s.begin_nested():
            _publish(s, "In a savepoint")
        assert dbmod.write_generation() == first
    second = dbmod.write_generation()
    assert second != first

    with dbmod.session_scope() as s:  # a savepoint rolled back, then a public write
        try:
            with s.begin_nested():
                enqueue_emails(s, [("a@example.org", "S", "B", "k-outer")])
                s.execute(text("INSERT INTO outbox_email (key) VALUES ('k-outer')"))  # fails
        except IntegrityError:
            pass
        _publish(s, "After a rolled-back savepoint")
    assert dbmod.write_generation() != second
