"""Tiles: how the log keeps its final Merkle nodes in few database rows.

The tree is cut into horizontal *bands* of ``height`` levels (band ``T`` holds node
levels ``T*height`` to ``T*height + height - 1``) and each band into *tiles* of
``2**height`` nodes of its bottom level, with every final node of the subtree above
them inside the band. A tile's hashes are stored as one blob in the order the nodes
become final (post-order), so a growing tile only ever gets hashes appended to it
and a partial tile is a prefix of the full one.

Compared with one row per node this writes ~2**height times fewer rows on append,
and a proof still reads O(log n) data: at most a few tiles per band, from which the
needed node hashes are sliced (no rehashing). The same design underlies Go's
``tlog`` tiles and static-ct logs; Steward stores all levels of a tile, not only its
bottom row, so that a proof needs no hashing at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol

from steward.archive.merkle import HASH_SIZE, NodeId, range_nodes

TILE_HEIGHT = 8


class TileId(NamedTuple):
    """Tile ``index`` of band ``level``."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, which nothing here uses


def tile_node_count(width: int, height: int = TILE_HEIGHT) -> int:
    """Number of hashes a tile holds when ``width`` of its bottom nodes are final.

    A post-order prefix over ``w`` leaves has ``2w - popcount(w)`` final nodes; a full
    tile leaves out its own root, which is the bottom of the band above.
    """
    if not 0 <= width <= 1 << height:
        raise ValueError(f"tile width {width} is outside 0..{1 << height}")
    count = 2 * width - width.bit_count()
    return count - 1 if width == 1 << height else count


def locate(node: NodeId, height: int = TILE_HEIGHT) -> tuple[TileId, int]:
    """Return the tile holding ``node`` and the node's position in it (in hashes)."""
    band, j = divmod(node.level, height)
    shift = height - j
    tile = TileId(band, node.index >> shift)
    i = node.index - (tile.index << shift)
    # Nodes final before the leaf that completes this one, then the leaf and its j parents.
    before = ((i + 1) << j) - 1
    return tile, 2 * before - before.bit_count() + j


def partial_tiles(size: int, height: int = TILE_HEIGHT) -> list[TileId]:
    """The rightmost, not yet full, tile of every band of a tree of ``size`` leaves.

    They hold every frontier node, so they are all an append needs to read.
    """
    out = []
    band, base = 0, size
    while base:
        if base & ((1 << height) - 1):
            out.append(TileId(band, base >> height))
        band += 1
        base >>= height
    return out


def append_to_tiles(
    size: int,
    partial: Mapping[TileId, bytes],
    leaf_hashes: Iterable[bytes],
    height: int = TILE_HEIGHT,
) -> tuple[int, dict[TileId, bytes]]:
    """Append leaf hashes to a tiled tree of ``size`` leaves.

    ``partial`` holds the current blobs of :func:`partial_tiles`. Returns the new size
    and the complete new blob of every tile touched, ready to be upserted. The inner
    loop is the textbook stack-based tree hashing, plus one list append per node.
    """
    frontier = range_nodes(0, size)
    stack: list[bytes] = []
    for node in frontier:
        tile, pos = locate(node, height)
        blob = partial.get(tile, b"")
        if len(blob) < (pos + 1) * HASH_SIZE:
            raise ValueError(f"tile {tile} is too short to hold frontier node {node}")
        stack.append(blob[pos * HASH_SIZE : (pos + 1) * HASH_SIZE])

    sha = hashlib.sha256
    # One list per band, enough for any 64-bit tree size; locals keep the loop tight.
    bands: list[list[bytes]] = [[] for _ in range(64 // height + 2)]
    add_bottom, pop, push = bands[0].append, stack.pop, stack.append
    n = size
    for h in leaf_hashes:
        add_bottom(h)
        j = n
        level = 0
        while j & 1:
            h = sha(b"\x01" + pop() + h).digest()
            j >>= 1
            level += 1
            bands[level // height].append(h)
        push(h)
        n += 1

    tiles: dict[TileId, bytes] = {}
    full = 1 << height
    for band, emitted in enumerate(bands):
        before, after = size >> (band * height), n >> (band * height)
        if after == before:
            continue
        cursor = 0
        for k in range(before >> height, ((after - 1) >> height) + 1):
            old_w = min(max(before - (k << height), 0), full)
            new_w = min(after - (k << height), full)
            take = tile_node_count(new_w, height) - tile_node_count(old_w, height)
            prefix = partial.get(TileId(band, k), b"") if old_w else b""
            tiles[TileId(band, k)] = prefix + b"".join(emitted[cursor : cursor + take])
            cursor += take
    return n, tiles


class TileReader(Protocol):
    """Where tiles are kept (a database table, a dict in tests)."""

    def get_tiles(self, ids: Sequence[TileId]) -> Mapping[TileId, bytes]:
        """Return the blob of every requested tile that exists (in one round trip)."""
        ...


class TiledNodes:
    """A :class:`~steward.archive.merkle.NodeReader` over a :class:`TileReader`."""

    def __init__(self, tiles: TileReader, height: int = TILE_HEIGHT) -> None:
        self._tiles = tiles
        self._height = height

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Fetch the tiles holding ``ids`` at once and slice the node hashes out."""
        height = self._height
        where: dict[NodeId, tuple[tuple[int, int], int]] = {}
        for node in ids:
            # locate(), inlined: this loop runs for every node of every proof served.
            band, j = divmod(node[0], height)
            shift = height - j
            k = node[1] >> shift
            before = ((node[1] - (k << shift) + 1) << j) - 1
            where[node] = ((band, k), 2 * before - before.bit_count() + j)
        blobs = self._tiles.get_tiles([TileId(*t) for t in {t for t, _ in where.values()}])
        out = {}
        for node, (tile, pos) in where.items():
            h = blobs.get(tile, b"")[pos * HASH_SIZE : (pos + 1) * HASH_SIZE]  # type: ignore[call-overload]
            if len(h) != HASH_SIZE:
                raise KeyError(f"node {node} is not in the stored tree (tile {TileId(*tile)})")
            out[node] = h
        return out


def leaf_hashes_of(tile_blob: bytes, width: int, height: int = TILE_HEIGHT) -> list[bytes]:
    """The bottom-row hashes of a band-0 tile with ``width`` leaves, left to right."""
    out = []
    for i in range(width):
        _, pos = locate(NodeId(0, i), height)
        out.append(tile_blob[pos * HASH_SIZE : (pos + 1) * HASH_SIZE])
    return out
