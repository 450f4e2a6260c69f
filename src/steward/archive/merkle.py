"""RFC 9162 Merkle tree hashing and proofs, designed for a database-backed log.

The log's tree is addressed as a grid of *nodes* ``(level, index)``: node ``(l, i)``
covers leaves ``[i * 2**l, (i + 1) * 2**l)``. A node is *final* once every leaf it
covers exists; its hash never changes afterwards, so a store only ever inserts
final nodes (:class:`CompactRange` yields them as leaves are appended) and never
rebuilds the tree. Any root, inclusion proof or consistency proof of any past tree
size is then a fold over O(log n) final nodes, which :func:`inclusion_plan` and
:func:`consistency_plan` name up front so that a store can fetch them in one read.

Hashes follow RFC 9162 §2.1.1: ``leaf = SHA-256(0x00 || data)``,
``node = SHA-256(0x01 || left || right)``, and the empty tree's root is
``SHA-256("")``. Verification follows §2.1.3.2 and §2.1.4.2 word for word, with
checks first that give a person a reason they can act on (:class:`InvalidProof`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


class InvalidProof(ValueError):
    """A proof, or the claim it is offered for, does not verify; ``str()`` says why."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 hash of a leaf holding ``data``: SHA-256(0x00 || data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


class NodeId(NamedTuple):
    """A node of the tree grid: ``level`` 0 holds leaves; ``index`` counts from the left.

    A named tuple rather than a dataclass: proofs hash and compare many of them, and a
    tuple's hash is computed in C.
    """

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, which nothing here uses

    @property
    def begin(self) -> int:
        """First leaf covered by this node."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf covered by this node."""
        return (self.index + 1) << self.level

    def parent(self) -> NodeId:
        """The node one level up that covers this one."""
        return NodeId(self.level + 1, self.index >> 1)

    def sibling(self) -> NodeId:
        """The other child of this node's parent."""
        return NodeId(self.level, self.index ^ 1)


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """Return the largest perfect subtrees that exactly cover leaves ``[begin, end)``.

    They come left to right; there are at most 2·log2(end - begin) of them. For
    ``begin == 0`` they are the roots of the tree's "compact range" (its frontier).
    """
    if begin < 0 or end < begin:
        raise ValueError(f"bad leaf range [{begin}, {end})")
    nodes: list[NodeId] = []
    pos = begin
    while pos < end:
        # The biggest aligned block starting at pos that does not overrun end.
        level = (end - pos).bit_length() - 1
        if pos:
            level = min(level, (pos & -pos).bit_length() - 1)
        nodes.append(NodeId(level, pos >> level))
        pos += 1 << level
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Return MTH of a range from the hashes of its :func:`range_nodes`, folded right to left.

    RFC 9162 splits a non-perfect range at its largest power of two, so its hash is
    ``H(p1, H(p2, H(p3, ...)))`` over the perfect subtrees ``p1 > p2 > ...``.
    """
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


class NodeReader(Protocol):
    """Where final node hashes are kept (a database table, a dict in tests)."""

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Return the hash of every requested final node (in one round trip)."""
        ...


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """Which final nodes make up a proof, and how to combine them.

    Each item of ``items`` is one hash of the proof: a single final node, or several
    (the perfect subtrees of a not-yet-final "ephemeral" node) folded right to left.
    """

    items: tuple[tuple[NodeId, ...], ...]

    @property
    def node_ids(self) -> list[NodeId]:
        """Every node the plan needs, without duplicates, for one batched read."""
        return list(dict.fromkeys(n for item in self.items for n in item))

    def assemble(self, hashes: Mapping[NodeId, bytes]) -> list[bytes]:
        """Build the proof from the hashes of :attr:`node_ids`."""
        return [
            hashes[item[0]] if len(item) == 1 else fold_range([hashes[n] for n in item])
            for item in self.items
        ]

    def fetch(self, store: NodeReader) -> list[bytes]:
        """Read the needed nodes from ``store`` in one call and build the proof."""
        ids = self.node_ids
        return self.assemble(store.get_nodes(ids) if ids else {})


def _path_items(node: NodeId, size: int) -> list[tuple[NodeId, ...]]:
    """The audit path of a final ``node`` up to the root of the tree of ``size`` leaves.

    Walking up the grid, a sibling to the left is always final; a sibling starting at
    or beyond ``size`` does not exist in the RFC tree (the level is skipped); a
    sibling straddling ``size`` is ephemeral and is given by its covering subtrees.
    """
    items: list[tuple[NodeId, ...]] = []
    level, index = node
    # Plain integers in the loop: this runs for every proof served.
    while index << level or (index + 1) << level < size:
        sib = index ^ 1
        sib_begin = sib << level
        if sib_begin < size:
            if (sib + 1) << level <= size:
                items.append((NodeId(level, sib),))
            else:
                items.append(tuple(range_nodes(sib_begin, size)))
        level += 1
        index >>= 1
    return items


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Plan the RFC 9162 §2.1.3.1 inclusion proof of leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {_n(size, 'leaf', 'leaves')}")
    return ProofPlan(tuple(_path_items(NodeId(0, index), size)))


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Plan the RFC 9162 §2.1.4.1 consistency proof between tree sizes ``size1 <= size2``.

    The proof starts from the biggest perfect subtree ending at ``size1`` (left out when
    ``size1`` is a power of two: the verifier already has it as the old root) and
    continues with that subtree's audit path in the tree of ``size2``.
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return ProofPlan(())
    level = (size1 & -size1).bit_length() - 1
    seed = NodeId(level, (size1 >> level) - 1)
    items = _path_items(seed, size2)
    if seed.index != 0:
        items.insert(0, (seed,))
    return ProofPlan(tuple(items))


