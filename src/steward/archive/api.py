"""Public API of the tamper-evident archive: key, checkpoints, entries, proofs."""

from __future__ import annotations

from fastapi import Path, Query
from fastapi.responses import PlainTextResponse

from steward.accounts.principal import Principal
from steward.archive import repository, service
from steward.archive.checkpoint import NoteError
from steward.archive.keys import load_verifier
from steward.archive.models import ArchiveCheckpoint
from steward.archive.schemas import (
    CheckpointOut,
    ConsistencyProofOut,
    EntryOut,
    EntryPage,
    InclusionProofOut,
    KeyOut,
    RevealIn,
    RevealOut,
    TreeOut,
)
from steward.authz import Permission
from steward.config import get_settings
from steward.errors import NotFound
from steward.web import DbSession, Router, require

router = Router(prefix="/api/v1/archive", tags=["archive"])

# Sizes and positions fit a signed 64-bit column; larger numbers are refused, not overflowed.
MAX = 2**62


def checkpoint_out(cp: ArchiveCheckpoint) -> CheckpointOut:
    return CheckpointOut(
        size=cp.size, root=service.b64(bytes(cp.root)), signed_at=cp.signed_at, note=cp.note
    )


@router.get("/key", response_model=KeyOut)
def key() -> KeyOut:
    """The log's public key: pin it, then check every checkpoint with it."""
    try:
        verifier = load_verifier(get_settings())
    except NoteError as exc:
        raise NotFound(str(exc)) from None
    return KeyOut(
        name=verifier.name, key_id=verifier.key_id.hex(), verifier_key=verifier.key_text()
    )


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint_note(db: DbSession) -> PlainTextResponse:
    """The latest signed checkpoint as a C2SP signed note (text/plain), for transparency tooling."""
    return PlainTextResponse(service.latest_checkpoint(db).note)


@router.get("/checkpoints/latest", response_model=CheckpointOut)
def latest(db: DbSession) -> CheckpointOut:
    """The latest signed checkpoint."""
    return checkpoint_out(service.latest_checkpoint(db))


@router.get("/checkpoints", response_model=list[CheckpointOut])
def checkpoints(db: DbSession, limit: int = Query(100, ge=1, le=1000)) -> list[CheckpointOut]:
    """Signed checkpoints, newest first."""
    return [checkpoint_out(cp) for cp in repository.checkpoints(db, limit)]


@router.post("/checkpoints", response_model=CheckpointOut, status_code=201)
def sign(
    db: DbSession, principal: Principal = require(Permission.ARCHIVE_CHECKPOINT)
) -> CheckpointOut:
    """Sign a checkpoint of the log now (returns the existing one if the size is already signed)."""
    return checkpoint_out(service.sign_checkpoint(db, principal=principal))


@router.get("/tree", response_model=TreeOut)
def tree(db: DbSession, size: int | None = Query(None, ge=0, le=MAX)) -> TreeOut:
    """The root of the tree at ``size`` (default: the current size; unsigned)."""
    tree_size, root = service.tree_root(db, size)
    return TreeOut(size=tree_size, root=service.b64(root))


@router.get("/entries", response_model=EntryPage)
def entries(
    db: DbSession, start: int = Query(0, ge=0, le=MAX), limit: int = Query(100, ge=1, le=1000)
) -> EntryPage:
    """Entries in log order from ``start``: public ones in full, sealed ones as commitments."""
    size, _ = repository.head(db)
    rows = repository.entries_page(db, start, limit)
    return EntryPage(size=size, items=[EntryOut(**service.entry_view(e)) for e in rows])


@router.get("/entries/{seq}", response_model=EntryOut)
def entry(db: DbSession, seq: int = Path(ge=0, le=MAX)) -> EntryOut:
    """One entry."""
    return EntryOut(**service.entry_view(service.get_entry(db, seq)))


@router.get("/proof/inclusion", response_model=InclusionProofOut)
def inclusion(
    db: DbSession,
    index: int = Query(..., ge=0, le=MAX, description="Leaf index (the entry's seq)"),
    size: int | None = Query(
        None, ge=1, description="Tree size (default: current; use a checkpoint's)"
    ),
) -> InclusionProofOut:
    """Inclusion proof (RFC 9162 §2.1.3); save it and run `steward archive check-proof`."""
    return InclusionProofOut(**service.inclusion_proof(db, index, size))


@router.get("/proof/consistency", response_model=ConsistencyProofOut)
def consistency(
    db: DbSession,
    size1: int = Query(..., ge=0, le=MAX),
    size2: int | None = Query(None, ge=0, le=MAX, description="default: current size"),
) -> ConsistencyProofOut:
    """Consistency proof between two tree sizes (RFC 9162 §2.1.4)."""
    return ConsistencyProofOut(**service.consistency_proof(db, size1, size2))


@router.post("/entries/{seq}/reveal", response_model=RevealOut)
def check_reveal(body: RevealIn, db: DbSession, seq: int = Path(ge=0, le=MAX)) -> RevealOut:
    """Check a revealed salt and content against a sealed entry's commitment (learns nothing else)."""
    return RevealOut(seq=seq, valid=service.check_reveal(db, seq, body.salt, body.content))
