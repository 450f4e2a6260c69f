"""Tiled storage of the Merkle log: same roots and proofs as the node-per-row oracle."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.archive.merkle import (
    CompactRange,
    MemoryStore,
    NodeId,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
    root_at,
)
from steward.archive.tiles import (
    TiledNodes,
    TileId,
    append_to_tiles,
    leaf_hashes_of,
    locate,
    partial_tiles,
    tile_node_count,
)


class DictTiles:
    def __init__(self) -> None:
        self.tiles: dict[TileId, bytes] = {}
        self.reads = 0

    def get_tiles(self, ids: list[TileId]) -> dict[TileId, bytes]:
        self.reads += 1
        return {t: self.tiles[t] for t in ids if t in self.tiles}


def grow(store: DictTiles, size: int, leaves: list[bytes], height: int) -> int:
    partial = store.get_tiles(partial_tiles(size, height))
    size, touched = append_to_tiles(size, partial, leaves, height)
    store.tiles.update(touched)
    return size


def test_post_order_positions_inside_a_tile() -> None:
    # height 2: leaves 0,1 -> node(1,0) -> leaves 2,3 -> node(1,1); the root (2,0) goes up.
    order = [NodeId(0, 0), NodeId(0, 1), NodeId(1, 0), NodeId(0, 2), NodeId(0, 3), NodeId(1, 1)]
    assert [locate(n, 2) for n in order] == [(TileId(0, 0), p) for p in range(6)]
    assert locate(NodeId(2, 0), 2) == (TileId(1, 0), 0)
    assert locate(NodeId(0, 5), 2) == (TileId(0, 1), 1)
    assert tile_node_count(4, 2) == 6
    assert tile_node_count(3, 2) == 4


def test_partial_tiles_name_the_rightmost_open_tile_of_each_band() -> None:
    assert partial_tiles(0) == []
    assert partial_tiles(256) == [TileId(1, 0)]
    assert partial_tiles(257) == [TileId(0, 1), TileId(1, 0)]
    assert partial_tiles(5, 2) == [TileId(0, 1), TileId(1, 0)]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([1, 2, 3, 8]), st.lists(st.integers(0, 40), min_size=1, max_size=6), st.data()
)
def test_tiled_tree_in_any_batches_matches_the_node_oracle(
    height: int, batches: list[int], data: st.DataObject
) -> None:
    oracle = MemoryStore()
    store = DictTiles()
    size = 0
    for count in batches:
        leaves = [leaf_hash(f"{size + i}".encode()) for i in range(count)]
        for h in leaves:
            oracle.append(h)
        size = grow(store, size, leaves, height)
    assert size == oracle.size
    if not size:
        return
    nodes = TiledNodes(store, height)
    assert root_at(nodes, size) == oracle.root()
    # Every final node the oracle has is stored, in exactly one place.
    assert nodes.get_nodes(list(oracle.nodes)) == oracle.nodes
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    assert prove_inclusion(nodes, index, size) == prove_inclusion(oracle, index, size)
    assert prove_consistency(nodes, old, size) == prove_consistency(oracle, old, size)
    assert CompactRange.from_store(nodes, size).root() == oracle.root()


def test_a_proof_reads_tiles_in_one_round_trip() -> None:
    store = DictTiles()
    grow(store, 0, [leaf_hash(bytes([i % 256, i // 256])) for i in range(5000)], 8)
    store.reads = 0
    prove_inclusion(TiledNodes(store), 1234, 5000)
    assert store.reads == 1


def test_missing_nodes_are_reported_not_invented() -> None:
    with pytest.raises(KeyError, match="not in the stored tree"):
        TiledNodes(DictTiles()).get_nodes([NodeId(0, 0)])


def test_leaf_hashes_come_back_from_a_bottom_tile() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(11)]
    store = DictTiles()
    grow(store, 0, leaves, 8)
    assert leaf_hashes_of(store.tiles[TileId(0, 0)], 11) == leaves


def test_append_refuses_tiles_too_short_for_the_frontier() -> None:
    with pytest.raises(ValueError, match="too short"):
        append_to_tiles(3, {}, [leaf_hash(b"x")])
