"""Ingest of the IFM's event files and monthly reports from the database, on SQLite and
PostgreSQL (R-SLA-1, R-SLA-2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from steward.errors import Conflict, Invalid
from steward.registry.models import Tld
from steward.sla import repository, service
from steward.sla.domain import Month, Result
from steward.sla.service import EventFileInvalid

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HEADER = "request_id,tld,category,channel,event,occurred_at\n"
OCT = Month(2026, 10)


@pytest.fixture
def tlds(session: Session) -> None:
    for label in ("com", "de", "xn--p1ai"):
        session.add(Tld(a_label=label, u_label=label, type="generic"))
    session.flush()


def csv_text(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


FILE_A = csv_text(
    "R-1,com,I,automated,received,2026-10-05T09:00:00Z",
    "R-1,com,I,automated,ticket_confirmed,2026-10-05T09:00:20Z",
    "R-1,.COM,I,automated,retest_requested,2026-10-05T10:00:00Z",
    "R-2,de,I,email,received,2026-10-30T23:00:00Z",
)
FILE_B = csv_text(  # out of order and across files: R-1's retest result, R-2 lodged in November
    "R-2,de,I,email,lodged,2026-11-01T00:30:00+01:00",
    "R-1,com,I,automated,retest_done,2026-10-05T10:04:00Z",
    "R-3,xn--p1ai,emergency,automated,received,2026-10-10T00:00:00Z",
    "R-3,xn--p1ai,emergency,automated,published,2026-10-10T13:00:00Z",
)


def ingest(session: Session, text: str, fmt: str = "csv") -> service.IngestResult:
    return service.ingest_file(session, None, text, source=f"test.{fmt}", now=NOW, fmt=fmt)


def test_ingest_is_idempotent_and_says_so(session: Session, tlds: None) -> None:
    first = ingest(session, FILE_A)
    assert (first.rows, first.added, first.new_requests) == (4, 4, 2)
    again = ingest(session, FILE_A)
    assert (again.added, again.duplicates) == (0, 4)
    assert again.message == "All 4 events were already recorded; nothing was added."
    assert repository.event_count(session) == 4 and again.batch_id is None


def test_events_out_of_order_across_files_make_one_report(session: Session, tlds: None) -> None:
    ingest(session, FILE_B)
    ingest(session, FILE_A)
    report = service.compute_month(session, OCT, now=NOW)
    assert report.result("cat1-ticket-confirmation").met == 1
    retest = report.result("cat1-retest")
    assert (retest.count, retest.met, retest.median_us) == (1, 1, 240_000_000)
    # lodged 1 Nov 00:30 +01:00 = 31 Oct 23:30 UTC: an October measurement (24.5 h)
    lodged = report.result("cat1-email-lodged")
    assert (lodged.count, lodged.met) == (1, 1)
    emergency = report.result("emergency-12h")
    assert (emergency.count, emergency.met, emergency.result) == (1, 0, Result.MISSED)
    assert report.summary.text == "3 of 4 thresholds met"


def test_bad_file_changes_nothing_and_lists_every_line(session: Session, tlds: None) -> None:
    bad = csv_text(
        "R-9,com,I,automated,received,2026-10-05T09:00:00Z",
        "R-9,com,I,automated,exploded,2026-10-05T09:00:00Z",
        "R-9,com,I,automated,received,2026-10-05T09:00:00",
        "R-9,com,I,automated,received,2027-01-01T00:00:00Z",
    )
    with pytest.raises(EventFileInvalid) as caught:
        ingest(session, bad)
    assert [(e.line, e.field) for e in caught.value.errors] == [
        (3, "event"), (4, "occurred_at"), (5, "occurred_at"),
    ]  # fmt: skip
    assert "in the future" in caught.value.errors[2].reason
    assert repository.event_count(session) == 0 and repository.request_count(session) == 0


def test_unknown_tld_is_refused(session: Session, tlds: None) -> None:
    with pytest.raises(EventFileInvalid) as caught:
        ingest(session, csv_text("R-1,nosuch,I,automated,received,2026-10-05T09:00:00Z"))
    assert caught.value.line == 2 and caught.value.field == "tld"
    assert "unknown TLD 'nosuch'" in caught.value.errors[0].reason


def test_a_request_keeps_its_tld_and_category_across_files(session: Session, tlds: None) -> None:
    ingest(session, FILE_A)
    with pytest.raises(EventFileInvalid) as caught:
        ingest(session, csv_text("R-1,com,II,automated,closed,2026-10-06T09:00:00Z"))
    assert caught.value.field == "category" and "stored for request 'R-1'" in caught.value.message
    assert repository.event_count(session) == 4


def test_json_ingest(session: Session, tlds: None) -> None:
    items = [
        {"request_id": "J-1", "tld": "com", "category": "I", "channel": "automated",
         "event": "published", "occurred_at": "2026-10-02T00:00:00Z"},
        {"request_id": "J-1", "tld": "com", "category": "I", "channel": "automated",
         "event": "requester_notified", "occurred_at": "2026-10-02T00:00:59Z"},
    ]  # fmt: skip
    assert ingest(session, json.dumps({"events": items}), "json").added == 2
    report = service.compute_month(session, OCT, now=NOW)
    assert report.result("cat1-notification").met == 1


def test_publish_freezes_the_report(session: Session, tlds: None) -> None:
    ingest(session, FILE_A)
    row = service.publish(session, None, OCT, now=NOW)
    assert row.content["catalogue_version"] == "1"
    frozen = row.content["metrics"]
    ingest(session, FILE_B)  # later data does not change a published report
    assert service.published_report(session, OCT).content["metrics"] == frozen
    assert service.compute_month(session, OCT, now=NOW).result("cat1-retest").count == 1
    with pytest.raises(Conflict):
        service.publish(session, None, OCT, now=NOW)
    with pytest.raises(Invalid, match="not over yet"):
        service.publish(session, None, Month(2026, 11), now=NOW)


def test_a_month_without_measurements_is_not_published(session: Session, tlds: None) -> None:
    """Publishing freezes: a "0 of 0, No data" report could never take the month's data later."""
    with pytest.raises(Invalid, match="there is no data for 2026-09") as caught:
        service.publish(session, None, Month(2026, 9), now=NOW)
    assert caught.value.field == "month"
    ingest(session, csv_text("R-7,com,I,automated,received,2026-09-05T09:00:00Z"))
    with pytest.raises(Invalid, match="no metric of catalogue version 1 has a measurement"):
        service.publish(session, None, Month(2026, 9), now=NOW)  # a start alone measures nothing
    assert repository.published(session, "2026-09") is None


