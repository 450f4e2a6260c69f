"""Demo data of the archive: a signed checkpoint over everything the demo recorded.

Runs after the other contexts (``archive`` comes late in ``CONTEXTS``), so the
checkpoint covers their demo events and publications.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from steward.archive import service
from steward.archive.keys import ensure_key
from steward.config import get_settings
from steward.db import utcnow


def load_demo(session: Session, ctx: Any) -> None:
    """Create the signing key if needed and sign a checkpoint of the demo log."""
    ensure_key(get_settings())
    session.flush()
    checkpoint = service.sign_checkpoint(session, utcnow())
    ctx.extra["archive_checkpoint_size"] = checkpoint.size
