"""RFC 9162 Merkle log (R-DSP-9): hashes, proofs, the shared vectors, a naive oracle."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.archive.merkle import (
    EMPTY_ROOT,
    CompactRange,
    InvalidProof,
    MemoryStore,
    NodeId,
    check_proof_document,
    check_proof_file,
    consistency_plan,
    inclusion_plan,
    leaf_hash,
    node_hash,
    prove_consistency,
    prove_inclusion,
    range_nodes,
    root_at,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "merkle-vectors"
VECTOR_FILES = sorted(VECTORS.glob("*/*/*.json"))


# --- a naive oracle, straight from the RFC 9162 §2.1 recursions ----------------------


def _k(n: int) -> int:
    """Largest power of two strictly less than n."""
    return 1 << ((n - 1).bit_length() - 1)


def naive_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _k(len(leaves))
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def naive_consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    if m in (0, len(leaves)):
        return []
    return naive_subproof(m, leaves, True)


def build(n: int) -> tuple[list[bytes], MemoryStore]:
    leaves = [f"entry {i}".encode() for i in range(n)]
    store = MemoryStore()
    for data in leaves:
        store.append(leaf_hash(data))
    return leaves, store


# --- hashes ------------------------------------------------------------------------


def test_leaf_and_node_hashes_use_rfc9162_domain_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_rfc6962_reference_root_of_eight_leaves() -> None:
    # The eight leaves of RFC 6962's (and transparency-dev's) reference test tree.
    data = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    store = MemoryStore()
    for d in data:
        store.append(leaf_hash(d))
    expected = base64.b64decode("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")
    assert store.root() == expected == naive_mth(data)
    happy = json.loads((VECTORS / "inclusion" / "2" / "happy-path.json").read_text())
    proof = prove_inclusion(store, 5, 8)
    assert [base64.b64encode(p).decode() for p in proof] == happy["proof"]


# --- the shared vectors --------------------------------------------------------------


def test_vector_directory_is_present_and_complete() -> None:
    assert len(VECTOR_FILES) == 92
    assert sum(1 for f in VECTOR_FILES if f.name == "happy-path.json") == 6


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_shared_vector_valid_ones_verify_corrupted_ones_are_rejected(path: Path) -> None:
    doc = json.loads(path.read_text())
    result = check_proof_file(path.read_text())
    assert result.kind == path.parts[-3]
    assert result.valid is not doc["wantErr"], result.reason
    assert result.reason


def test_corrupted_vectors_get_specific_reasons() -> None:
    def reason(rel: str) -> str:
        return check_proof_file((VECTORS / rel).read_text()).reason

    assert "proof[0] is 0 bytes" in reason("inclusion/1/preceding-garbage.json")
    assert "needs exactly 3" in reason("inclusion/1/inserted-component.json")
    assert "outside a tree of 1 leaf" in reason("inclusion/0/leafIdx-plus-@1.json")
    assert "not to the given root" in reason("inclusion/1/modified-proof[1]-bit-@3.json")
    assert "a log only grows" in reason("consistency/2/size2-div-@2.json")
    assert "old root" in reason("consistency/2/swapped-roots.json")
    assert "root1 is 9 bytes" in reason("consistency/1/wrong-root1.json")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"foo": 1}', "not a proof file"),
        ('{"leafIdx": 0, "treeSize": 1, "root": "AA=="}', "missing field(s): leafHash, proof"),
        (
            '{"leafIdx": "0", "treeSize": 1, "root": "", "leafHash": "", "proof": null}',
            "'leafIdx' must be an integer",
        ),
        (
            '{"leafIdx": true, "treeSize": 1, "root": "", "leafHash": "", "proof": null}',
            "'leafIdx' must be an integer",
        ),
        (
            '{"leafIdx": 0, "treeSize": -1, "root": "", "leafHash": "", "proof": null}',
            "unsigned 64-bit",
        ),
        (
            '{"leafIdx": 0, "treeSize": 1, "root": "!!", "leafHash": "", "proof": null}',
            "'root' is not valid base64",
        ),
        (
            '{"size1": 1, "size2": 2, "root1": "", "root2": "", "proof": "AA=="}',
            "'proof' must be a list",
        ),
        (
            '{"size1": 1, "size2": 2, "root1": "", "root2": "", "proof": [1]}',
            "'proof[0]' must be a base64 string",
        ),
    ],
)
def test_malformed_proof_files_are_rejected_with_the_field_named(text: str, fragment: str) -> None:
    result = check_proof_file(text)
    assert not result.valid
    assert fragment in result.reason


def test_proof_file_verdict_ignores_the_files_own_want_err_claim() -> None:
    doc = json.loads((VECTORS / "inclusion" / "1" / "wrong-leaf.json").read_text())
    doc["wantErr"] = False
    assert not check_proof_document(doc).valid


# --- structure -----------------------------------------------------------------------


@given(st.integers(0, 2**40), st.integers(0, 2**20))
def test_range_nodes_tile_the_range_exactly_with_aligned_perfect_subtrees(
    begin: int, length: int
) -> None:
    nodes = range_nodes(begin, begin + length)
    pos = begin
    for n in nodes:
        assert n.begin == pos
        pos = n.end
    assert pos == begin + length
    assert len(nodes) <= 2 * max(1, length.bit_length())


def test_node_id_navigation() -> None:
    n = NodeId(2, 3)
    assert (n.begin, n.end) == (12, 16)
    assert n.parent() == NodeId(3, 1)
    assert n.sibling() == NodeId(2, 2)


def test_plans_reject_impossible_requests() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_plan(5, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_plan(6, 5)


@given(st.integers(1, 2**62), st.data())
def test_proofs_read_only_logarithmically_many_nodes(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    bound = 2 * size.bit_length() + 2
    assert len(inclusion_plan(index, size).node_ids) <= bound
    size1 = data.draw(st.integers(0, size))
    assert len(consistency_plan(size1, size).node_ids) <= bound + 1


# --- the log against the oracle ------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.data())
def test_inclusion_proofs_match_the_rfc_recursion_and_verify(n: int, data: st.DataObject) -> None:
    leaves, store = build(n)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = root_at(store, size)
    assert root == naive_mth(leaves[:size])
    proof = prove_inclusion(store, index, size)
    assert proof == naive_path(index, leaves[:size])
    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.data())
def test_consistency_proofs_match_the_rfc_recursion_and_verify(n: int, data: st.DataObject) -> None:
    leaves, store = build(n)
    size2 = data.draw(st.integers(1, n), label="size2")
    size1 = data.draw(st.integers(0, size2), label="size1")
    proof = prove_consistency(store, size1, size2)
    assert proof == naive_consistency(size1, leaves[:size2])
    verify_consistency(size1, size2, proof, root_at(store, size1), root_at(store, size2))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.data())
def test_any_flipped_bit_in_an_inclusion_proof_is_rejected(n: int, data: st.DataObject) -> None:
    leaves, store = build(n)
    index = data.draw(st.integers(0, n - 1))
    proof = prove_inclusion(store, index, n)
    if not proof:
        return
    which = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    bad = bytearray(proof[which])
    bad[bit // 8] ^= 1 << (bit % 8)
    proof[which] = bytes(bad)
    with pytest.raises(InvalidProof, match="not to the given root"):
        verify_inclusion(leaf_hash(leaves[index]), index, n, proof, store.root())


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 40), st.data())
def test_a_rewritten_history_fails_consistency(n: int, data: st.DataObject) -> None:
    leaves, store = build(n)
    size1 = data.draw(st.integers(1, n - 1))
    victim = data.draw(st.integers(0, size1 - 1))
    forged = MemoryStore()
    for i, d in enumerate(leaves):
        forged.append(leaf_hash(b"forged" if i == victim else d))
    proof = prove_consistency(forged, size1, n)
    with pytest.raises(InvalidProof):
        verify_consistency(size1, n, proof, root_at(store, size1), forged.root())


def test_compact_range_reports_each_final_node_once_and_resumes_from_a_store() -> None:
    _, store = build(13)
    # 13 leaves make 12 interior final nodes: 6 + 3 + 1 + ... (n - popcount(n)).
    assert len(store.nodes) == 13 + 13 - (13).bit_count()
    resumed = CompactRange.from_store(store, 13)
    assert resumed.root() == store.root()
    new = resumed.append(leaf_hash(b"entry 13"))
    assert [n for n, _ in new] == [NodeId(0, 13), NodeId(1, 6)]
    _, bigger = build(14)
    assert resumed.root() == bigger.root()


def test_compact_range_rejects_a_frontier_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="frontier"):
        CompactRange(3, [b"x" * 32])


def test_empty_tree_consistency_requires_the_empty_root() -> None:
    _, store = build(4)
    verify_consistency(0, 4, [], EMPTY_ROOT, store.root())
    with pytest.raises(InvalidProof, match="empty tree"):
        verify_consistency(0, 4, [], store.root(), store.root())
