"""Use cases of the tamper-evident archive (R-DSP-9, R-DSP-6, R-AUD-2).

* Every audit event and publication is appended to the log in the transaction that
  records it, just before it commits (:func:`drain_pending`, queued by the listener in
  ``steward.archive.models``).
* Checkpoints are signed on demand and by the worker (:func:`sign_checkpoint`), never
  for a tree that is not consistent with the last signed one.
* Proofs are served from the stored tiles (:func:`inclusion_proof`,
  :func:`consistency_proof`); :func:`verify_log` re-reads everything and names what
  was tampered with.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.archive import repository
from steward.archive.checkpoint import (
    Checkpoint,
    NoteError,
    NoteVerifier,
    open_checkpoint,
)
from steward.archive.checkpoint import (
    sign_checkpoint as sign_note_checkpoint,
)
from steward.archive.domain import (
    EncodingError,
    EntryKind,
    JsonValue,
    LeafRecord,
    canonical_json,
    commitment,
    new_salt,
    parse_leaf_document,
    reveal_matches,
    utc_iso,
)
from steward.archive.keys import load_signer
from steward.archive.merkle import (
    EMPTY_ROOT,
    InvalidProof,
    NodeId,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
    root_at,
    verify_consistency,
)
from steward.archive.models import PENDING, ArchiveCheckpoint, ArchiveEntry
from steward.archive.tiles import (
    TILE_HEIGHT,
    TiledNodes,
    TileId,
    append_to_tiles,
    leaf_hashes_of,
    partial_tiles,
)
from steward.authz import Permission
from steward.config import get_settings
from steward.contexts import ARCHIVE_CHECKS
from steward.db import utcnow
from steward.errors import Conflict, Invalid, NotFound
from steward.events import AuditEvent, Publication


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def _plain_json(value: Any) -> JsonValue:
    # What the JSON column will give back after a round trip (tuples → lists, int keys →
    # strings), so that the content hashed now is the content re-read at verification.
    # NaN and infinities (which the JSON column accepts) become strings: canonical JSON has none.
    result: JsonValue = json.loads(json.dumps(value, default=str), parse_constant=str)
    return result


def event_content(event: AuditEvent) -> JsonValue:
    """The archived content of an audit event (public in clear, else sealed)."""
    return _plain_json(
        {
            "id": event.id,
            "tag": event.tag,
            "actor": event.actor_label,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "data": event.data or {},
        }
    )


def publication_content(publication: Publication) -> JsonValue:
    """The archived content of a publication (always public)."""
    return _plain_json(
        {
            "id": publication.id,
            "kind": publication.kind,
            "title": publication.title,
            "url": publication.url,
            "summary": publication.summary or "",
            "content": publication.content or {},
        }
    )


@dataclass(frozen=True, slots=True)
class NewEntry:
    """Something to append: a public or sealed record of an event or publication."""

    kind: EntryKind
    source_id: int | None
    recorded_at: datetime
    content: JsonValue
    sealed: bool = False


class _MergedTiles:
    """Tiles just written layered over those read before writing (no re-read needed)."""

    def __init__(self, *layers: Mapping[TileId, bytes]) -> None:
        self._tiles: dict[TileId, bytes] = {}
        for layer in layers:
            self._tiles.update(layer)

    def get_tiles(self, ids: Sequence[TileId]) -> Mapping[TileId, bytes]:
        return {t: self._tiles[t] for t in ids if t in self._tiles}


def append_leaves(session: Session, leaf_hashes: Sequence[bytes]) -> tuple[int, bytes]:
    """Append leaf hashes to the tree; return the new size and root.

    Costs one locked read of the head, one read of the open tiles and the writes of the tiles
    touched and the head: O(log n) reads, whatever the size of the log.
    """
    size = repository.lock_head(session)[0]
    new_size, root, tiles = _grown(session, size, leaf_hashes)
    repository.write_append(session, [], tiles, new_size, root)
    return new_size, root


def _grown(session: Session, size: int, leaf_hashes: Sequence[bytes]) -> tuple[int, bytes, Mapping[TileId, bytes]]:
    """The tree of ``size`` leaves with ``leaf_hashes`` appended: its size, its root and the tiles
    it changed (computed, not yet written)."""
    partial = repository.TileTable(session).get_tiles(partial_tiles(size))
    new_size, tiles = append_to_tiles(size, partial, leaf_hashes)
    return new_size, root_at(TiledNodes(_MergedTiles(partial, tiles)), new_size), tiles


def leaf_hashes(leaf_data: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 leaf hashes of many leaves (``merkle.leaf_hash`` without a call per leaf)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + d).digest() for d in leaf_data]


def append_entries(session: Session, items: Sequence[NewEntry]) -> list[int]:
    """Append records to the log; return their positions (sequence numbers)."""
    if not items:
        return []
    size, _ = repository.lock_head(session)
    rows: list[dict[str, Any]] = []
    hashes: list[bytes] = []
    for offset, item in enumerate(items):
        seq = size + offset
        salt: bytes | None = None
        sealed_text: str | None = None
        if item.sealed:
            salt = new_salt()
            sealed_text = canonical_json(item.content).decode("utf-8")
            record = LeafRecord(
                seq, item.kind, item.recorded_at, commitment=commitment(salt, item.content)
            )
        else:
            record = LeafRecord(seq, item.kind, item.recorded_at, content=item.content)
        data = record.leaf_data()
        hashes.append(leaf_hash(data))
        rows.append(
            {
                "seq": seq,
                "kind": item.kind,
                "source_id": item.source_id,
                "recorded_at": item.recorded_at,
                "sealed": item.sealed,
                "leaf": data.decode("utf-8"),
                "salt": salt,
                "sealed_content": sealed_text,
            }
        )
    new_size, root, tiles = _grown(session, size, hashes)
    repository.write_append(session, rows, tiles, new_size, root)
    return [row["seq"] for row in rows]


def _new_entry(record: AuditEvent | Publication) -> NewEntry:
    if isinstance(record, Publication):
        return NewEntry("publication", record.id, record.published_at, publication_content(record))
    return NewEntry(
        "event", record.id, record.occurred_at, event_content(record), sealed=not record.public
    )


def archive_records(session: Session, records: Sequence[AuditEvent | Publication]) -> list[int]:
    """Log audit events (sealed unless public) and publications; return their positions."""
    return append_entries(session, [_new_entry(r) for r in records])


def drain_pending(session: Session) -> list[int]:
    """Append the records this transaction queued (done before every commit)."""
    pending = session.info.pop(PENDING, None) or []
    # A record made inside a savepoint that was rolled back is no longer persistent: skip it.
    return archive_records(session, [r for r in pending if inspect(r).persistent])


def backfill(session: Session) -> int:
    """Log audit events and publications recorded before the archive existed (in time order).

    Run by ``steward init``; a no-op once everything is logged.
    """
    drain_pending(session)
    logged_events = repository.logged_sources(session, "event")
    logged_publications = repository.logged_sources(session, "publication")
    items: list[NewEntry] = []
    for event in session.scalars(
        select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.id)
    ):
        if event.id not in logged_events:
            items.append(
                NewEntry(
                    "event", event.id, event.occurred_at, event_content(event), not event.public
                )
            )
    for pub in session.scalars(
        select(Publication).order_by(Publication.published_at, Publication.id)
    ):
        if pub.id not in logged_publications:
            items.append(
                NewEntry("publication", pub.id, pub.published_at, publication_content(pub))
            )
    items.sort(key=lambda i: i.recorded_at)
    append_entries(session, items)
    return len(items)


# --- checkpoints --------------------------------------------------------------------


def _check_extends_last(session: Session, size: int, root: bytes) -> None:
    """Refuse to sign a tree that does not extend the last signed one (tlog-checkpoint)."""
    last = repository.latest_checkpoint(session)
    if last is None:
        return
    if last.size > size:
        raise Conflict(f"the log has {size} entries but a checkpoint of {last.size} was signed")
    nodes = TiledNodes(repository.TileTable(session))
    proof = prove_consistency(nodes, last.size, size) if last.size else []
    try:
        verify_consistency(last.size, size, proof, bytes(last.root), root)
    except InvalidProof as exc:
        raise Conflict(
            f"the stored tree does not extend the checkpoint of size {last.size} ({exc});"
            " run `steward archive verify`"
        ) from exc


def sign_checkpoint(
    session: Session, now: datetime | None = None, principal: Principal | None = None
) -> ArchiveCheckpoint:
    """Sign the log's current size and root, unless that size is already signed."""
    if principal is not None:
        principal.require(Permission.ARCHIVE_CHECKPOINT)
    drain_pending(session)
    size, root = repository.head(session)
    existing = repository.checkpoint_at(session, size)
    if existing is not None:
        return existing
    try:
        signer = load_signer(get_settings())
    except NoteError as exc:
        raise Invalid(str(exc)) from exc
    stored_root = root_at(TiledNodes(repository.TileTable(session)), size) if size else EMPTY_ROOT
    if stored_root != root:
        raise Conflict("the log head does not match the stored tree; run `steward archive verify`")
    _check_extends_last(session, size, root)
    note = sign_note_checkpoint(Checkpoint(signer.name, size, root), signer)
    checkpoint = ArchiveCheckpoint(size=size, root=root, note=note, signed_at=now or utcnow())
    repository.add_checkpoint(session, checkpoint)
    return checkpoint


