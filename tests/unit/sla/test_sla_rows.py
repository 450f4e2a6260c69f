"""Validation of submitted event files: every kind of bad row is refused with its line, field and
reason (R-SLA-2 performance data)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from steward.sla.domain import CATEGORY_CODES, CHANNEL_CODES, EVENT_CODES, to_us
from steward.sla.rows import (
    MAX_ERRORS,
    conflicting_requests,
    normalise_tld,
    parse_csv,
    parse_json,
    unknown_tlds,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HEADER = "request_id,tld,category,channel,event,occurred_at\n"


@pytest.fixture(params=["plain", "csv-module"])
def reader(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Both readers: the quote-free fast path (text) and the csv module (lines)."""
    if request.param == "plain":
        return lambda text, now: parse_csv(text, now=now)
    return lambda text, now: parse_csv(io.StringIO(text, newline=""), now=now)


def csv_of(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


def test_good_csv_becomes_coded_rows(reader) -> None:
    parsed = reader(
        csv_of(
            "R-1,.COM,I,automated,received,2026-10-01T12:00:00Z",
            "R-1,com,I,email,ticket_confirmed,2026-10-01T14:00:30.5+02:00",
        ),
        now=NOW,
    )
    assert parsed.ok
    first, second = parsed.rows
    assert first == (2, "R-1", "com", CATEGORY_CODES["I"], CHANNEL_CODES["automated"],
                     EVENT_CODES["received"], to_us(datetime(2026, 10, 1, 12, tzinfo=UTC)))  # fmt: skip
    assert second[0] == 3 and second[6] - first[6] == 30_500_000


def test_csv_columns_may_come_in_any_order_and_blank_lines_are_skipped(reader) -> None:
    text = "occurred_at,event,channel,category,tld,request_id\n\n2026-10-01T12:00:00Z,received,email,II,de,X\n"
    parsed = reader(text, now=NOW)
    assert parsed.ok and parsed.rows[0][1:6] == ("X", "de", 1, 1, 0)


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("R-1,com,VI,automated,received,2026-10-01T12:00:00Z", "category", "unknown category 'VI'"),
        ("R-1,com,I,fax,received,2026-10-01T12:00:00Z", "channel", "unknown channel 'fax'"),
        ("R-1,com,I,automated,arrived,2026-10-01T12:00:00Z", "event", "unknown event 'arrived'"),
        ("R-1,com,I,automated,received,2026-10-01T12:00:00", "occurred_at", "has no UTC offset"),
        ("R-1,com,I,automated,received,2026-10-01", "occurred_at", "has no UTC offset"),
        ("R-1,com,I,automated,received,yesterday", "occurred_at", "is not an ISO 8601 time"),
        ("R-1,com,I,automated,received,2026-11-28T12:00:01Z", "occurred_at", "is in the future"),
        (",com,I,automated,received,2026-10-01T12:00:00Z", "request_id", "required"),
        ("R-1,,I,automated,received,2026-10-01T12:00:00Z", "tld", "required"),
        ("R-1,ex ample,I,automated,received,2026-10-01T12:00:00Z", "tld", "is not a TLD A-label"),
        ("R-1,рф,I,automated,received,2026-10-01T12:00:00Z", "tld", "write 'xn--p1ai'"),
    ],
)
def test_bad_row_is_refused_with_line_field_and_reason(
    reader, line: str, field: str, reason: str
) -> None:
    parsed = reader(csv_of("R-0,com,I,automated,received,2026-10-01T12:00:00Z", line), now=NOW)
    assert not parsed.ok
    (error,) = parsed.errors
    assert (error.line, error.field) == (3, field)
    assert reason in error.reason
    assert str(error).startswith(f"line 3: {field}: ")


def test_a_row_with_several_problems_lists_each(reader) -> None:
    parsed = reader(csv_of("R-1,com,VI,fax,arrived,2026-10-01T12:00:00"), now=NOW)
    assert [e.field for e in parsed.errors] == ["category", "channel", "event", "occurred_at"]


def test_missing_header_columns_are_named() -> None:
    parsed = parse_csv(
        io.StringIO("request_id,tld,category,event,when\nR,com,I,received,x\n"), now=NOW
    )
    assert [(e.line, e.field) for e in parsed.errors] == [(1, "channel"), (1, "occurred_at")]
    assert parsed.rows == []


def test_empty_file_is_refused() -> None:
    parsed = parse_csv(io.StringIO(""), now=NOW)
    assert not parsed.ok and "empty" in parsed.errors[0].reason


def test_short_row_is_refused(reader) -> None:
    parsed = reader(csv_of("R-1,com,I"), now=NOW)
    assert parsed.errors[0].line == 2 and "expected 6 fields, found 3" in parsed.errors[0].reason


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("R-1,com,I,automated,received,2026-10-01T12:00:00Z,surplus", "found 7 (more"),
        ("R-1,com,I,automated,received,2026-10-01T12:00:00Z,", "found 7 (more"),
        ("R-1,com", "found 2 (fewer"),
    ],
)
def test_a_row_whose_field_count_differs_from_the_header_is_refused(
    reader, line: str, found: str
) -> None:
    parsed = reader(
        csv_of("R-0,com,I,automated,received,2026-10-01T12:00:00Z", line,
               "R-2,com,I,automated,received,2026-10-01T12:00:00Z"),
        now=NOW,
    )  # fmt: skip
    assert [(e.line, e.field) for e in parsed.errors] == [(3, None)]
    assert f"expected 6 fields, {found} than the header row)" in parsed.errors[0].reason


