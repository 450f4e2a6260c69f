"""Service-level use cases: catalogue versions, ingest of the IFM's events, monthly reports,
publication, explanations of misses and the DUG's review (R-SLA-1, R-SLA-2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.db import utcnow
from steward.errors import Conflict, Invalid, NotFound
from steward.events import record_event, record_publication
from steward.sla import domain, repository, rows
from steward.sla.domain import (
    DEFAULT_CATALOGUE,
    CatalogueError,
    CatalogueVersion,
    Month,
    MonthlyReport,
    Result,
)
from steward.sla.measure import PreparedLog, monthly_reports
from steward.sla.models import (
    SlaCatalogueVersion,
    SlaIngestBatch,
    SlaMissExplanation,
    SlaReport,
    SlaReview,
    SlaReviewComment,
)
from steward.sla.rows import RowError
from steward.textfile import decode_utf8

Progress = Callable[[int, int], None]


def _require(actor: Principal | None, permission: Permission) -> None:
    if actor is not None:
        actor.require(permission)


def _actor_id(actor: Principal | None) -> int | None:
    return None if actor is None else actor.user_id


# --- catalogue ---------------------------------------------------------------------------


def _version_from_row(row: SlaCatalogueVersion) -> CatalogueVersion:
    data = dict(row.definition)
    data["effective"] = date.fromisoformat(str(data["effective"]))
    return domain.catalogue_from_mapping(data)


def catalogue_versions(session: Session) -> list[CatalogueVersion]:
    """The built-in default (version "1") and every loaded version, by effective date."""
    return [DEFAULT_CATALOGUE, *(_version_from_row(r) for r in repository.catalogue_rows(session))]


def catalogue_version(session: Session, label: str) -> CatalogueVersion:
    for version in catalogue_versions(session):
        if version.version == label:
            return version
    raise NotFound(f"no catalogue version {label}")


def load_catalogue(
    session: Session, actor: Principal | None, text: str, *, cause: str | None = None
) -> CatalogueVersion:
    """Load a new catalogue version from TOML (R-SLA-1, R-AUD-2). Versions are immutable once
    loaded, because published reports cite them; ``cause`` (e.g. an audit) overrides the file's."""
    _require(actor, Permission.SLA_CATALOGUE)
    try:
        version = domain.load_catalogue_toml(text)
    except CatalogueError as exc:
        # the field named by the first problem, as the domain recorded it (never a piece of the
        # message); a TOML syntax error names its line (and column, in the message) instead
        field_name = exc.fields[0] if exc.fields else None
        message = "; ".join(exc.problems) or "invalid catalogue"
        raise Invalid(message, field=field_name, line=exc.line) from None
    if cause:
        version = CatalogueVersion(
            version.version, version.effective, version.metrics, cause.strip(), version.description
        )
    labels = {v.version for v in catalogue_versions(session)}
    if version.version in labels:
        raise Conflict(
            f"catalogue version {version.version} already exists; versions are never changed, "
            "load a new version with its own label and effective date"
        )
    definition = domain.catalogue_to_mapping(version)
    definition["effective"] = version.effective.isoformat()
    row = SlaCatalogueVersion(
        version=version.version,
        effective=version.effective,
        cause=version.cause,
        definition=definition,
        loaded_by_id=_actor_id(actor),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "sla-catalogue:loaded",
        actor=actor,
        subject_type="sla-catalogue",
        subject_id=version.version,
        data={
            "version": version.version,
            "effective": version.effective.isoformat(),
            "cause": version.cause,
            "metrics": [m.id for m in version.metrics],
        },
        public=True,
    )
    record_publication(
        session,
        "sla-catalogue",
        f"SLA catalogue version {version.version}, effective {version.effective.isoformat()}",
        "/sla/catalogue",
        definition,
        actor=actor,
        summary=version.cause or "",
    )
    return version


# --- ingest ------------------------------------------------------------------------------


class EventFileInvalid(Invalid):
    """A refused event file: every row error (line or item, field, reason)."""

    def __init__(self, errors: list[RowError], *, truncated: bool = False) -> None:
        first = errors[0]
        more = len(errors) - 1
        suffix = f" (and {more}{'+' if truncated else ''} more)" if more or truncated else ""
        super().__init__(f"{first.reason}{suffix}; nothing was ingested", field=first.field,
                         line=first.line)  # fmt: skip
        self.errors = errors
        self.truncated = truncated

    def as_list(self) -> list[dict[str, Any]]:
        return [
            {e.unit: e.line, "field": e.field, "reason": e.reason, "text": str(e)}
            for e in self.errors
        ]