def checkpoint_task(session: Session, now: datetime) -> str:
    """Periodic task: sign a checkpoint when the log grew since the last one."""
    drain_pending(session)
    size, _ = repository.head(session)
    last = repository.latest_checkpoint(session)
    if last is not None and last.size == size:
        return f"no new entries (size {size})"
    try:
        checkpoint = sign_checkpoint(session, now)
    except Invalid as exc:
        return f"not signed: {exc}"
    return f"signed checkpoint of size {checkpoint.size}"


def latest_checkpoint(session: Session) -> ArchiveCheckpoint:
    """The newest signed checkpoint (404 before the first one)."""
    checkpoint = repository.latest_checkpoint(session)
    if checkpoint is None:
        raise NotFound("no checkpoint has been signed yet")
    return checkpoint


# --- proofs -------------------------------------------------------------------------


def _size_or_head(session: Session, size: int | None, field_name: str) -> int:
    drain_pending(session)
    current, _ = repository.head(session)
    if size is None:
        return current
    if size < 0 or size > current:
        raise Invalid(
            f"{field_name} must be between 0 and the log size {current}", field=field_name
        )
    return size


def tree_root(session: Session, size: int | None = None) -> tuple[int, bytes]:
    """The root of the tree at ``size`` (default: now)."""
    size = _size_or_head(session, size, "size")
    return size, root_at(TiledNodes(repository.TileTable(session)), size)


