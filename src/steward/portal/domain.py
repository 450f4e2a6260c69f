"""The transparency portal's public data, in the shapes feeds and open data need.

Everything here is pure: it turns plain records into an Atom feed (feedgen), an
iCalendar feed (icalendar), and open data (JSON-ready dicts, CSV text). The portal
publishes what R-DSP-6 (IAP findings), R-AUD-2 (audit results), R-SLA-2 (performance
reports and DUG reviews), R-TCH-2 (technical-change consultations) and R-ESC-1
(ballot results) require to be published, each with a link to its inclusion proof.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from icalendar import Calendar, Event

from steward.textfile import spreadsheet_safe

# Kinds other contexts publish under, with the label the portal shows; unknown kinds
# still appear, under their raw name, so a new context never vanishes from the portal.
KIND_LABELS: dict[str, str] = {
    "sla-report": "Performance report",
    "sla-review": "DUG review of a performance report",
    "sla-catalogue": "Service-level catalogue",
    "iap_finding": "IAP finding",
    "iap-finding": "IAP finding",
    "audit_report": "Audit result",
    "audit_examination": "DUG examination of an audit",
    "iprt_draft_report": "IPRT draft report",
    "iprt_final_report": "IPRT review report",
    "consultation": "Technical-change consultation",
    "consultation_statement": "Consultation statement",
    "change_agreement": "DUG agreement on a technical change",
    "change_implemented": "Technical change implemented",
    "ballot-result": "Ballot result",
    "dug_decision": "DUG decision",
    "charter": "DUG charter",
}

CSV_FIELDS = ("id", "kind", "title", "published_at", "url", "summary", "log_index", "proof_url")


def kind_label(kind: str) -> str:
    """Human label of a publication kind."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").replace("-", " ").capitalize())


@dataclass(frozen=True, slots=True)
class PublicItem:
    """One published record as the portal lists it.

    ``log_index`` is its leaf in the archive log (``None`` while not yet logged);
    ``url`` and ``proof_url`` are absolute or site-relative links.
    """

    id: int
    kind: str
    title: str
    published_at: datetime
    url: str
    summary: str = ""
    log_index: int | None = None
    proof_url: str | None = None

    def as_json(self) -> dict[str, object]:
        """The open-data JSON object of this item."""
        return {
            "id": self.id,
            "kind": self.kind,
            "kind_label": kind_label(self.kind),
            "title": self.title,
            "published_at": self.published_at.astimezone(UTC).isoformat(),
            "url": self.url,
            "summary": self.summary,
            "log_index": self.log_index,
            "proof_url": self.proof_url,
        }


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    """A public date: a report due, an audit, a review, a comment period.

    ``start`` and ``end`` are dates for all-day items or aware datetimes for timed
    ones; ``end`` is exclusive and defaults to one day (or one hour) after ``start``.
    ``uid`` must be stable across feeds so calendars update rather than duplicate.
    """

    uid: str
    title: str
    kind: str
    start: date | datetime
    end: date | datetime | None = None
    url: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) and self.start.tzinfo is None:
            raise ValueError(f"schedule item {self.uid}: start must be timezone-aware")
        if self.end is not None and type(self.end) is not type(self.start):
            raise ValueError(f"schedule item {self.uid}: start and end must both be dates or times")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"schedule item {self.uid}: end is before start")

    @property
    def effective_end(self) -> date | datetime:
        """``end``, or the default length after ``start``."""
        if self.end is not None:
            return self.end
        step = timedelta(hours=1) if isinstance(self.start, datetime) else timedelta(days=1)
        return self.start + step


class _RelatedLinks(BaseEntryExtension):  # type: ignore[misc]
    """Adds ``<link rel="related">`` to an Atom entry.

    feedgen 1.0 drops ``rel`` and ``title`` from entry links (the loop variable shadows
    the link dict), so the proof link is written here instead.
    """

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_atom(self, entry: object) -> object:
        for href, title in self.links:
            xml_elem("link", entry, href=href, rel="related", title=title)
        return entry


def _absolute(base_url: str, url: str) -> str:
    return url if "://" in url else base_url.rstrip("/") + "/" + url.lstrip("/")


def atom_feed(
    items: Sequence[PublicItem],
    *,
    base_url: str,
    feed_url: str,
    title: str = "Steward publications",
    updated: datetime,
) -> bytes:
    """Render publications as an Atom 1.0 feed, newest first.

    ``updated`` is the feed's own timestamp (the newest item's, or when it was built).
    """
    fg = FeedGenerator()
    fg.id(_absolute(base_url, feed_url))
    fg.title(title)
    fg.subtitle("Everything published about the IANA naming functions, with proofs of inclusion")
    fg.author({"name": "Steward"})
    fg.link(href=_absolute(base_url, feed_url), rel="self")
    fg.link(href=_absolute(base_url, "/portal"), rel="alternate")
    fg.language("en")
    fg.updated(updated)
    fg.register_extension("steward", BaseExtension, _RelatedLinks, atom=True, rss=False)
    for item in sorted(items, key=lambda i: (i.published_at, i.id)):
        entry = fg.add_entry()  # feedgen prepends: oldest first in, newest first out
        link = _absolute(base_url, item.url)
        entry.id(_absolute(base_url, f"/portal/publications/{item.id}"))
        entry.title(item.title)
        entry.link(href=link, rel="alternate")
        if item.proof_url:
            entry.steward.links.append((_absolute(base_url, item.proof_url), "inclusion proof"))
        entry.published(item.published_at)
        entry.updated(item.published_at)
        entry.category(term=item.kind, label=kind_label(item.kind))
        entry.summary(item.summary or kind_label(item.kind))
    data: bytes = fg.atom_str(pretty=True)
    return data


def _ical_moment(value: date | datetime) -> date | datetime:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def ical_feed(items: Iterable[ScheduleItem], *, base_url: str, generated_at: datetime) -> bytes:
    """Render the public schedule as an iCalendar (RFC 5545) feed."""
    cal = Calendar()
    cal.add("prodid", "-//Steward//Public schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Steward public schedule")
    for item in items:
        event = Event()
        event.add("uid", item.uid)
        event.add("summary", item.title)
        event.add("dtstamp", generated_at.astimezone(UTC))
        # Timed items go out in UTC: a fixed offset has no VTIMEZONE a client could resolve.
        event.add("dtstart", _ical_moment(item.start))
        event.add("dtend", _ical_moment(item.effective_end))
        event.add("categories", [kind_label(item.kind)])
        if item.url:
            event.add("url", _absolute(base_url, item.url))
        if item.description:
            event.add("description", item.description)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def open_data_csv(items: Iterable[PublicItem]) -> str:
    """Render publications as CSV with a header row (RFC 4180 quoting, CRLF lines); a text a
    spreadsheet would take for a formula starts with an apostrophe (``spreadsheet_safe``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for item in items:
        row = item.as_json()
        writer.writerow({k: "" if row[k] is None else spreadsheet_safe(row[k]) for k in CSV_FIELDS})
    return out.getvalue()
