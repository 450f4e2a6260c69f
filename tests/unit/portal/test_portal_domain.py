"""Portal feeds and open data, read back with independent parsers (R-DSP-6, R-AUD-2, R-TCH-2)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import feedparser
import pytest
from icalendar import Calendar

from steward.portal.domain import (
    CSV_FIELDS,
    PublicItem,
    ScheduleItem,
    atom_feed,
    ical_feed,
    kind_label,
    open_data_csv,
)

BASE = "https://steward.example"
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
ITEMS = [
    PublicItem(
        1,
        "iap_finding",
        "IAP finding in dispute 7: breach capable of remedy",
        T0,
        "/disputes/7",
        "30 days to remedy",
        41,
        "/portal/proof/41",
    ),
    PublicItem(
        2,
        "audit_result",
        'Audit 2026 results, "Excellent"; ok',
        T0 + timedelta(days=1),
        "/audits/3",
        "",
        52,
        "/portal/proof/52",
    ),
    PublicItem(
        3, "new_kind", "Something new", T0 + timedelta(days=2), "https://elsewhere.example/x"
    ),
]


def test_atom_feed_parses_newest_first_with_proof_links() -> None:
    feed = feedparser.parse(
        atom_feed(
            ITEMS, base_url=BASE, feed_url="/portal/feed.atom", updated=T0 + timedelta(days=2)
        )
    )
    assert not feed.bozo
    assert feed.version == "atom10"
    assert [e.title for e in feed.entries] == [i.title for i in reversed(ITEMS)]
    finding = feed.entries[-1]
    assert finding.link == f"{BASE}/disputes/7"
    assert {lnk.href for lnk in finding.links if lnk.rel == "related"} == {
        f"{BASE}/portal/proof/41"
    }
    assert finding.tags[0].term == "iap_finding"
    assert finding.summary == "30 days to remedy"
    assert datetime(*finding.published_parsed[:6], tzinfo=UTC) == T0
    assert feed.entries[0].link == "https://elsewhere.example/x"


def test_empty_feed_is_still_valid_atom() -> None:
    feed = feedparser.parse(atom_feed([], base_url=BASE, feed_url="/portal/feed.atom", updated=T0))
    assert not feed.bozo
    assert feed.entries == []


def test_ical_feed_round_trips_dates_times_and_links() -> None:
    la = timezone(timedelta(hours=-7))
    items = [
        ScheduleItem(
            "report-2026-05@steward",
            "Performance report for April 2026 due",
            "performance_report",
            date(2026, 5, 15),
        ),
        ScheduleItem(
            "consultation-4@steward",
            "Comment period: DNSSEC algorithm rollover",
            "consultation",
            date(2026, 6, 1),
            date(2026, 7, 1),
            "/changes/4",
            "Comments close 30 June.",
        ),
        ScheduleItem(
            "iprt-2027@steward",
            "IPRT kick-off",
            "review_report",
            datetime(2027, 1, 5, 9, 0, tzinfo=la),
        ),
    ]
    cal = Calendar.from_ical(ical_feed(items, base_url=BASE, generated_at=T0))
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {i.uid for i in items}
    report = events["report-2026-05@steward"]
    assert report.decoded("dtstart") == date(2026, 5, 15)
    assert report.decoded("dtend") == date(2026, 5, 16)
    comment = events["consultation-4@steward"]
    assert comment.decoded("dtend") == date(2026, 7, 1)
    assert str(comment["url"]) == f"{BASE}/changes/4"
    assert str(comment["description"]) == "Comments close 30 June."
    kickoff = events["iprt-2027@steward"]
    assert kickoff.decoded("dtstart") == datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
    assert kickoff.decoded("dtend") - kickoff.decoded("dtstart") == timedelta(hours=1)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"start": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"start": date(2026, 1, 2), "end": date(2026, 1, 1)}, "end is before start"),
        ({"start": date(2026, 1, 2), "end": T0}, "both be dates or times"),
    ],
)
def test_bad_schedule_items_are_refused(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        ScheduleItem("x", "x", "x", **kwargs)  # type: ignore[arg-type]


def test_csv_open_data_round_trips_through_the_csv_module() -> None:
    rows = list(csv.DictReader(io.StringIO(open_data_csv(ITEMS))))
    assert tuple(rows[0]) == CSV_FIELDS
    assert rows[1]["title"] == 'Audit 2026 results, "Excellent"; ok'
    assert rows[0]["log_index"] == "41"
    assert rows[2]["proof_url"] == ""
    assert rows[0]["published_at"] == "2026-05-04T12:00:00+00:00"


@pytest.mark.parametrize("title", ["=HYPERLINK(\"http://x.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_made_text(title: str) -> None:
    """Issue 9 point 3: a payload comes back inert, in the CSV a spreadsheet opens too."""
    item = PublicItem(9, "audit_result", title, T0, "/audits/9", summary=title)
    row = next(csv.DictReader(io.StringIO(open_data_csv([item]))))
    assert row["title"] == row["summary"] == "'" + title
    assert row["id"] == "9" and row["log_index"] == ""  # numbers and empty cells as they were


def test_unknown_kinds_get_a_readable_label() -> None:
    assert kind_label("iap_finding") == "IAP finding"
    assert kind_label("new_kind") == "New kind"
    assert kind_label("sla-report") == "Performance report"
    assert kind_label("odd-new_kind") == "Odd new kind"