def root_plan(size: int) -> tuple[NodeId, ...]:
    """The final nodes whose right-to-left fold (:func:`fold_range`) is the root at ``size``."""
    return tuple(range_nodes(0, size))


def root_at(store: NodeReader, size: int) -> bytes:
    """Return the root hash of the tree of ``size`` leaves from O(log n) stored nodes."""
    ids = root_plan(size)
    if not ids:
        return EMPTY_ROOT
    got = store.get_nodes(ids)
    return fold_range([got[n] for n in ids])


def prove_inclusion(store: NodeReader, index: int, size: int) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    return inclusion_plan(index, size).fetch(store)


def prove_consistency(store: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Return the consistency proof between the trees of ``size1`` and ``size2`` leaves."""
    return consistency_plan(size1, size2).fetch(store)


class CompactRange:
    """The frontier of a growing tree: the final subtrees covering leaves ``[0, size)``.

    Appending a leaf costs O(1) amortised hashing and reports the nodes that became
    final, which is all a store must insert. Start it from a stored tree with
    :meth:`from_store` (O(log n) reads) or from known frontier hashes.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError("tree size cannot be negative")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} frontier hashes, got {len(hashes)}"
            )
        self._size = size
        self._hashes = list(hashes)

    @classmethod
    def from_store(cls, store: NodeReader, size: int) -> CompactRange:
        """Load the frontier of the stored tree of ``size`` leaves."""
        ids = root_plan(size)
        got = store.get_nodes(ids) if ids else {}
        return cls(size, [got[n] for n in ids])

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> list[tuple[NodeId, bytes]]:
        """The final subtrees covering ``[0, size)``, left to right, with their hashes."""
        return list(zip(root_plan(self._size), self._hashes, strict=True))

    def root(self) -> bytes:
        """The current root hash (RFC 9162 MTH)."""
        return fold_range(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Append a leaf *hash*; return ``[(leaf node, hash), (parent, hash), ...]`` made final."""
        index = self._size
        hashes = self._hashes
        out = [(NodeId(0, index), leaf)]
        h = leaf
        level = 0
        # Each trailing 1 bit of the old size is a left sibling waiting for this leaf.
        i = index
        while i & 1:
            h = node_hash(hashes.pop(), h)
            level += 1
            i >>= 1
            out.append((NodeId(level, i), h))
        hashes.append(h)
        self._size = index + 1
        return out

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[NodeId, bytes]]:
        """Append many leaf hashes; return every node made final, in order."""
        out: list[tuple[NodeId, bytes]] = []
        for leaf in leaves:
            out.extend(self.append(leaf))
        return out


class MemoryStore:
    """A dict of final nodes: the reference :class:`NodeReader` for tools and tests."""

    def __init__(self) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self._tree = CompactRange()

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._tree.size

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        self.nodes.update(self._tree.append(leaf))

    def root(self) -> bytes:
        """The current root hash."""
        return self._tree.root()

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Return the requested final nodes."""
        return {n: self.nodes[n] for n in ids}


# --- verification -----------------------------------------------------------------


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{name} is {len(value)} bytes long; a SHA-256 hash is {HASH_SIZE}")


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _check_proof_shape(proof: Sequence[bytes], expected: int, what: str) -> None:
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)
    if len(proof) != expected:
        raise InvalidProof(
            f"proof has {_n(len(proof), 'hash', 'hashes')} but {what}"
            f" needs exactly {expected}" + (" (extra or missing components)" if proof else "")
        )


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is at ``index`` in the tree of ``size`` with ``root``.

    Raises :class:`InvalidProof` naming the reason; returns ``None`` when it holds.
    """
    if size <= 0:
        raise InvalidProof(f"tree size {size}: an empty tree includes no leaf")
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is outside a tree of {_n(size, 'leaf', 'leaves')}")
    _check_hash("leaf hash", leaf)
    _check_hash("root", root)
    _check_proof_shape(
        proof,
        len(inclusion_plan(index, size).items),
        f"leaf {index} in a tree of {_n(size, 'leaf', 'leaves')}",
    )
    # RFC 9162 §2.1.3.2.
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InvalidProof("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("proof is shorter than the path to the root")
    if r != root:
        raise InvalidProof(
            f"the proof leads to root {_b64(r)}, not to the given root {_b64(root)}"
            " (wrong leaf, index, size, root or proof hash)"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1`` with ``root1``.

    Raises :class:`InvalidProof` naming the reason; returns ``None`` when it holds.
    """
    if size1 < 0 or size2 < 0:
        raise InvalidProof("tree sizes cannot be negative")
    if size1 > size2:
        raise InvalidProof(f"size1 {size1} is larger than size2 {size2}: a log only grows")
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    if size1 == size2:
        _check_proof_shape(proof, 0, "two trees of the same size")
        if root1 != root2:
            raise InvalidProof(
                f"trees of the same size {size1} have different roots {_b64(root1)}"
                f" and {_b64(root2)}"
            )
        return
    if size1 == 0:
        _check_proof_shape(proof, 0, "a proof from the empty tree")
        if root1 != EMPTY_ROOT:
            raise InvalidProof(f"root1 {_b64(root1)} is not the root of the empty tree")
        return
    _check_proof_shape(proof, len(consistency_plan(size1, size2).items), f"sizes {size1} → {size2}")
    # RFC 9162 §2.1.4.2.
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("proof is shorter than the path to the root")
    if fr != root1:
        raise InvalidProof(
            f"the proof rebuilds the old root as {_b64(fr)}, not the given root1 {_b64(root1)}"
        )
    if sr != root2:
        raise InvalidProof(
            f"the proof rebuilds the new root as {_b64(sr)}, not the given root2 {_b64(root2)}"
        )


