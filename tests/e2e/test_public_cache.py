"""The public portal's response cache (steward.middleware.PublicCache): what it keeps, for whom,
and how soon a change shows. Publication is R-DSP-6 and R-AUD-2's "published"; the cache must
never delay a change this process made, nor carry one visitor's response to another."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from steward import db as dbmod
from steward.events import record_publication
from tests.support import login


def publish(title: str) -> None:
    with dbmod.session_scope() as s:
        record_publication(s, "iap_finding", title, "/disputes/1", {"finding": "no_breach"}, actor=None)


def count_renders(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time the portal page is actually made by the application (not sent from the cache)."""
    from steward.portal import service

    made: list[str] = []
    real = service.item_count

    def counting(*args: Any, **kwargs: Any) -> int:
        made.append("portal")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "item_count", counting)
    return made


def test_anonymous_portal_is_served_from_memory_until_this_process_commits_a_change(client, app, monkeypatch):
    made = count_renders(app, monkeypatch)
    first = client.get("/portal")
    second = client.get("/portal")
    assert first.status_code == second.status_code == 200 and first.text == second.text
    assert len(made) == 1  # the second came from the cache
    assert second.headers["content-security-policy"] and second.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in first.headers  # nothing per visitor in a public page
    publish("IAP finding: no breach (R-DSP-6)")
    third = client.get("/portal")
    assert "IAP finding: no breach (R-DSP-6)" in third.text and len(made) == 2  # shown at once


def test_a_change_committed_by_another_process_shows_once_the_setting_has_passed(sqlite_db, configure, monkeypatch):
    from fastapi.testclient import TestClient

    from steward import middleware
    from steward.app import create_app

    configure(sqlite_db, public_cache_seconds="30")
    clock = [1000.0]
    monkeypatch.setattr(middleware.time, "monotonic", lambda: clock[0])
    with TestClient(create_app()) as client:
        assert "Published elsewhere" not in client.get("/portal").text
        # another process (say `steward worker`, or a second app worker) publishes
        subprocess.run([sys.executable, "-c", (
            "from steward import db; from steward.contexts import load_models\n"
            "from steward.events import record_publication\n"
            "load_models()\n"
            "with db.session_scope() as s:\n"
            "    record_publication(s, 'iap_finding', 'Published elsewhere', '/x', {}, actor=None)\n")],
            check=True, env=dict(os.environ))
        clock[0] += 29
        assert "Published elsewhere" not in client.get("/portal").text  # this process cannot know yet
        clock[0] += 1
        assert "Published elsewhere" in client.get("/portal").text  # the bound is the setting


@pytest.mark.parametrize("credential", ["token", "session"])
def test_requests_that_carry_who_they_are_are_never_cached(client, app, make, monkeypatch, credential):
    made = count_renders(app, monkeypatch)
    member = make.user("dug_member")
    if credential == "token":
        token = make.token(member)
        headers = {"Authorization": f"Bearer {token}"}
        client.get("/portal", headers=headers)
        client.get("/portal", headers=headers)
    else:
        login(client, member)
        first = client.get("/portal")
        assert "Sign out" in first.text  # a page made for this visitor
        client.get("/portal")
    assert len(made) == 2
    client.cookies.clear()
    anonymous = client.get("/portal")
    assert "Sign out" not in anonymous.text and member.email not in anonymous.text


def test_only_the_public_portal_and_only_successful_gets(client, app, monkeypatch):
    made = count_renders(app, monkeypatch)
    assert client.get("/portal/publications/999").status_code == 404
    assert client.get("/portal/publications/999").status_code == 404  # errors are made each time
    client.get("/portal", params={"page": 2})
    client.get("/portal", params={"page": 2})
    assert len(made) == 1  # the same query string is one entry
    assert client.get("/login").headers.get("set-cookie")  # pages with forms are not behind it


