"""Log entries and sealed-record commitments (R-DSP-9, R-DSP-7 confidentiality)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.archive.domain import (
    EncodingError,
    LeafRecord,
    canonical_json,
    commitment,
    new_salt,
    parse_leaf_document,
    reveal_matches,
    sealed_record,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def test_canonical_json_sorts_keys_and_drops_spaces() -> None:
    assert (
        canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )


@given(st.dictionaries(st.text(max_size=6), st.integers(), max_size=6))
def test_canonical_json_does_not_depend_on_insertion_order(d: dict[str, int]) -> None:
    assert canonical_json(d) == canonical_json(dict(reversed(list(d.items()))))


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (float("nan"), "nan"),
        ({1: "x"}, "non-string key"),
        ({"when": AT}, "content.when is a datetime"),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: object, fragment: str) -> None:
    with pytest.raises(EncodingError, match=fragment):
        canonical_json(value)  # type: ignore[arg-type]


@given(json_values)
def test_a_reveal_opens_its_own_commitment(content: object) -> None:
    salt = new_salt()
    c = commitment(salt, content)  # type: ignore[arg-type]
    assert reveal_matches(c, salt, content)  # type: ignore[arg-type]


def test_a_reveal_with_other_content_or_salt_does_not_open_the_commitment() -> None:
    salt = new_salt()
    c = commitment(salt, {"finding": "no breach"})
    assert not reveal_matches(c, salt, {"finding": "breach"})
    assert not reveal_matches(c, new_salt(), {"finding": "no breach"})
    assert not reveal_matches(c, b"short", {"finding": "no breach"})


def test_the_same_content_sealed_twice_gives_unlinkable_commitments() -> None:
    content = {"dispute": 7, "text": "confidential"}
    assert commitment(new_salt(), content) != commitment(new_salt(), content)


def test_sealed_leaf_shows_only_date_and_commitment() -> None:
    salt = new_salt()
    record = sealed_record(3, "event", AT, salt, {"secret": "the IFM missed the deadline"})
    data = record.leaf_data().decode()
    assert "secret" not in data and "IFM" not in data
    assert record.document()["at"] == "2026-03-02T09:30:00.000000Z"
    assert record.sealed


def test_leaf_hash_changes_with_sequence_content_and_time() -> None:
    base = LeafRecord(1, "publication", AT, content={"title": "Audit results"})
    assert (
        base.leaf_hash()
        != LeafRecord(2, "publication", AT, content={"title": "Audit results"}).leaf_hash()
    )
    assert (
        base.leaf_hash()
        != LeafRecord(1, "publication", AT, content={"title": "Audit result"}).leaf_hash()
    )
    later = AT + timedelta(microseconds=1)
    assert (
        base.leaf_hash()
        != LeafRecord(1, "publication", later, content={"title": "Audit results"}).leaf_hash()
    )


def test_timestamps_are_normalised_to_utc() -> None:
    local = AT.astimezone(timezone(timedelta(hours=-8)))
    assert (
        LeafRecord(0, "event", local, content=1).leaf_data()
        == LeafRecord(0, "event", AT, content=1).leaf_data()
    )
    with pytest.raises(EncodingError, match="timezone-aware"):
        LeafRecord(0, "event", datetime(2026, 1, 1), content=1).leaf_data()


@given(json_values, st.booleans())
def test_leaf_documents_round_trip(content: object, sealed: bool) -> None:
    if sealed:
        record = sealed_record(5, "event", AT, new_salt(), content)  # type: ignore[arg-type]
    else:
        record = LeafRecord(5, "event", AT, content=content)  # type: ignore[arg-type]
    again = parse_leaf_document(record.document())
    assert again.leaf_hash() == record.leaf_hash()


def test_sealed_entry_cannot_also_carry_content() -> None:
    with pytest.raises(EncodingError, match="not content"):
        LeafRecord(0, "event", AT, content="x", commitment=b"\0" * 32)
