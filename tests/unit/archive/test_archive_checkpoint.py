"""Signed checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) for the archive."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.archive.checkpoint import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
)

# The reference key and note of Go's golang.org/x/mod/sumdb/note documentation:
# Ed25519 is deterministic, so our signature must match theirs byte for byte.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# The example of the C2SP signed-note spec's verifier-key section.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ROOT = bytes(range(32))


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    signer = NoteSigner.from_key_text(GO_SKEY)
    assert signer.verifier.key_text() == GO_VKEY
    assert signer.key_text() == GO_SKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE


def test_reference_notes_open_with_their_published_verifier_keys() -> None:
    assert open_note(GO_NOTE, [NoteVerifier.from_key_text(GO_VKEY)]).text == GO_TEXT
    spec = open_note(SPEC_NOTE, [NoteVerifier.from_key_text(SPEC_VKEY)])
    assert spec.text == "This is an example message.\n"


def test_key_id_is_truncated_sha256_of_name_newline_type_and_key() -> None:
    verifier = NoteVerifier.from_key_text(GO_VKEY)
    assert key_id("PeterNeumann", verifier.public_key).hex() == "c74f20a3"


def test_verifier_key_with_a_wrong_hash_is_refused() -> None:
    with pytest.raises(NoteError, match="does not match"):
        NoteVerifier.from_key_text(GO_VKEY.replace("c74f20a3", "c74f20a4"))


@pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\there"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(NoteError, match="key name"):
        NoteSigner.generate(name)


def test_altered_note_text_is_rejected() -> None:
    verifier = NoteVerifier.from_key_text(GO_VKEY)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("answer", "Answer"), [verifier])


def test_note_signed_only_by_unknown_keys_is_rejected() -> None:
    other = NoteSigner.generate("PeterNeumann")  # same name, different key id
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(GO_NOTE, [other.verifier])


def test_unknown_cosignatures_are_ignored() -> None:
    log = NoteSigner.generate("steward.example/log")
    witness = NoteSigner.generate("witness.example")
    note = sign_note("hello\n", [log, witness])
    assert open_note(note, [log.verifier]).text == "hello\n"


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("no blank line\n— x AAAA\n", "blank line"),
        ("text\n\n— PeterNeumann AAAA", "end with a newline"),
        ("text\n\n- PeterNeumann AAAAAAAA\n", "em dash"),
        ("text\n\n— PeterNeumann !!!!\n", "not valid base64"),
        ("text\n\n— PeterNeumann AAAA\n", "too short"),
        ("te\x07xt\n\n— PeterNeumann AAAAAAAA\n", "control characters"),
        (b"\xff\n\n", "UTF-8"),
    ],
)
def test_malformed_notes_are_rejected_with_a_reason(message: str | bytes, fragment: str) -> None:
    with pytest.raises(NoteError, match=fragment):
        parse_note(message)


def test_checkpoint_body_is_origin_size_and_base64_root() -> None:
    cp = Checkpoint("steward.example/log", 20852163, ROOT)
    assert cp.body() == f"steward.example/log\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(cp.body()) == cp


def test_signed_checkpoint_round_trips_and_detects_tampering() -> None:
    signer = NoteSigner.generate("steward.example/log")
    signed = sign_checkpoint(Checkpoint("steward.example/log", 7, ROOT), signer)
    assert open_checkpoint(signed, signer.verifier) == Checkpoint("steward.example/log", 7, ROOT)
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(signed.replace("\n7\n", "\n8\n"), signer.verifier)


def test_checkpoint_from_another_log_is_refused() -> None:
    signer = NoteSigner.generate("other.example/log")
    signed = sign_checkpoint(Checkpoint("steward.example/log", 1, ROOT), signer)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(signed, signer.verifier)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("log\n007\nAA==\n", "leading zeros"),
        ("log\n7\n", "three lines"),
        ("log\n7\nAA==", "newline"),
        ("log\n7\nAAAA\n", "32 bytes"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str, fragment: str) -> None:
    with pytest.raises(NoteError, match=fragment):
        parse_checkpoint(text)


@given(st.integers(0, 2**63), st.binary(min_size=32, max_size=32))
def test_any_checkpoint_survives_sign_and_open(size: int, root: bytes) -> None:
    signer = NoteSigner.from_key_text(GO_SKEY)
    cp = Checkpoint("PeterNeumann", size, root)
    assert open_checkpoint(sign_checkpoint(cp, signer), signer.verifier) == cp
