"""Text files as people send them: UTF-8 (a byte-order mark allowed), refused with the line."""

from __future__ import annotations

from pathlib import Path

from steward.errors import Invalid


def decode_utf8(data: bytes, what: str, field: str = "file") -> str:
    """``data`` as text, or ``Invalid`` naming the line (and byte) that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Invalid(f"{what} is not UTF-8 text: line {line} (byte {exc.start}) cannot be read",
                      field=field) from None


def read_utf8(path: Path, field: str = "file") -> str:
    """A file's text, or ``Invalid`` saying why it cannot be read (missing, a folder, not UTF-8)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror or exc}", field=field) from None
    return decode_utf8(data, str(path), field)
