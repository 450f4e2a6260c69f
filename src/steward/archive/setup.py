"""``steward init`` hook: create the archive's signing key outside the database."""

from __future__ import annotations

from rich.console import Console

from steward.archive.keys import ensure_key, key_dir
from steward.config import Settings


def on_init(settings: Settings) -> None:
    """Generate the log's Ed25519 key on first init; keep the existing one afterwards."""
    verifier, created = ensure_key(settings)
    if created:
        Console().print(
            f"Archive signing key created in {key_dir(settings)} (back it up; never in the database).\n"
            f"Public key: {verifier.key_text()}"
        )
