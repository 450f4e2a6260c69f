"""Text files as people send them: UTF-8 (a byte-order mark allowed), refused with the line."""

from __future__ import annotations

import codecs
from pathlib import Path

from steward.errors import Invalid


def decode_utf8(data: bytes, field: str | None = None) -> str:
    """The text of a file (a leading byte order mark dropped), or ``Invalid`` naming the first
    byte that is not UTF-8 (its offset from the start of the file, counted from 0) and its line;
    bad bytes are never silently replaced."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = data[:offset].count(b"\n") + 1
        raise Invalid(
            f"the file is not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})", field=field, line=line
        ) from None


def read_utf8(path: Path, field: str = "file") -> str:
    """A file's text, or ``Invalid`` saying why it cannot be read (missing, a folder, not UTF-8)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror or exc}", field=field) from None
    return decode_utf8(data, field)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet opens as text, never as a formula: a text starting with one of
    :data:`FORMULA_STARTS` gets a leading apostrophe (OWASP's advice against CSV injection).
    Numbers are left as they are; the JSON exports carry every text exactly."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
