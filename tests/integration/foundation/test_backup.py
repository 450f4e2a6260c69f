"""`steward backup` and `steward restore` round-trip on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from steward import backup
from steward.config import get_settings
from steward.db import session_scope
from steward.errors import Invalid
from steward.registry import service
from steward.registry.models import Tld


def _count() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Tld)) or 0


def test_backup_then_restore_brings_back_exactly_the_backed_up_rows(db_url, tmp_path):
    from alembic import command

    from steward.migrate import alembic_config

    # the fixture's schema comes from the models; a backup is Steward's only with its revision
    command.stamp(alembic_config(db_url), "heads")
    with session_scope() as s:
        service.import_root_zone(s, None, "Domain,Type,TLD Manager\n.alpha,generic,A\n.beta,generic,B\n")
    target = backup.backup(get_settings(), tmp_path / "steward.backup")
    assert target.stat().st_size > 0
    with session_scope() as s:
        service.import_root_zone(s, None, "Domain,Type,TLD Manager\n.alpha,generic,A\n.beta,generic,B\n.gamma,generic,C\n")
    assert _count() == 3
    from steward.db import get_engine

    get_engine().dispose()
    backup.restore(get_settings(), target)
    assert _count() == 2


def test_restore_refuses_a_file_that_is_not_a_backup(db_url, tmp_path):
    bogus = tmp_path / "bogus"
    bogus.write_text("hello")
    with pytest.raises(Invalid):
        backup.restore(get_settings(), bogus)
    assert _count() == 0
