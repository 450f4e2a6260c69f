"""Emails of the ballots context: one function per message, sent through the outbox."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from steward.config import get_settings

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "ballots" / "email"


@cache
def _env() -> Environment:
    # text-only messages: no HTML escaping
    return Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=False,  # noqa: S701
                       keep_trailing_newline=True)


def render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, text) of the message ``name`` (``opened`` or ``reminder``)."""
    context = {"base_url": get_settings().base_url.rstrip("/"), **context}
    subject = _env().get_template(f"{name}.subject.txt").render(context).strip()
    text = _env().get_template(f"{name}.txt").render(context)
    return subject, text