@dataclass
class IngestResult:
    rows: int
    added: int
    new_requests: int
    batch_id: int | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.rows - self.added

    @property
    def message(self) -> str:
        if self.rows == 0:
            return "The file has no events; nothing was added."
        if self.added == 0:
            return f"All {self.rows} events were already recorded; nothing was added."
        dup = f"; {self.duplicates} were already recorded" if self.duplicates else ""
        return f"{self.added} of {self.rows} events added ({self.new_requests} new requests){dup}."

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "added": self.added,
            "duplicates": self.duplicates,
            "new_requests": self.new_requests,
            "batch_id": self.batch_id,
            "message": self.message,
        }


def parse_event_file(data: bytes | str, *, fmt: str, now: datetime) -> rows.ParsedEvents:
    """Decode and parse an event file; ``fmt`` is ``csv`` or ``json``."""
    text = decode_utf8(data) if isinstance(data, bytes) else data
    if fmt == "json":
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Invalid(f"not valid JSON: {exc.msg}", line=exc.lineno) from None
        return rows.parse_json(decoded, now=now)
    if fmt != "csv":
        raise Invalid(f"unknown format {fmt!r} (csv or json)", field="format")
    return rows.parse_csv(text, now=now)


def guess_format(filename: str | None, content_type: str | None, data: bytes | str) -> str:
    """``json`` or ``csv`` from the file name, the content type, or the first character."""
    name = (filename or "").lower()
    if name.endswith(".json") or "json" in (content_type or ""):
        return "json"
    if name.endswith(".csv") or "csv" in (content_type or ""):
        return "csv"
    head = (
        data[:64].lstrip()
        if isinstance(data, str)
        else data[:64].lstrip().decode("ascii", "replace")
    )
    return "json" if head[:1] in ("[", "{") else "csv"


def ingest(
    session: Session,
    actor: Principal | None,
    parsed: rows.ParsedEvents,
    *,
    source: str,
    fmt: str,
    progress: Progress | None = None,
) -> IngestResult:
    """Store a parsed file's events, all or nothing (R-SLA-2 performance data).

    Refused with every row's reason when any row is bad, names a TLD the registry does not know,
    or gives a request another TLD or category than before. The same rows again add nothing
    (the natural key ``request, event, occurred_at``); rows may come in any order and files.
    """
    _require(actor, Permission.SLA_INGEST)
    errors = parsed.errors + rows.unknown_tlds(parsed, repository.known_tlds(session))
    if errors:
        errors.sort(key=lambda e: e.line)
        raise EventFileInvalid(
            errors[: rows.MAX_ERRORS],
            truncated=parsed.truncated or len(errors) > rows.MAX_ERRORS,
        )
    data = parsed.rows
    # per request of this file: [tld, category, first line, first_at, closed_at, last_at]
    spans = parsed.requests
    stored = repository.stored_requests(session, spans, total=repository.request_count(session))
    existing = {rid: (s[1], s[2]) for rid, s in stored.items()}
    errors = rows.conflicting_requests(parsed, existing) if existing else []
    if errors:
        raise EventFileInvalid(errors[: rows.MAX_ERRORS], truncated=len(errors) > rows.MAX_ERRORS)

    def long_span(first: int, last: int, closed: int | None) -> bool:
        return closed is None or last - first > repository.LONG_SPAN_US

    new = [
        (rid, s[0], s[1], s[3], s[5], s[4], long_span(s[3], s[5], s[4]))
        for rid, s in spans.items()
        if rid not in stored
    ]
    ids = {rid: s[0] for rid, s in stored.items()}
    try:
        ids.update(repository.insert_requests(session, new))
    except IntegrityError:
        raise Conflict("another ingest added the same requests at the same time; retry") from None
    updates = []
    for rid, (rid_id, _tld, _cat, first_at, last_at, closed_at) in stored.items():
        span = spans[rid]
        new_first, new_last = min(first_at, span[3]), max(last_at, span[5])
        new_closed = closed_at if span[4] is None else min(closed_at or span[4], span[4])
        if (new_first, new_last, new_closed) != (first_at, last_at, closed_at):
            updates.append(
                (
                    new_first,
                    new_last,
                    new_closed,
                    long_span(new_first, new_last, new_closed),
                    rid_id,
                )
            )
    repository.update_request_spans(session, updates)
    seq = repository.next_seq(session)
    events = [(ids[r[1]], r[5], r[6], r[4], seq + i) for i, r in enumerate(data)]
    total = len(events)
    added = repository.insert_events(
        session, events, None if progress is None else (lambda done: progress(done, total))
    )
    result = IngestResult(rows=total, added=added, new_requests=len(new))
    if added:
        batch = repository.add_batch(
            session,
            SlaIngestBatch(source=source[:300], format=fmt, rows=total, added=added,
                        duplicates=total - added, seq_start=seq, actor_id=_actor_id(actor)),
        )  # fmt: skip
        result.batch_id = batch.id
        record_event(
            session,
            "sla-data:ingested",
            actor=actor,
            subject_type="sla-batch",
            subject_id=batch.id,
            data=result.as_dict() | {"source": source[:300]},
        )
    return result