def test_a_row_with_more_fields_than_the_header_stores_nothing(
    session: Session, tlds: None
) -> None:
    text = FILE_A + "R-2,de,I,email,lodged,2026-10-31T00:00:00Z,extra\n"
    with pytest.raises(EventFileInvalid) as caught:
        ingest(session, text)
    assert [(e.line, e.field) for e in caught.value.errors] == [(6, None)]
    assert "expected 6 fields, found 7" in caught.value.errors[0].reason
    assert repository.event_count(session) == 0


def test_catalogue_toml_syntax_error_names_the_line_not_a_field(session: Session) -> None:
    with pytest.raises(Invalid) as caught:
        service.load_catalogue(session, None, 'version = "2"\neffective = 2027-01-01\ncause = @\n')
    assert (caught.value.line, caught.value.field) == (3, None)
    assert caught.value.detail() == "line 3: not valid TOML: Invalid value (at column 9)"


def test_catalogue_problem_names_its_field_even_with_a_colon(session: Session) -> None:
    text = 'version = "2"\neffective = 2027-01-01\n"a: b" = 1\n'
    with pytest.raises(Invalid) as caught:
        service.load_catalogue(session, None, text)
    assert (caught.value.line, caught.value.field) == (None, "a: b")


@pytest.mark.parametrize(
    ("data", "line", "offset"),
    [
        (b'version = "2"\ncause = "Caf\xe9"\n', 2, 26),
        (b'\xef\xbb\xbfversion = "2"\n\n\xff', 3, 18),  # the byte order mark counts
    ],
)
def test_files_that_are_not_utf8_are_refused_by_byte_and_line(
    data: bytes, line: int, offset: int
) -> None:
    with pytest.raises(Invalid) as caught:
        service.decode_utf8(data)
    assert caught.value.line == line
    assert f"the file is not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})" in (
        caught.value.message
    )
    assert service.decode_utf8(b"\xef\xbb\xbfcaf\xc3\xa9") == "caf\u00e9"


def test_open_requests_without_events_in_the_month_are_listed_as_already_over(
    session: Session, tlds: None
) -> None:
    ingest(session, csv_text("R-5,com,I,automated,released,2026-08-20T00:00:00Z"))
    report = service.compute_month(session, OCT, now=NOW)
    assert [(o.metric_id, o.request_id) for o in report.open_over] == [("cat1-publication", "R-5")]


def test_a_month_read_from_the_database_equals_the_month_of_the_whole_log(session: Session) -> None:
    """The period query fetches exactly what a month needs, whatever the files' order."""
    import random

    from steward.sla.domain import DEFAULT_CATALOGUE
    from steward.sla.measure import monthly_report
    from steward.sla.simulate import format_row, simulate

    for label in ("com", "de"):
        session.add(Tld(a_label=label, u_label=label, type="generic"))
    session.flush()
    rows = [",".join(format_row(r)) for r in simulate(4, 9, now=NOW, tlds=("com", "de"))]
    # a request with a long silence: started in July, published in October, never closed
    rows += ["LONG,com,I,automated,released,2026-07-01T00:00:00Z",
             "LONG,com,I,automated,published,2026-10-20T00:00:00Z"]  # fmt: skip
    random.Random(4).shuffle(rows)
    half = len(rows) // 2
    for part in (rows[half:], rows[:half]):
        service.ingest_file(
            session, None, HEADER + "\n".join(part) + "\n", source="p.csv", now=NOW, fmt="csv"
        )
    whole = repository.full_log(session)
    for month in (Month(2026, 7), Month(2026, 8), Month(2026, 9), OCT, Month(2026, 11)):
        from_db = service.compute_month(session, month, now=NOW)
        expected = monthly_report(whole, [DEFAULT_CATALOGUE], month, now=NOW)
        assert from_db.as_json() == expected.as_json(), month
    assert service.compute_month(session, OCT, now=NOW).result("cat1-publication").count > 0
