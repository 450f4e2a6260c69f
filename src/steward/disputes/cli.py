"""``steward deadline`` (working-day deadlines with proof) and ``steward disputes …``."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Annotated

import typer
from rich.console import Console

from steward.cli_support import fail_on_error
from steward.config import get_settings
from steward.db import session_scope, utcnow
from steward.errors import Invalid
from steward.workdays.domain import CalendarError, WorkdayCalendar, working_day_deadline

NAME = "disputes"
app = typer.Typer(help="Individual disputes (R-DSP-1…9).", no_args_is_help=True)
console = Console()


def parse_start(text: str, calendar: WorkdayCalendar) -> datetime:
    """ISO 8601 date or date-time; without an offset it is read in the calendar's time zone."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(0), tzinfo=calendar.zone)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"'{text}' is not an ISO 8601 date or date-time", field="START") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=calendar.zone)


def deadline(
    start: Annotated[str, typer.Argument(help="When the clock starts: ISO 8601 date or date-time")],
    working_days: Annotated[int, typer.Option("--working-days", "-n", help="Working days to count")],
    calendar: Annotated[
        str | None,
        typer.Option(help="Calendar code, e.g. US-CA or GB-ENG@Europe/London (default: setting)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the due moment and proof as JSON")] = False,
) -> None:
    """Print when N working days after START end, and the proof: days counted and days skipped."""
    settings = get_settings()
    with fail_on_error():
        try:
            cal = WorkdayCalendar.from_code(calendar or settings.workdays_calendar, settings.workdays_timezone)
            result = working_day_deadline(parse_start(start, cal), working_days, cal)
        except CalendarError as exc:
            field = {"working_days": "--working-days", "calendar": "--calendar"}.get(exc.field, exc.field)
            raise Invalid(str(exc), field=field) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    console.print(f"[bold]Due {result.due.isoformat()}[/bold] (end of working day {working_days}, {result.calendar}, {result.timezone})")
    for line in result.explain()[1:-1]:
        console.print(f"  {line}", highlight=False)


COMMANDS = [deadline]


@app.command("run-deadlines")
def run_deadlines() -> None:
    """Recount open deadlines if the calendar changed, and queue due/overdue notices (idempotent)."""
    from steward.disputes import service

    with fail_on_error(), session_scope() as db:
        console.print(service.run_deadlines(db, utcnow()))
