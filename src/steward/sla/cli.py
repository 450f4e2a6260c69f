"""``steward sla …``: catalogue, ingest, reports, publication and simulated data."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from steward.cli_support import err, fail_on_error, progress_bar
from steward.db import session_scope, utcnow
from steward.errors import Invalid
from steward.sla import domain, service
from steward.sla.rows import paused_gc
from steward.sla.service import EventFileInvalid
from steward.textfile import decode_utf8

NAME = "sla"
app = typer.Typer(
    help="Service levels: catalogue, IFM performance data, monthly reports.", no_args_is_help=True
)
catalogue_app = typer.Typer(help="The versioned SLA catalogue (R-SLA-1).", no_args_is_help=True)
app.add_typer(catalogue_app, name="catalogue")
console = Console()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror}") from None


def _write_out(path: Path, write: Callable[[TextIO], object]) -> None:
    """Write the output file through ``write``; a file that cannot be written (a missing folder,
    a directory, no permission, a full disk) is an Invalid naming it and why."""
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            write(handle)
    except OSError as exc:
        raise Invalid(f"cannot write {path}: {exc.strerror or exc}", field="out") from None


@catalogue_app.command("load")
def catalogue_load(
    file: Annotated[Path, typer.Argument(help="A catalogue version in TOML (see docs/sla.md)")],
    cause: Annotated[
        str | None, typer.Option(help="Why this version, e.g. the audit it follows")
    ] = None,
) -> None:
    """Load a new catalogue version; a bad file is refused with every problem named."""
    with fail_on_error():
        text = decode_utf8(_read(file))
        with session_scope() as db:
            version = service.load_catalogue(db, None, text, cause=cause)
    console.print(
        f"Loaded catalogue version {version.version} ({len(version.metrics)} metrics), "
        f"effective {version.effective.isoformat()}."
    )


@catalogue_app.command("export")
def catalogue_export(
    version: Annotated[str | None, typer.Option(help="Version label (default: the newest)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None,
) -> None:
    """Print a catalogue version as TOML that `catalogue load` reads back."""
    if version is not None and not version.strip():
        raise typer.BadParameter(
            "must be a version label such as 2 (leave the option out for the newest)",
            param_hint="'--version'",
        )
    with fail_on_error():
        with session_scope() as db:
            versions = service.catalogue_versions(db)
            chosen = service.catalogue_version(db, version.strip()) if version else versions[-1]
        text = domain.dump_catalogue_toml(chosen)
        if out is None:
            typer.echo(text, nl=False)
            return
        _write_out(out, lambda handle: handle.write(text))
    console.print(f"Wrote catalogue version {chosen.version} to {out}.")


@catalogue_app.command("show")
def catalogue_show() -> None:
    """Every catalogue version and its metrics."""
    with session_scope() as db:
        versions = service.catalogue_versions(db)
    for version in versions:
        title = f"Version {version.version}, effective {version.effective.isoformat()}"
        table = Table(title=title, caption=version.cause or "")
        for column in ("id", "category", "from → to", "channel", "type", "threshold", "target"):
            table.add_column(column, overflow="fold")
        for m in version.metrics:
            table.add_row(
                m.id,
                m.category.value,
                f"{m.start.value} → {m.end.value}",
                m.channel.value if m.channel else "any",
                m.type.value,
                m.threshold_text,
                m.target_text,
            )
        console.print(table)


@app.command("ingest")
def ingest(
    file: Annotated[Path, typer.Argument(help="Events as CSV or JSON")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or json (default: from the name)")
    ] = None,
) -> None:
    """Ingest the IFM's events, all or nothing: a bad file changes nothing and every bad line is
    listed; rows already recorded are counted, not added again."""
    with fail_on_error():
        data = _read(file)
        with progress_bar() as bar:
            task = bar.add_task("Checking events", total=None)
            try:
                with session_scope() as db, paused_gc():
                    fmt = fmt or service.guess_format(file.name, None, data)
                    parsed = service.parse_event_file(data, fmt=fmt, now=utcnow())
                    bar.update(
                        task, description="Storing events", total=len(parsed.rows), completed=0
                    )
                    result = service.ingest(
                        db,
                        None,
                        parsed,
                        source=file.name,
                        fmt=fmt,
                        progress=lambda done, total: bar.update(task, completed=done, total=total),
                    )
            except EventFileInvalid as exc:
                bar.stop()
                for error in exc.errors:
                    err.print(f"  {error}", highlight=False, markup=False)
                if exc.truncated:
                    err.print("  … more errors not listed")
                raise Invalid(
                    f"{len(exc.errors)} bad rows in {file.name}; nothing was ingested"
                ) from None
    console.print(result.message)


def _month(value: str, option: str = "--month") -> domain.Month:
    try:
        return domain.Month.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from None


@app.command("report")
def report(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-10")],
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    published: Annotated[bool, typer.Option(help="Show the frozen published report")] = False,
) -> None:
    """A month's report computed from the data against the catalogue version in force."""
    if fmt not in {"table", "json", "csv"}:
        raise typer.BadParameter("--format must be table, json or csv")
    the_month = _month(month)
    with fail_on_error(), session_scope() as db:
        if published:
            data = service.published_report(db, the_month).content
        else:
            data = service.compute_month(db, the_month, now=utcnow()).as_json()
        version = service.catalogue_version(db, data["catalogue_version"])
    names = {m.id: m.name for m in version.metrics}
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        typer.echo(domain.report_csv(data, names), nl=False)
        return
    summary = data["summary"]
    title = f"IFM performance {data['month']} (catalogue version {data['catalogue_version']})"
    table = Table(title=title)
    for column in ("metric", "count", "met", "compliance", "target", "result", "median", "p95"):
        table.add_column(column, overflow="fold")
    for m in data["metrics"]:
        colour = {"met": "green", "missed": "red"}.get(m["result"], "dim")
        table.add_row(
            m["id"],
            str(m["count"]),
            str(m["met"]),
            "—" if m["compliance"] is None else f"{m['compliance']:.2f}%",
            f"{m['target']}%",
            f"[{colour}]{m['result']}[/{colour}]",
            domain.human_duration(m["median_s"]),
            domain.human_duration(m["p95_s"]),
        )
    console.print(table)
    console.print(
        f"{summary['met']} of {summary['with_data']} thresholds met "
        f"({summary['total']} in the catalogue): {data.get('rating', '')}"
    )
    if data.get("open_over"):
        console.print(f"Open, already over: {len(data['open_over'])} request(s)")
        for item in data["open_over"][:20]:
            console.print(f"  {item['request_id']} — {item['metric']} since {item['started_at']}")