def inclusion_proof(session: Session, index: int, size: int | None = None) -> dict[str, Any]:
    """The inclusion proof of entry ``index`` in the tree of ``size`` entries.

    The answer has the layout ``steward archive check-proof`` reads (``leafIdx``,
    ``treeSize``, ``root``, ``leafHash``, ``proof``; base64).
    """
    size = _size_or_head(session, size, "treeSize")
    if not 0 <= index < size:
        raise Invalid(f"leafIdx must be below treeSize {size}", field="leafIdx")
    nodes = TiledNodes(repository.TileTable(session))
    proof = prove_inclusion(nodes, index, size)
    leaf = nodes.get_nodes([NodeId(0, index)])[NodeId(0, index)]
    return {
        "leafIdx": index,
        "treeSize": size,
        "root": b64(root_at(nodes, size)),
        "leafHash": b64(leaf),
        "proof": [b64(p) for p in proof],
    }


def consistency_proof(session: Session, size1: int, size2: int | None = None) -> dict[str, Any]:
    """The consistency proof between the trees of ``size1`` and ``size2`` entries."""
    size2 = _size_or_head(session, size2, "size2")
    if not 0 <= size1 <= size2:
        raise Invalid(f"size1 must be between 0 and size2 {size2}", field="size1")
    nodes = TiledNodes(repository.TileTable(session))
    return {
        "size1": size1,
        "size2": size2,
        "root1": b64(root_at(nodes, size1)),
        "root2": b64(root_at(nodes, size2)),
        "proof": [b64(p) for p in prove_consistency(nodes, size1, size2)],
    }


# --- entries and reveals ------------------------------------------------------------


def entry_view(entry: ArchiveEntry) -> dict[str, Any]:
    """The public face of an entry: its leaf document (a commitment when sealed)."""
    document = json.loads(entry.leaf)
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "sealed": entry.sealed,
        "recorded_at": entry.recorded_at,
        "leaf": entry.leaf,
        "leaf_hash": b64(leaf_hash(entry.leaf.encode("utf-8"))),
        "document": document,
    }


def get_entry(session: Session, seq: int) -> ArchiveEntry:
    """One entry (404 when there is none)."""
    entry = repository.entry(session, seq)
    if entry is None:
        raise NotFound(f"no archive entry #{seq}")
    return entry


def reveal(session: Session, seq: int) -> dict[str, Any]:
    """The salt and content that open a sealed entry's commitment.

    Only for those entitled to the content (run from the CLI by the operator of the
    system, or called by the owning context after its own access check).
    """
    secret = repository.sealed_secret(session, seq)
    if secret is None:
        raise NotFound(f"archive entry #{seq} is not a sealed entry")
    salt, content = secret
    return {"seq": seq, "salt": b64(salt), "content": json.loads(content)}


