"""Signed notes (c2sp.org/signed-note) and log checkpoints (c2sp.org/tlog-checkpoint).

A checkpoint is the text ``origin\\nsize\\nbase64(root)\\n`` signed as a note with an
Ed25519 key, so that existing transparency tooling (Go's ``sumdb/note``,
transparency-dev witnesses and clients) can read what Steward signs. Keys travel in
the same text forms as Go's ``note`` package: ``name+hash+base64(0x01||public key)``
for verifiers and ``PRIVATE+KEY+name+hash+base64(0x01||seed)`` for signers, where
``hash`` is the key ID of the spec, ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
MAX_SIGNATURES = 100
_EM_DASH = "\u2014"
_SPACES = re.compile(r"\s", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or does not verify; ``str()`` says why."""


def check_key_name(name: str) -> str:
    """Return ``name`` if it is a valid key name (non-empty, no spaces, no ``+``)."""
    if not name or _SPACES.search(name) or "+" in name:
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public_key: bytes, sig_type: int = ED25519) -> bytes:
    """Return the 4-byte key ID: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _b64decode(what: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """An Ed25519 public key with its name, able to check note signatures."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID that prefixes this key's signatures."""
        return key_id(self.name, self.public_key)

    def key_text(self) -> str:
        """The verifier key in text form: ``name+hash+base64(0x01||key)``."""
        blob = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    @classmethod
    def from_key_text(cls, text: str) -> NoteVerifier:
        """Parse a verifier key ``name+hash+base64(0x01||key)``, checking its hash."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("verifier key must look like name+hash+key")
        name, hex_id, blob = parts
        raw = _b64decode("verifier key", blob)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
        verifier = cls(name, raw[1:])
        if hex_id != verifier.key_id.hex():
            raise NoteError(f"verifier key hash {hex_id} does not match the key")
        return verifier

    def verify(self, text: str, signature: bytes) -> bool:
        """Return whether ``signature`` (without the key ID) signs the note ``text``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text.encode())
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 private key with its name, able to sign notes."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """Create a signer with a fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_key_text(cls, text: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+name+hash+base64(0x01||seed)``, checking its hash."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key must look like PRIVATE+KEY+name+hash+key")
        _, _, name, hex_id, blob = parts
        raw = _b64decode("signer key", blob)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("signer key is not an Ed25519 key (type 0x01, 32-byte seed)")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if hex_id != signer.verifier.key_id.hex():
            raise NoteError(f"signer key hash {hex_id} does not match the key")
        return signer

    @property
    def verifier(self) -> NoteVerifier:
        """The matching public verifier."""
        return NoteVerifier(self.name, _raw_public(self.private_key.public_key()))

    def key_text(self) -> str:
        """The signer key in text form (a secret: store it outside the database)."""
        seed = self.private_key.private_bytes_raw()
        blob = base64.b64encode(bytes([ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{blob}"

    def sign(self, text: str) -> bytes:
        """Return the raw Ed25519 signature of the note ``text``."""
        return self.private_key.sign(text.encode())


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed note: its text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[Signature, ...]


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text must not contain control characters other than newline")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Return the signed note: ``text``, a blank line, one ``— name sig`` line per signer."""
    _check_text(text)
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    lines = []
    for signer in signers:
        blob = base64.b64encode(signer.verifier.key_id + signer.sign(text)).decode()
        lines.append(f"{_EM_DASH} {signer.name} {blob}\n")
    return text + "\n" + "".join(lines)


def parse_note(message: str | bytes) -> Note:
    """Split a signed note into text and signature lines, without verifying anything."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note must be valid UTF-8") from exc
    if _CONTROL.search(message):
        raise NoteError("a note must not contain control characters other than newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("a note needs a blank line between its text and its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("the signature block must end with a newline")
    sigs = []
    for number, line in enumerate(block[:-1].split("\n"), start=1):
        if not line.startswith(_EM_DASH + " "):
            raise NoteError(f"signature line {number} must start with an em dash and a space")
        parts = line[2:].split(" ")
        if len(parts) != 2:
            raise NoteError(f"signature line {number} must be '— name signature'")
        name, blob = parts
        check_key_name(name)
        raw = _b64decode(f"signature line {number}", blob)
        if len(raw) < 5:
            raise NoteError(f"signature line {number} is too short")
        sigs.append(Signature(name, raw[:4], raw[4:]))
    if len(sigs) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(sigs))


def open_note(message: str | bytes, verifiers: Sequence[NoteVerifier]) -> Note:
    """Parse a note and verify it against the known ``verifiers``.

    Signatures from unknown keys are ignored, as the spec requires; a known key's
    signature that fails rejects the note, and so does the lack of any known one.
    """
    note = parse_note(message)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(note.text, sig.signature):
            raise NoteError(f"the signature by {sig.name} does not verify: the note was altered")
        verified += 1
    if not verified:
        raise NoteError("the note carries no signature from a known key")
    return note


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's ``origin``, its ``size`` and its ``root_hash``."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin must be one non-empty line")
        if self.size < 0:
            raise NoteError("checkpoint size cannot be negative")
        if len(self.root_hash) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")
        if any(not ext or "\n" in ext for ext in self.extensions):
            raise NoteError("checkpoint extension lines must be non-empty single lines")

    def body(self) -> str:
        """The note text of this checkpoint."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (not a signed note; see :func:`open_checkpoint`)."""
    if not text.endswith("\n"):
        raise NoteError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has at least three lines: origin, size, root hash")
    origin, size_text, root_text, *extensions = lines
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise NoteError(f"checkpoint size {size_text!r} is not a decimal without leading zeros")
    root = _b64decode("checkpoint root hash", root_text)
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """Return the checkpoint as a signed note."""
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(
    message: str | bytes, verifier: NoteVerifier, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint with the log's key and return its contents.

    ``origin`` (the log's identity, by default the key name) must match the first line.
    """
    note = open_note(message, [verifier])
    checkpoint = parse_checkpoint(note.text)
    expected = origin if origin is not None else verifier.name
    if checkpoint.origin != expected:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the log {expected!r}")
    return checkpoint