@app.command("publish")
def publish(month: Annotated[str, typer.Option(help="The month, e.g. 2026-10")]) -> None:
    """Publish and freeze a month's report (the IFM's act; R-SLA-2)."""
    with fail_on_error(), session_scope() as db:
        row = service.publish(db, None, _month(month), now=utcnow())
        text = f"Published {row.month}: {row.met} of {row.with_data} thresholds met ({row.rating})."
    console.print(text)


@app.command("simulate")
def simulate(
    months: Annotated[int, typer.Option(min=1, max=1200, help="How many months")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same file")] = 1,
    out: Annotated[Path, typer.Option(help="CSV file to write")] = Path("events.csv"),
    scale: Annotated[float, typer.Option(min=0.01, help="Requests per month × this")] = 1.0,
    first: Annotated[str | None, typer.Option(help="First month (default: N months ago)")] = None,
) -> None:
    """Write a realistic simulated event log (150–250 requests a month, both channels, retests,
    occasional incidents) as CSV, ending with last month."""
    from steward.sla.simulate import DEFAULT_TLDS, format_row
    from steward.sla.simulate import simulate as generate

    # every option is checked before the output file is opened (and so emptied)
    now = utcnow()
    first_month = _month(first, "--first") if first is not None else None
    if first_month is not None and first_month > domain.Month.of(now):
        raise typer.BadParameter(
            f"{first_month} has not begun; nothing after now is simulated", param_hint="'--first'"
        )
    tlds: tuple[str, ...] = DEFAULT_TLDS
    try:
        with session_scope() as db:
            from steward.sla import repository

            known = sorted(repository.known_tlds(db))
            if known:
                tlds = tuple(known)
    except Exception:  # no database yet: the built-in TLD list will do
        err.print("No database: using a built-in list of TLDs.")
    count = 0

    def write(handle: TextIO) -> None:
        nonlocal count
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["request_id", "tld", "category", "channel", "event", "occurred_at"])
        for row in generate(months, seed, now=now, tlds=tlds, scale=scale, first=first_month):
            writer.writerow(format_row(row))
            count += 1

    with fail_on_error():
        _write_out(out, write)
    console.print(f"Wrote {count} events of {months} months to {out}.")
