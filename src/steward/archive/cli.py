"""``steward archive …``: verify the log, check proofs, sign checkpoints, reveal sealed records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from steward.archive import repository, service
from steward.archive.checkpoint import NoteError, NoteVerifier
from steward.archive.keys import load_verifier
from steward.archive.merkle import check_proof_file
from steward.archive.remote import verify_remote
from steward.cli_support import fail_on_error
from steward.config import get_settings
from steward.db import session_scope, utcnow

NAME = "archive"
app = typer.Typer(
    help="The tamper-evident archive (RFC 9162 log, signed checkpoints).", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


@app.command("check-proof")
def check_proof(
    file: Annotated[Path, typer.Argument(help="JSON inclusion or consistency proof")],
) -> None:
    """Verify a proof file; exit 0 when it is valid, 1 when it is not (saying why)."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]invalid:[/red] cannot read {file}: {exc.strerror}")
        raise typer.Exit(1) from None
    result = check_proof_file(text)
    if result.valid:
        console.print(f"[green]valid[/green] {result.kind} proof: {result.reason}", highlight=False)
        return
    err.print(f"[red]invalid[/red] {result.kind or ''} proof: {result.reason}", highlight=False)
    raise typer.Exit(1)


def _default_state(url: str) -> Path:
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in url.split("://")[-1])
    return Path.home() / ".steward" / "monitor" / f"{safe}.json"


@app.command("verify")
def verify(
    remote: Annotated[
        str | None, typer.Option("--remote", help="Check a running instance at this URL instead")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="With --remote: where to remember the pinned key and last checkpoint"),
    ] = None,
    entries: Annotated[
        bool,
        typer.Option("--entries", help="With --remote: also recompute the root from every entry"),
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(help="Local: the log's public key to trust (default: the key file)"),
    ] = None,
) -> None:
    """Re-read the whole archive and check every entry, tile and checkpoint; name what was tampered with."""
    if remote:
        path = state or _default_state(remote)
        report = verify_remote(remote, path, check_entries=entries)
        for note in report.notes:
            console.print(note, highlight=False)
        for problem in report.problems:
            err.print(f"[red]FAIL[/red] {problem}", highlight=False)
        if not report.ok:
            raise typer.Exit(1)
        console.print(
            f"[green]OK[/green] {remote}: signed checkpoint of {report.size} entries, root {report.root}",
            highlight=False,
        )
        return
    with fail_on_error():
        try:
            verifier = NoteVerifier.from_key_text(key) if key else load_verifier(get_settings())
        except NoteError as exc:
            err.print(f"[yellow]warning:[/yellow] {exc}; checkpoint signatures are not checked")
            verifier = None
        with session_scope() as db:
            local = service.verify_log(db, verifier)
    for problem in local.problems:
        err.print(f"[red]TAMPERED[/red] {problem}", highlight=False)
    summary = f"{local.entries} entries, log size {local.size}, root {service.b64(local.root)}, {local.checkpoints} checkpoints"
    if not local.ok:
        err.print(f"[red]FAIL[/red] {len(local.problems)} problem(s); {summary}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]OK[/green] {summary}", highlight=False)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of the log now (prints the signed note)."""
    with fail_on_error(), session_scope() as db:
        cp = service.sign_checkpoint(db, utcnow())
        note = cp.note
    typer.echo(note, nl=False)


@app.command("status")
def status() -> None:
    """Size, root and latest checkpoint of the log."""
    with session_scope() as db:
        size, root = repository.head(db)
        cp = repository.latest_checkpoint(db)
        line = f"log size {size}, root {service.b64(root)}"
        signed = (
            f"latest checkpoint: size {cp.size}, signed {cp.signed_at:%Y-%m-%d %H:%M UTC}"
            if cp
            else "no checkpoint signed yet"
        )
    console.print(line, highlight=False)
    console.print(signed, highlight=False)


@app.command("proof")
def proof(
    index: Annotated[int, typer.Argument(help="Entry number (leaf index)")],
    size: Annotated[int | None, typer.Option(help="Tree size (default: current)")] = None,
) -> None:
    """Print the inclusion proof of an entry as a JSON proof file."""
    with fail_on_error(), session_scope() as db:
        doc = service.inclusion_proof(db, index, size)
    typer.echo(json.dumps(doc, indent=2))


@app.command("reveal")
def reveal(seq: Annotated[int, typer.Argument(help="Number of a sealed entry")]) -> None:
    """Print the salt and content that open a sealed entry (hand it only to those entitled to it)."""
    with fail_on_error(), session_scope() as db:
        doc = service.reveal(db, seq)
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