def test_a_change_no_public_page_shows_leaves_the_kept_pages_alone(client, app, monkeypatch, make):
    """A dispute's lodging writes only tables no public page reads (steward.db.PRIVATE_TABLES):
    the portal stays as kept. A publication, written with its archive entry, still shows at once."""
    from steward.accounts.models import User
    from steward.accounts.principal import Principal
    from steward.disputes import service as disputes

    org = make.operator("Private Registry", tlds=(("privatetld", "generic"),))
    operator = make.user("operator_staff", org=org)
    made = count_renders(app, monkeypatch)
    client.get("/portal")
    with dbmod.session_scope() as s:
        form = disputes.ComplaintForm(title="Confidential", tlds=["privatetld"], service_levels=["NS change"],
                                      subject="service_level", what_happened="Slow.", negotiation="Ticket.")
        disputes.open_case(s, Principal.of(s.get(User, operator.id)), form)
    again = client.get("/portal")
    assert len(made) == 1 and "Confidential" not in again.text  # sent from memory
    publish("IAP finding: breach (R-DSP-6)")
    assert "IAP finding: breach (R-DSP-6)" in client.get("/portal").text and len(made) == 2


PUBLIC_ROUTES = ["/portal", "/portal?page=2", "/portal/feed.atom", "/portal/calendar.ics",
                 "/portal/open-data/publications.json", "/portal/open-data/publications.csv",
                 "/portal/open-data/schedule.json", "/api/v1/portal/publications", "/api/v1/portal/schedule"]


def test_the_public_pages_read_no_private_table(client, app):
    """What makes PRIVATE_TABLES safe: no page behind the public cache reads them (archive_entry
    only for a publication's position, written in the publication's own transaction)."""
    import re

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    publish("A finding")
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        pub = client.get("/api/v1/portal/publications").json()["items"][0]
        routes = [*PUBLIC_ROUTES, f"/portal/publications/{pub['id']}"]
        for route in routes:
            assert client.get(route).status_code == 200, route
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert len(seen) > len(routes)
    read = {t.lower() for s in seen for t in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)', s, re.IGNORECASE)}
    assert read & dbmod.PRIVATE_TABLES == {"archive_entry"}, read & dbmod.PRIVATE_TABLES
    assert "publication" in read


def test_every_private_table_exists():
    from steward.contexts import load_models

    load_models()
    assert set(dbmod.Base.metadata.tables) >= dbmod.PRIVATE_TABLES


@pytest.mark.parametrize(("statement", "public"), [
    ("SELECT * FROM publication", False),
    ("INSERT INTO dispute_case (reference) VALUES (?)", False),
    ('UPDATE "archive_head" SET size = 1', False),
    ("  delete from outbox_email where id = 1", False),
    ("INSERT INTO publication (kind) VALUES (?)", True),
    ("INSERT OR IGNORE INTO sla_event (id) VALUES (1)", True),
    ("UPDATE registry_tld SET active = 0", True),
    ("WITH x AS (SELECT 1) INSERT INTO dispute_case SELECT * FROM x", False),
    ("WITH x AS (SELECT 1) INSERT INTO publication SELECT * FROM x", True),
    ("WITH x AS (SELECT 1) SELECT * FROM x", False),
    ("WITH t AS (INSERT INTO archive_tile (level) VALUES (1) ON CONFLICT (level) DO UPDATE SET level = 1) "
     "UPDATE archive_head SET size = 1", False),
    ("SELECT size FROM archive_head WHERE id = 1 FOR UPDATE", False),
    ("WITH x AS (SELECT * FROM archive_head FOR NO KEY UPDATE) SELECT * FROM x", False),
    # what it cannot vouch for counts
    ("WITH x AS (SELECT 1) INSERT OR REPLACE INTO publication SELECT 1", True),
    ("WITH x AS (SELECT 1) REPLACE INTO dispute_case SELECT 1", True),
    ("WITH x AS (SELECT 1) MERGE INTO dispute_case USING x ON true WHEN MATCHED THEN DELETE", True),
    ("WITH x AS (SELECT 1) INSERT INTO public.dispute_case SELECT 1", True),
    ("UPDATE public.dispute_case SET stage = 'x'", True),
    ("CREATE TABLE t (v TEXT)", True),
    ("BEGIN IMMEDIATE", False),
])
def test_which_statements_change_public_pages(statement: str, public: bool) -> None:
    assert dbmod.changes_public_pages(statement) is public


def test_an_archive_append_changes_no_public_page() -> None:
    from steward.archive.repository import _PG_APPEND

    assert not dbmod.changes_public_pages(str(_PG_APPEND))