def test_rows_follow_a_header_with_an_extra_column(reader) -> None:
    """An extra header column is ignored, but every row must still have it."""
    text = HEADER.replace("\n", ",note\n") + (
        "R-1,com,I,automated,received,2026-10-01T12:00:00Z,hello\n"
        "R-2,com,I,automated,received,2026-10-01T12:00:00Z\n"
    )
    parsed = reader(text, now=NOW)
    assert [r[1] for r in parsed.rows] == ["R-1"]
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (3, "expected 7 fields, found 6 (fewer than the header row)")
    ]


def test_quoted_csv_counts_fields_like_the_header() -> None:
    text = HEADER + 'R-1,com,I,automated,received,2026-10-01T12:00:00Z,"a, b"\n'
    parsed = parse_csv(text, now=NOW)  # quotes: the csv module's path
    assert [(e.line, e.reason[:25]) for e in parsed.errors] == [(2, "expected 6 fields, found ")]


def test_request_must_keep_its_tld_and_category_within_a_file(reader) -> None:
    parsed = reader(
        csv_of(
            "R-1,com,I,automated,received,2026-10-01T12:00:00Z",
            "R-1,net,I,automated,ticket_confirmed,2026-10-01T12:00:10Z",
            "R-1,com,II,automated,ticket_confirmed,2026-10-01T12:00:10Z",
        ),
        now=NOW,
    )
    assert [(e.line, e.field) for e in parsed.errors] == [(3, "tld"), (4, "category")]
    assert "given for request 'R-1' on line 2" in parsed.errors[0].reason


def test_error_list_stops_at_the_limit(reader) -> None:
    lines = ["R,com,I,automated,nope,2026-10-01T12:00:00Z"] * (MAX_ERRORS + 10)
    parsed = reader(csv_of(*lines), now=NOW)
    assert len(parsed.errors) == MAX_ERRORS and parsed.truncated


def test_binary_file_is_refused_as_not_csv() -> None:
    parsed = parse_csv(io.StringIO(HEADER + "a,b\x00c\n"), now=NOW)
    assert not parsed.ok
    parsed = parse_csv(HEADER + "a,b\x00c\n", now=NOW)
    assert not parsed.ok


def test_json_list_or_events_object() -> None:
    item = {"request_id": "R-1", "tld": "com", "category": "emergency", "channel": "email",
            "event": "received", "occurred_at": "2026-10-01T12:00:00+00:00"}  # fmt: skip
    assert parse_json([item], now=NOW).rows[0][3] == CATEGORY_CODES["emergency"]
    assert parse_json({"events": [item]}, now=NOW).ok


def test_bad_json_items_are_numbered() -> None:
    good = {"request_id": "R-1", "tld": "com", "category": "I", "channel": "email",
            "event": "received", "occurred_at": "2026-10-01T12:00:00Z"}  # fmt: skip
    parsed = parse_json(
        [good, "text", {k: v for k, v in good.items() if k != "event"},
         {**good, "occurred_at": 5}],
        now=NOW,
    )  # fmt: skip
    assert [(e.unit, e.line, e.field) for e in parsed.errors] == [
        ("item", 2, None), ("item", 3, "event"), ("item", 4, "occurred_at"),
    ]  # fmt: skip
    assert str(parsed.errors[1]) == "item 3: event: required"
    assert not parse_json({"rows": []}, now=NOW).ok


def test_unknown_tlds_are_refused_against_the_registry(reader) -> None:
    parsed = reader(
        csv_of(
            "R-1,com,I,automated,received,2026-10-01T12:00:00Z",
            "R-2,nosuchtld,I,automated,received,2026-10-01T12:00:00Z",
        ),
        now=NOW,
    )
    (error,) = unknown_tlds(parsed, {"com", "net"})
    assert (error.line, error.field) == (3, "tld") and "unknown TLD 'nosuchtld'" in error.reason


def test_conflicts_with_stored_requests_name_the_line(reader) -> None:
    parsed = reader(csv_of("R-1,com,II,automated,received,2026-10-01T12:00:00Z"), now=NOW)
    (error,) = conflicting_requests(parsed, {"R-1": ("com", CATEGORY_CODES["I"])})
    assert (error.line, error.field) == (2, "category")
    assert "'II' differs from 'I' stored for request 'R-1'" in error.reason


def test_normalise_tld() -> None:
    assert normalise_tld(" .Example ") == "example"
    assert normalise_tld("xn--p1ai") == "xn--p1ai"
    with pytest.raises(ValueError, match="not a TLD"):
        normalise_tld("-bad")


def test_both_readers_agree_on_a_simulated_file() -> None:
    from steward.sla.simulate import format_row, simulate

    rows = [format_row(r) for r in simulate(2, 3, now=NOW)]
    plain = HEADER + "".join(",".join(r) + "\r\n" for r in rows)
    quoted = HEADER + "".join(",".join(f'"{v}"' for v in r) + "\n" for r in rows)
    a = parse_csv(plain, now=NOW)
    b = parse_csv(quoted, now=NOW)
    assert a.ok and b.ok and len(a.rows) == len(rows)
    assert a.rows == b.rows and a.requests == b.requests


def test_paused_gc_restores_the_collector() -> None:
    import gc

    from steward.sla.rows import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()