def check_reveal(session: Session, seq: int, salt_b64: str, content: JsonValue) -> bool:
    """Whether a revealed salt and content open the commitment of sealed entry ``seq``."""
    entry = get_entry(session, seq)
    if not entry.sealed:
        raise Invalid(f"archive entry #{seq} is public; there is nothing to reveal", field="seq")
    try:
        salt = base64.b64decode(salt_b64, validate=True)
    except ValueError:
        raise Invalid("salt must be base64", field="salt") from None
    record = parse_leaf_document(json.loads(entry.leaf))
    assert record.commitment is not None
    return reveal_matches(record.commitment, salt, content)


def event_seqs(session: Session, event_ids: Sequence[int]) -> dict[int, int]:
    """Log positions of audit events (for a context that opens its own sealed entries)."""
    return repository.seqs_for_sources(session, "event", event_ids)


def publication_seqs(session: Session, publication_ids: Sequence[int]) -> dict[int, int]:
    """Log positions of publications (for proof links on the portal)."""
    return repository.seqs_for_sources(session, "publication", publication_ids)


# --- verification -------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What :func:`verify_log` found: the log's size and root, and every problem named."""

    size: int = 0
    root: bytes = EMPTY_ROOT
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems


def _source_rows(session: Session, model: Any) -> dict[int, Any]:
    return {row.id: row for row in session.scalars(select(model))}


