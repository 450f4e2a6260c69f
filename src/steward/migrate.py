"""Alembic, driven from code: ``steward init`` upgrades to the newest revision of every branch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from steward.config import Settings, get_settings
from steward.db import make_folder

MIGRATIONS = Path(__file__).parent / "migrations"


def on_backend(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for comparing the models with a ``dialect`` database: an
    object the models create only on another backend (``.ddl_if(dialect=...)``) is not expected."""

    def include(obj: Any, _name: str | None, _type: str, _reflected: bool, _compare_to: Any) -> bool:
        only_on = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        if only_on is None:
            return True
        return dialect == only_on if isinstance(only_on, str) else dialect in only_on

    return include


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(settings: Settings | None = None) -> Settings:
    settings = settings or get_settings()
    make_folder(settings.data_dir, "STEWARD_DATA_DIR")
    command.upgrade(alembic_config(settings.database_url), "heads")
    return settings