def ingest_file(
    session: Session,
    actor: Principal | None,
    data: bytes | str,
    *,
    source: str,
    now: datetime,
    fmt: str | None = None,
    content_type: str | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Parse then ingest one CSV or JSON file (see :func:`ingest`)."""
    _require(actor, Permission.SLA_INGEST)
    fmt = fmt or guess_format(source, content_type, data)
    with rows.paused_gc():
        parsed = parse_event_file(data, fmt=fmt, now=now)
        return ingest(session, actor, parsed, source=source, fmt=fmt, progress=progress)


# --- reports -----------------------------------------------------------------------------


def compute(session: Session, first: Month, last: Month, *, now: datetime) -> list[MonthlyReport]:
    """Reports of the months ``first``…``last`` computed from the stored events, each against the
    catalogue version in force for it (never typed in)."""
    versions = catalogue_versions(session)
    log = repository.log_for_period(session, first, last)
    months = domain.month_range(first, last)
    try:
        return monthly_reports(PreparedLog(log), versions, months, now=now)
    except LookupError as exc:
        raise Invalid(str(exc), field="month") from None


def compute_month(session: Session, month: Month, *, now: datetime) -> MonthlyReport:
    return compute(session, month, month, now=now)[0]


def data_months(session: Session) -> list[Month]:
    """Every month from the first to the last event in the data, newest first."""
    bounds = repository.data_bounds(session)
    if bounds is None:
        return []
    first = Month.of(domain.from_us(bounds[0]))
    last = Month.of(domain.from_us(bounds[1]))
    return list(reversed(domain.month_range(first, last)))


def parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise Invalid(str(exc), field="month") from None


def publish(
    session: Session,
    actor: Principal | None,
    month: Month,
    *,
    now: datetime,
    explanations: dict[str, str] | None = None,
) -> SlaReport:
    """The IFM publishes a month's report (R-SLA-2): computed now from the data, then frozen and
    public, citing its catalogue version. Explanations may be attached to the misses."""
    _require(actor, Permission.SLA_PUBLISH)
    if not domain.month_is_over(month, now):
        raise Invalid(f"{month} is not over yet; a month is published once it has ended",
                      field="month")  # fmt: skip
    if repository.published(session, str(month)) is not None:
        raise Conflict(f"the report for {month} is already published and frozen")
    report = compute_month(session, month, now=now)
    summary = report.summary
    if summary.with_data == 0:
        # a frozen "0 of 0, No data" report could never be corrected by the data sent later
        raise Invalid(
            f"there is no data for {month}: no metric of catalogue version "
            f"{report.catalogue_version} has a measurement in it; ingest the month's events "
            "before publishing",
            field="month",
        )
    row = SlaReport(
        month=str(month),
        catalogue_version=report.catalogue_version,
        content=report.as_json(),
        met=summary.met,
        with_data=summary.with_data,
        total=summary.total,
        rating=summary.rating.value,
        published_at=now,
        published_by_id=_actor_id(actor),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"the report for {month} was just published by someone else") from None
    record_event(
        session,
        "sla-report:published",
        actor=actor,
        subject_type="sla-report",
        subject_id=str(month),
        data={"month": str(month), "catalogue_version": report.catalogue_version,
              "summary": summary.text, "rating": summary.rating.value},
        public=True,
    )  # fmt: skip
    record_publication(
        session,
        "sla-report",
        f"IFM performance report {month}: {summary.text} ({summary.rating.value})",
        f"/sla?month={month}",
        {k: v for k, v in row.content.items() if k != "open_over"},
        actor=actor,
        summary=f"{summary.text}; catalogue version {report.catalogue_version}",
    )
    for metric_id, text in (explanations or {}).items():
        if text.strip():
            explain(session, actor, month, metric_id, text)
    return row


def published_report(session: Session, month: Month) -> SlaReport:
    row = repository.published(session, str(month))
    if row is None:
        raise NotFound(f"no published report for {month}")
    return row


def explain(
    session: Session, actor: Principal | None, month: Month, metric_id: str, text: str
) -> SlaMissExplanation:
    """Attach (or replace) the IFM's explanation of a missed threshold in a published report."""
    _require(actor, Permission.SLA_PUBLISH)
    row = published_report(session, month)
    text = text.strip()
    if not text:
        raise Invalid("is required", field="text")
    if len(text) > 5000:
        raise Invalid("at most 5000 characters", field="text")
    results = {m["id"]: m["result"] for m in row.content["metrics"]}
    if metric_id not in results:
        raise Invalid(f"no metric {metric_id!r} in the report for {month}", field="metric")
    if results[metric_id] != Result.MISSED.value:
        raise Invalid(f"{metric_id} was not missed in {month}; only misses are explained",
                      field="metric")  # fmt: skip
    current = repository.explanations(session, row.id).get(metric_id)
    if current is None:
        current = SlaMissExplanation(report_id=row.id, metric_id=metric_id, text=text,
                                  author_id=_actor_id(actor), updated_at=utcnow())  # fmt: skip
        session.add(current)
    else:
        current.text, current.author_id, current.updated_at = text, _actor_id(actor), utcnow()
    session.flush()
    record_event(
        session,
        "sla-report:explained",
        actor=actor,
        subject_type="sla-report",
        subject_id=str(month),
        data={"month": str(month), "metric": metric_id, "text": text},
        public=True,
    )
    return current


# --- DUG review --------------------------------------------------------------------------


def add_comment(session: Session, actor: Principal, month: Month, text: str) -> SlaReviewComment:
    """A DUG member comments on a published report, until the DUG records its review."""
    actor.require(Permission.SLA_COMMENT)
    row = published_report(session, month)
    if repository.review(session, row.id) is not None:
        raise Conflict(f"the DUG has recorded its review of {month}; comments are closed")
    text = text.strip()
    if not text:
        raise Invalid("is required", field="text")
    if len(text) > 5000:
        raise Invalid("at most 5000 characters", field="text")
    assert actor.user is not None
    comment = SlaReviewComment(report_id=row.id, author_id=actor.user.id, author_name=actor.user.name,
                            text=text, created_at=utcnow())  # fmt: skip
    session.add(comment)
    session.flush()
    record_event(session, "sla-review:commented", actor=actor, subject_type="sla-report",
                 subject_id=str(month), data={"month": str(month), "comment": comment.id})  # fmt: skip
    return comment


def record_review(
    session: Session,
    actor: Principal | None,
    month: Month,
    *,
    overall: str,
    findings: list[tuple[str, str, str]],
    summary: str = "",
    advice: str = "",
) -> SlaReview:
    """The DUG records its findings on a published report and any advice to the IFM on the type,
    frequency and content of reports (R-SLA-2). Public once recorded; recorded once."""
    _require(actor, Permission.SLA_REVIEW)
    row = published_report(session, month)
    if repository.review(session, row.id) is not None:
        raise Conflict(f"the DUG's review of {month} is already recorded")
    try:
        verdict, checked = domain.check_review(
            overall, findings, [m["id"] for m in row.content["metrics"]]
        )
    except ValueError as exc:
        message = str(exc)
        field_name, _, reason = message.partition(": ")
        raise Invalid(reason or message, field=field_name if reason else None) from None
    review = SlaReview(
        report_id=row.id,
        overall=verdict.value,
        summary=summary.strip(),
        findings=[
            {"metric": f.metric_id, "finding": f.finding.value, "note": f.note} for f in checked
        ],
        advice=advice.strip(),
        recorded_at=utcnow(),
        recorded_by_id=_actor_id(actor),
    )
    session.add(review)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"the DUG's review of {month} was just recorded by someone else") from None
    content = review_json(review, str(month))
    record_event(session, "sla-report:reviewed", actor=actor, subject_type="sla-report",
                 subject_id=str(month), data=content, public=True)  # fmt: skip
    record_publication(
        session,
        "sla-review",
        f"DUG review of the IFM performance report {month}: {verdict.value}",
        f"/sla?month={month}#review",
        content,
        actor=actor,
        summary=summary.strip()[:500],
    )
    return review


def review_json(review: SlaReview, month: str) -> dict[str, Any]:
    return {
        "month": month,
        "overall": review.overall,
        "summary": review.summary,
        "findings": review.findings,
        "advice": review.advice,
        "recorded_at": review.recorded_at.isoformat(),
    }


def public_report(session: Session, month: Month) -> dict[str, Any]:
    """A published report as the public sees it: frozen figures, explanations, the review."""
    row = published_report(session, month)
    data = dict(row.content)
    data.pop("open_over", None)  # request ids are the IFM's and DUG's working detail
    data["published_at"] = row.published_at.isoformat()
    data["explanations"] = {
        m: e.text for m, e in sorted(repository.explanations(session, row.id).items())
    }
    review = repository.review(session, row.id)
    data["review"] = None if review is None else review_json(review, row.month)
    return data