# --- proof files --------------------------------------------------------------------

ProofKind = Literal["inclusion", "consistency"]
_INCLUSION_FIELDS = ("leafIdx", "treeSize", "root", "leafHash", "proof")
_CONSISTENCY_FIELDS = ("size1", "size2", "root1", "root2", "proof")
_UINT64_MAX = 2**64 - 1


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The verdict on a proof file: which kind it is, whether it holds, and why not."""

    kind: ProofKind | None
    valid: bool
    reason: str


def _field_int(doc: Mapping[str, object], name: str) -> int:
    value = doc[name]
    # bool is an int in Python but never a tree size.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProof(f"field {name!r} must be an integer, got {value!r}")
    if not 0 <= value <= _UINT64_MAX:
        raise InvalidProof(f"field {name!r} must be an unsigned 64-bit integer, got {value}")
    return value


def _decode_b64(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise InvalidProof(f"field {name!r} must be a base64 string, got {value!r}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidProof(f"field {name!r} is not valid base64: {exc}") from exc


def _field_proof(doc: Mapping[str, object]) -> list[bytes]:
    value = doc["proof"]
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidProof(f"field 'proof' must be a list of base64 hashes, got {value!r}")
    return [_decode_b64(f"proof[{i}]", v) for i, v in enumerate(value)]


def check_proof_document(doc: object) -> ProofCheck:
    """Verify a parsed proof file (the transparency-dev/merkle test-vector JSON layout).

    Inclusion: ``leafIdx``, ``treeSize``, ``root``, ``leafHash``, ``proof``; consistency:
    ``size1``, ``size2``, ``root1``, ``root2``, ``proof``; hashes in base64, ``proof``
    may be ``null``. Other fields (``desc``, ``wantErr``) are ignored: the file's own
    opinion of itself proves nothing.
    """
    if not isinstance(doc, dict):
        return ProofCheck(None, False, "a proof file must hold a JSON object")
    kind: ProofKind
    if "leafIdx" in doc or "leafHash" in doc:
        kind, fields = "inclusion", _INCLUSION_FIELDS
    elif "size1" in doc or "size2" in doc:
        kind, fields = "consistency", _CONSISTENCY_FIELDS
    else:
        return ProofCheck(
            None,
            False,
            "not a proof file: expected inclusion fields (leafIdx, treeSize, root, leafHash,"
            " proof) or consistency fields (size1, size2, root1, root2, proof)",
        )
    missing = [f for f in fields if f not in doc]
    if missing:
        return ProofCheck(kind, False, f"{kind} proof is missing field(s): {', '.join(missing)}")
    try:
        if kind == "inclusion":
            index, size = _field_int(doc, "leafIdx"), _field_int(doc, "treeSize")
            root, leaf = _decode_b64("root", doc["root"]), _decode_b64("leafHash", doc["leafHash"])
            verify_inclusion(leaf, index, size, _field_proof(doc), root)
            summary = (
                f"leaf {index} is included in the tree of {_n(size, 'leaf', 'leaves')}"
                f" with root {_b64(root)}"
            )
        else:
            size1, size2 = _field_int(doc, "size1"), _field_int(doc, "size2")
            root1, root2 = _decode_b64("root1", doc["root1"]), _decode_b64("root2", doc["root2"])
            verify_consistency(size1, size2, _field_proof(doc), root1, root2)
            summary = (
                f"the tree of {_n(size2, 'leaf', 'leaves')} extends"
                f" the tree of {_n(size1, 'leaf', 'leaves')}"
            )
    except InvalidProof as exc:
        return ProofCheck(kind, False, str(exc))
    return ProofCheck(kind, True, summary)


def check_proof_file(text: str | bytes) -> ProofCheck:
    """Parse and verify the text of a JSON proof file; never raises on bad input."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return ProofCheck(None, False, f"not valid JSON: {exc}")
    return check_proof_document(doc)
