"""`steward registry import` semantics on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from steward.errors import Invalid
from steward.events import AuditEvent
from steward.registry import repository, service
from steward.registry.models import Organisation, Tld

ROOT_ZONE = Path(__file__).resolve().parents[4] / "shared" / "data" / "root-zone-db" / "tld.csv"


@pytest.fixture(scope="module")
def root_zone_text() -> str:
    return ROOT_ZONE.read_text(encoding="utf-8")


def test_full_root_zone_imports_all_rows(session, root_zone_text):
    report = service.import_root_zone(session, None, root_zone_text)
    session.commit()
    assert report.total == 1592 and len(report.added) == 1592
    assert session.scalar(select(func.count()).select_from(Tld)) == 1592
    assert session.scalar(select(func.count()).select_from(Tld).where(Tld.manager_id.is_(None))) == 153
    rf = repository.tld_by_label(session, "рф")
    assert rf is not None and rf.a_label == "xn--p1ai" and rf.manager.name == "Coordination Center for TLD RU"
    stats = service.stats(session)
    assert stats["tlds"]["by_type"]["generic"] == 1247
    assert stats["tlds"]["total"] == 1592
    by_chamber = stats["operators"]["by_chamber"]
    assert by_chamber["cctld"] + by_chamber["gtld"] - by_chamber["both"] + by_chamber["none"] == stats["operators"]["total"]


def test_second_import_of_same_file_changes_nothing(session, root_zone_text):
    service.import_root_zone(session, None, root_zone_text)
    session.commit()
    events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    report = service.import_root_zone(session, None, root_zone_text)
    session.commit()
    assert report.unchanged
    assert "No changes" in report.summary()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_newer_file_reports_added_removed_and_reassigned(session):
    first = "Domain,Type,TLD Manager\n.alpha,generic,Alpha Inc\n.beta,generic,Beta Inc\n.gamma,country-code,Gamma NIC\n"
    newer = "Domain,Type,TLD Manager\n.alpha,generic,Alpha Inc\n.gamma,country-code,Alpha Inc\n.delta,generic,Not assigned\n"
    service.import_root_zone(session, None, first)
    report = service.import_root_zone(session, None, newer)
    session.commit()
    assert report.added == ["delta"]
    assert report.removed == ["beta"]
    assert report.reassigned == [{"tld": "gamma", "from": "Gamma NIC", "to": "Alpha Inc"}]
    beta = repository.tld_by_label(session, "beta")
    assert beta is not None and not beta.active
    delta = repository.tld_by_label(session, "delta")
    assert delta is not None and delta.manager is None
    alpha = repository.organisation_by_name(session, "Alpha Inc")
    assert {c.value for c in repository.chambers_of_organisation(session, alpha.id)} == {"cctld", "gtld"}


def test_malformed_file_is_refused_with_line_and_changes_nothing(session, root_zone_text):
    lines = root_zone_text.splitlines(keepends=True)
    broken = "".join(lines[:500]) + ".zzz-broken,planetary,Someone\n" + "".join(lines[500:])
    with pytest.raises(Invalid) as err:
        service.import_root_zone(session, None, broken)
    assert err.value.line == 501
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Tld)) == 0
    assert session.scalar(select(func.count()).select_from(Organisation)) == 0
