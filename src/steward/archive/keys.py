"""The log's Ed25519 signing key: kept in the data folder, never in the database.

Whoever can rewrite the database still cannot sign a checkpoint for the rewritten
history; the public key is published, so outsiders pin it on first sight.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from steward.archive.checkpoint import NoteError, NoteSigner, NoteVerifier, check_key_name
from steward.config import Settings

SIGNER_FILE = "log-signing.key"
VERIFIER_FILE = "log-signing.pub"


def key_dir(settings: Settings) -> Path:
    """Folder holding the archive keys."""
    return settings.data_dir / "archive"


def default_origin(settings: Settings) -> str:
    """The log's name (checkpoint origin and key name): the setting, else host + /archive."""
    if settings.archive_origin:
        return check_key_name(settings.archive_origin)
    parts = urlsplit(settings.base_url)
    return check_key_name(f"{parts.netloc or 'steward.localhost'}{parts.path.rstrip('/')}/archive")


def ensure_key(settings: Settings) -> tuple[NoteVerifier, bool]:
    """Create the signing key if there is none; return its verifier and whether it is new."""
    folder = key_dir(settings)
    path = folder / SIGNER_FILE
    if path.exists():
        return load_signer(settings).verifier, False
    folder.mkdir(parents=True, exist_ok=True)
    signer = NoteSigner.generate(default_origin(settings))
    # Write the secret with owner-only permissions from the start, never world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(signer.key_text() + "\n")
    (folder / VERIFIER_FILE).write_text(signer.verifier.key_text() + "\n", encoding="ascii")
    return signer.verifier, True


def load_signer(settings: Settings) -> NoteSigner:
    """Read the signing key; raise ``NoteError`` when it is missing or malformed."""
    path = key_dir(settings) / SIGNER_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise NoteError(f"no archive signing key at {path}: run `steward init`") from None
    return NoteSigner.from_key_text(text)


def load_verifier(settings: Settings) -> NoteVerifier:
    """The log's public key (from the public key file, else derived from the signing key)."""
    path = key_dir(settings) / VERIFIER_FILE
    if path.exists():
        return NoteVerifier.from_key_text(path.read_text(encoding="ascii"))
    return load_signer(settings).verifier
