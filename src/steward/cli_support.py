"""Helpers shared by the CLI modules: clear errors, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from steward.errors import StewardError

# soft_wrap: an error is one line, whatever its length, so a path in it is never split by a
# newline (the terminal wraps it for display; a log or a copy keeps it whole)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def fail_on_error() -> Iterator[None]:
    """Turn a StewardError into a one-line message on stderr and exit status 1."""
    try:
        yield
    except StewardError as exc:
        err.print(f"[red]Error:[/red] {exc.detail()}", highlight=False)
        raise typer.Exit(1) from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
