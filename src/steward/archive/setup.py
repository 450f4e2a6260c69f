"""``steward init`` hook: create the archive's signing key outside the database."""

from __future__ import annotations

from rich.console import Console

from steward.archive import service
from steward.archive.keys import ensure_key, key_dir
from steward.config import Settings
from steward.db import session_scope


def on_init(settings: Settings) -> None:
    """Generate the log's Ed25519 key on first init (kept afterwards); log older records."""
    verifier, created = ensure_key(settings)
    with session_scope() as session:
        added = service.backfill(session)
    if added:
        Console().print(f"Archive: logged {added} record(s) made before the archive existed.")
    if created:
        Console().print(
            f"Archive signing key created in {key_dir(settings)} (back it up; never in the database).\n"
            f"Public key: {verifier.key_text()}"
        )
