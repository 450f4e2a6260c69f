"""What goes into the log: canonical record encodings and sealed-record commitments.

Every audit event and publication becomes one leaf (R-DSP-9: archived records are
never altered or deleted; R-DSP-6 and R-AUD-2: findings and results are published).
A public record's leaf carries its content; a confidential one's leaf carries only a
*commitment* ``SHA-256(domain || salt || canonical JSON)`` with a random 32-byte
salt, so the public learns that a record existed unaltered at a date and nothing
else, and a party can later reveal salt and content to prove what it was.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeAlias

from steward.archive.merkle import leaf_hash

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

SALT_SIZE = 32
LEAF_VERSION = 1
_SEAL_DOMAIN = b"steward/sealed-record/v1\n"

EntryKind = Literal["event", "publication"]


class EncodingError(ValueError):
    """Content that has no canonical JSON form (e.g. NaN, a non-string key)."""


def _check_json(value: object, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EncodingError(f"{path} is {value}, which JSON cannot represent")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"{path} has a non-string key {key!r}")
            _check_json(item, f"{path}.{key}")
        return
    raise EncodingError(f"{path} is a {type(value).__name__}, not a JSON value")


def canonical_json(value: JsonValue) -> bytes:
    """Encode ``value`` as canonical JSON: UTF-8, sorted keys, no insignificant spaces.

    Two equal values always give the same bytes, which is what makes hashes of
    content reproducible by anyone holding the content.
    """
    _check_json(value, "content")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def new_salt() -> bytes:
    """Return a fresh random salt for sealing a record."""
    return secrets.token_bytes(SALT_SIZE)


def commitment(salt: bytes, content: JsonValue) -> bytes:
    """Return the commitment to ``content`` under ``salt`` (32 bytes)."""
    if len(salt) != SALT_SIZE:
        raise EncodingError(f"a salt is {SALT_SIZE} bytes, got {len(salt)}")
    return hashlib.sha256(_SEAL_DOMAIN + salt + canonical_json(content)).digest()


def reveal_matches(expected: bytes, salt: bytes, content: JsonValue) -> bool:
    """Return whether revealed ``salt`` and ``content`` open the commitment ``expected``."""
    try:
        actual = commitment(salt, content)
    except EncodingError:
        return False
    return hmac.compare_digest(actual, expected)


def utc_iso(moment: datetime) -> str:
    """Return an aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    if moment.tzinfo is None:
        raise EncodingError("timestamps in the log must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeafRecord:
    """The public face of one log entry, exactly as hashed into its leaf.

    ``seq`` is the leaf index; a public entry has ``content``, a sealed one has only
    ``commitment``. ``kind`` says whether it is an audit event or a publication.
    """

    seq: int
    kind: EntryKind
    recorded_at: datetime
    content: JsonValue = None
    commitment: bytes | None = None

    def __post_init__(self) -> None:
        if self.seq < 0:
            raise EncodingError("seq cannot be negative")
        if self.commitment is not None:
            if self.content is not None:
                raise EncodingError("a sealed entry carries a commitment, not content")
            if len(self.commitment) != 32:
                raise EncodingError("a commitment is 32 bytes")

    @property
    def sealed(self) -> bool:
        """Whether the content is confidential and only committed to."""
        return self.commitment is not None

    def document(self) -> dict[str, JsonValue]:
        """The JSON object whose canonical bytes are the leaf data."""
        doc: dict[str, JsonValue] = {
            "v": LEAF_VERSION,
            "seq": self.seq,
            "kind": self.kind,
            "at": utc_iso(self.recorded_at),
        }
        if self.commitment is not None:
            doc["sealed"] = base64.b64encode(self.commitment).decode("ascii")
        else:
            doc["content"] = self.content
        return doc

    def leaf_data(self) -> bytes:
        """The bytes stored in the tree's leaf."""
        return canonical_json(self.document())

    def leaf_hash(self) -> bytes:
        """The RFC 9162 leaf hash of :meth:`leaf_data`."""
        return leaf_hash(self.leaf_data())


def sealed_record(
    seq: int, kind: EntryKind, recorded_at: datetime, salt: bytes, content: JsonValue
) -> LeafRecord:
    """Build the leaf record of a confidential entry from its salt and content."""
    return LeafRecord(seq, kind, recorded_at, commitment=commitment(salt, content))


def parse_leaf_document(doc: object) -> LeafRecord:
    """Rebuild a :class:`LeafRecord` from its JSON document (as published by the API)."""
    if not isinstance(doc, dict):
        raise EncodingError("a leaf document is a JSON object")
    try:
        seq, kind, at = doc["seq"], doc["kind"], doc["at"]
    except KeyError as exc:
        raise EncodingError(f"leaf document is missing {exc.args[0]!r}") from exc
    if doc.get("v") != LEAF_VERSION:
        raise EncodingError(f"unknown leaf version {doc.get('v')!r}")
    if not isinstance(seq, int) or kind not in ("event", "publication") or not isinstance(at, str):
        raise EncodingError("leaf document has a bad seq, kind or at")
    recorded_at = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    if "sealed" in doc:
        sealed = doc["sealed"]
        if not isinstance(sealed, str):
            raise EncodingError("sealed must be a base64 string")
        return LeafRecord(seq, kind, recorded_at, commitment=base64.b64decode(sealed))
    return LeafRecord(seq, kind, recorded_at, content=doc.get("content"))
