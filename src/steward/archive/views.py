"""Pages of the tamper-evident archive: checkpoint, key, entries, proofs."""

from __future__ import annotations

import json

from fastapi import Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from steward.accounts.principal import Principal
from steward.archive import repository, service
from steward.archive.checkpoint import NoteError
from steward.archive.keys import load_verifier
from steward.authz import Permission
from steward.config import get_settings
from steward.db import utcnow
from steward.web import CurrentPrincipal, DbSession, Router, render, require

router = Router(include_in_schema=False)

NAV = [("Archive", "/archive", None)]
PAGE = 50


def _verifier_text() -> str | None:
    try:
        return load_verifier(get_settings()).key_text()
    except NoteError:
        return None


def _summary(view: dict[str, object]) -> str:
    doc = view["document"]
    assert isinstance(doc, dict)
    if view["sealed"]:
        return "Sealed record (confidential; only its commitment is public)"
    content = doc.get("content") or {}
    if view["kind"] == "publication":
        return f"Published: {content.get('title', '')}"
    return f"{content.get('tag', '')} {content.get('subject_type', '')} {content.get('subject_id', '')}".strip()


@router.get("/archive")
def index(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    before: int | None = Query(None, ge=0, le=2**62),
) -> Response:
    size, root = repository.head(db)
    rows = [service.entry_view(e) for e in repository.entries_desc(db, PAGE, before)]
    for row in rows:
        row["summary"] = _summary(row)
    return render(
        request,
        "archive/index.html",
        {
            "size": size,
            "root": service.b64(root),
            "checkpoint": repository.latest_checkpoint(db),
            "verifier": _verifier_text(),
            "entries": rows,
            "base_url": get_settings().base_url,
            "older": rows[-1]["seq"] if rows and rows[-1]["seq"] > 0 else None,
            "can_sign": principal.has(Permission.ARCHIVE_CHECKPOINT),
        },
    )


@router.post("/archive/checkpoints")
def sign(db: DbSession, principal: Principal = require(Permission.ARCHIVE_CHECKPOINT)) -> Response:
    service.sign_checkpoint(db, utcnow(), principal)
    return RedirectResponse("/archive", status_code=303)


@router.get("/archive/entries/{seq}")
def entry(
    request: Request, db: DbSession, principal: CurrentPrincipal, seq: int = Path(ge=0, le=2**62)
) -> Response:
    view = service.entry_view(service.get_entry(db, seq))
    checkpoint = repository.latest_checkpoint(db)
    size = (
        checkpoint.size
        if checkpoint is not None and checkpoint.size > seq
        else repository.head(db)[0]
    )
    proof = service.inclusion_proof(db, seq, size)
    return render(
        request,
        "archive/entry.html",
        {
            "entry": view,
            "document": json.dumps(view["document"], indent=2, ensure_ascii=False),
            "proof": proof,
            "proof_json": json.dumps(proof, indent=2),
            "signed": checkpoint is not None and checkpoint.size == size,
            "checkpoint": checkpoint,
            "summary": _summary(view),
        },
    )


@router.get("/archive/consistency")
def consistency(
    request: Request, db: DbSession, principal: CurrentPrincipal,
    size1: int = Query(..., ge=0, le=2**62), size2: int | None = Query(None, ge=0, le=2**62),
) -> Response:
    proof = service.consistency_proof(db, size1, size2)
    return render(request, "archive/consistency.html", {
        "proof": proof, "proof_json": json.dumps(proof, indent=2),
        "signed1": repository.checkpoint_at(db, proof["size1"]) is not None,
        "signed2": repository.checkpoint_at(db, proof["size2"]) is not None,
    })