def verify_log(
    session: Session,
    verifier: NoteVerifier | None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Re-read the whole archive and check it against itself and its signed checkpoints.

    Names each entry that was changed, deleted, moved or inserted, each audit event or
    publication that no longer matches its entry (or has none), each tile whose hashes
    were altered, and each checkpoint that fails its signature or the entries.
    ``progress(done, total)`` is told of the entries read, every 200 and at the end.
    """
    report = VerifyReport()
    drain_pending(session)
    size, head_root = repository.head(session)
    report.size, report.root = size, head_root
    stored_tiles = repository.all_tiles(session)
    stored_leaves: list[bytes] = []
    for k in range((size + (1 << TILE_HEIGHT) - 1) >> TILE_HEIGHT):
        width = min(size - (k << TILE_HEIGHT), 1 << TILE_HEIGHT)
        blob = stored_tiles.get(TileId(0, k), b"")
        stored_leaves.extend(leaf_hashes_of(blob, width))
    problems = report.problems
    leaf_mismatches: list[int] = []

    # 1. Entries against the log's leaves.
    recomputed: list[bytes | None] = [None] * size
    events = _source_rows(session, AuditEvent)
    publications = _source_rows(session, Publication)
    logged: dict[tuple[str, int], int] = {}
    expected = 0
    for entry in repository.iter_entries(session):
        report.entries += 1
        if progress is not None and report.entries % 200 == 0:
            progress(report.entries, max(size, report.entries))
        seq = entry.seq
        if seq > expected:
            missing = f"#{expected}" if seq == expected + 1 else f"#{expected}–#{seq - 1}"
            problems.append(f"entry {missing} deleted: the log has a leaf there but no entry row")
        expected = seq + 1
        data = entry.leaf.encode("utf-8")
        h = leaf_hash(data)
        if seq >= size:
            problems.append(f"entry #{seq} inserted: the log has only {size} leaves")
            continue
        recomputed[seq] = h
        try:
            record = parse_leaf_document(json.loads(entry.leaf))
        except (ValueError, EncodingError) as exc:
            problems.append(f"entry #{seq} altered: its leaf is no longer a log document ({exc})")
            continue
        if record.seq != seq:
            problems.append(
                f"entry #{seq} moved: it holds the record logged at #{record.seq} (reordered)"
            )
        elif h != stored_leaves[seq]:
            # Blamed on the entry or on the tree once the checkpoints are known (below).
            leaf_mismatches.append(seq)
        if entry.sealed:
            ok = (
                record.commitment is not None
                and entry.salt is not None
                and entry.sealed_content is not None
                and reveal_matches(
                    record.commitment, bytes(entry.salt), json.loads(entry.sealed_content)
                )
            )
            if not ok:
                problems.append(f"entry #{seq} altered: its sealed content or salt was changed")
        if entry.source_id is not None:
            logged[(entry.kind, entry.source_id)] = seq
            _check_source(entry, record, events, publications, problems)
    if progress is not None:
        progress(report.entries, max(size, report.entries))
    if expected < size:
        missing = f"#{expected}" if expected == size - 1 else f"#{expected}–#{size - 1}"
        problems.append(f"entry {missing} deleted: the log has a leaf there but no entry row")
    for event_id in sorted(events):
        if ("event", event_id) not in logged:
            problems.append(f"audit event {event_id} inserted: it is not in the log")
    for publication_id in sorted(publications):
        if ("publication", publication_id) not in logged:
            problems.append(f"publication {publication_id} inserted: it is not in the log")
    # records the contexts keep in their own tables, against the events that committed to them
    for target in ARCHIVE_CHECKS:
        module, name = target.split(":")
        problems.extend(getattr(importlib.import_module(module), name)(session, events))

    # 2. The stored tree against the leaves it holds, and the head against the tree.
    rebuilt_size, rebuilt = append_to_tiles(0, {}, stored_leaves)
    for tile in sorted(set(rebuilt) | set(stored_tiles)):
        if rebuilt.get(tile) != stored_tiles.get(tile):
            problems.append(
                f"tree tile {tile.level}/{tile.index} altered: its hashes do not add up"
            )
    stored_root = root_at(TiledNodes(_MergedTiles(rebuilt)), rebuilt_size)
    if stored_root != head_root:
        problems.append(
            "the stored tree does not add up to the log head's root (tree or head altered)"
        )

    # 3. Checkpoints: signatures, and roots rebuilt from the entries themselves.
    entry_leaves = [h if h is not None else EMPTY_ROOT for h in recomputed]
    _, from_entries = append_to_tiles(0, {}, entry_leaves)
    entry_nodes = TiledNodes(_MergedTiles(from_entries))
    stored_nodes = TiledNodes(_MergedTiles(stored_tiles))
    previous: ArchiveCheckpoint | None = None
    vouched = 0  # entries below this size match a signed checkpoint
    for cp in sorted(repository.checkpoints(session), key=lambda c: c.size):
        report.checkpoints += 1
        if verifier is not None:
            try:
                signed = open_checkpoint(cp.note, verifier)
            except NoteError as exc:
                problems.append(f"checkpoint of size {cp.size}: {exc}")
                continue
            if signed.size != cp.size or signed.root_hash != bytes(cp.root):
                problems.append(
                    f"checkpoint of size {cp.size} altered: its row differs from its note"
                )
                continue
        if cp.size > size:
            problems.append(f"checkpoint of size {cp.size} is ahead of the log ({size} entries)")
            continue
        if root_at(entry_nodes, cp.size) != bytes(cp.root):
            problems.append(
                f"checkpoint of size {cp.size} does not match the entries: records before it"
                " were changed"
            )
        else:
            vouched = max(vouched, cp.size)
        if previous is not None and previous.size > 0:
            # Each checkpoint must extend the one before, proven from the stored tree.
            try:
                proof = prove_consistency(stored_nodes, previous.size, cp.size)
                verify_consistency(
                    previous.size, cp.size, proof, bytes(previous.root), bytes(cp.root)
                )
            except (InvalidProof, KeyError) as exc:
                problems.append(
                    f"checkpoint of size {cp.size} is not consistent with the checkpoint of size"
                    f" {previous.size}: {exc}"
                )
        previous = cp
    for seq in leaf_mismatches:
        if seq < vouched:
            problems.append(
                f"tree leaf #{seq} altered: entry #{seq} still matches the signed checkpoint"
            )
        else:
            problems.append(f"entry #{seq} altered: its content no longer matches the log's leaf")
    return report


def _check_source(
    entry: Any,
    record: LeafRecord,
    events: Mapping[int, AuditEvent],
    publications: Mapping[int, Publication],
    problems: list[str],
) -> None:
    assert entry.source_id is not None
    if entry.kind == "event":
        event = events.get(entry.source_id)
        if event is None:
            problems.append(f"audit event {entry.source_id} deleted (logged as entry #{entry.seq})")
            return
        content = event_content(event)
        label = f"audit event {entry.source_id}"
        moment = event.occurred_at
    else:
        publication = publications.get(entry.source_id)
        if publication is None:
            problems.append(f"publication {entry.source_id} deleted (logged as entry #{entry.seq})")
            return
        content = publication_content(publication)
        label = f"publication {entry.source_id}"
        moment = publication.published_at
    # the moment is part of the record: "existed unaltered at a date" (a backdated finding is named)
    if utc_iso(moment) != utc_iso(record.recorded_at):
        problems.append(f"{label} re-dated: its time differs from what entry #{entry.seq} logged")
    if utc_iso(entry.recorded_at) != utc_iso(record.recorded_at):
        problems.append(f"entry #{entry.seq} re-dated: its recorded time differs from its leaf")
    if entry.sealed:
        logged = json.loads(entry.sealed_content) if entry.sealed_content is not None else None
    else:
        logged = record.content
    if canonical_json(content) != canonical_json(logged):
        problems.append(f"{label} altered: it differs from what entry #{entry.seq} logged")
