"""What the tamper-evident archive keeps of a dispute, and its check (R-DSP-9).

Every action is an audit event, logged sealed (a salted commitment, ``steward.archive``). The
event of an action that files a document also carries the document's digest and its files'
(:func:`document_digest`), and a case that closes gets one more event, ``dispute:archived``,
with the closed record's fields (:func:`archived_record`). ``steward archive verify`` then re-reads
the disputes (:func:`verify_archived`) and names every document, file or closed case that no
longer matches what was logged, or is gone. A party proves a document's text by revealing the
entry (salt and content) and showing the text whose SHA-256 it holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from steward.disputes.models import DisputeAttachment, DisputeCase, DisputeDocument
from steward.events import AuditEvent

ARCHIVED_TAG = "dispute:archived"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_digest(doc: DisputeDocument, attachments: Iterable[DisputeAttachment]) -> dict[str, Any]:
    """A document as the archive commits to it: kind, case, the SHA-256 of its text and of each
    file's bytes (computed from the bytes, not read from the stored digest)."""
    return {
        "id": doc.id,
        "case": doc.case_id,
        "kind": doc.kind,
        "sha256": _sha256(doc.body),
        "attachments": [
            {"id": a.id, "filename": a.filename, "sha256": hashlib.sha256(a.data).hexdigest()}
            for a in sorted(attachments, key=lambda a: a.id)
        ],
    }


def _at(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def archived_record(row: DisputeCase) -> dict[str, Any]:
    """A closed case's record as the archive commits to it: never to change again (R-DSP-9)."""
    return {
        "id": row.id,
        "reference": row.reference,
        "title_sha256": _sha256(row.title),
        "complainant": row.complainant_org_id,
        "subject": row.subject,
        "tlds": list(row.tlds),
        "service_levels": list(row.service_levels),
        "what_happened_sha256": _sha256(row.what_happened),
        "negotiation_sha256": _sha256(row.negotiation),
        "stage": row.stage,
        "opened_at": _at(row.opened_at),
        "lodged_at": _at(row.lodged_at),
        "closed_at": _at(row.closed_at),
        "finding_at": _at(row.finding_at),
        "remedy_due": _at(row.remedy_due),
        "remedied_at": _at(row.remedied_at),
        "refusal": [row.refusal_rule, row.refusal_ground, row.refusal_reason],
        "withdrawal_sha256": _sha256(row.withdrawal_reason) if row.withdrawal_reason else None,
    }


def _document_label(doc_id: int, logged: Mapping[str, Any]) -> str:
    return f"dispute document {doc_id} ({logged.get('kind')}, case #{logged.get('case')})"


def verify_archived(session: Session, events: Mapping[int, AuditEvent]) -> list[str]:
    """The disputes' part of ``steward archive verify``: each document and closed case against
    the audit event that logged it. ``events`` are every audit event, by id (already checked
    against the log by the archive itself)."""
    documents: dict[int, tuple[int, dict[str, Any]]] = {}
    records: dict[int, tuple[int, dict[str, Any]]] = {}
    for event in events.values():
        if event.subject_type != "dispute" or not isinstance(event.data, dict):
            continue
        if isinstance(event.data.get("document"), dict):
            documents[int(event.data["document"]["id"])] = (event.id, event.data["document"])
        if event.tag == ARCHIVED_TAG and isinstance(event.data.get("record"), dict):
            records[int(event.data["record"]["id"])] = (event.id, event.data["record"])
    problems: list[str] = []
    if documents:
        seen: set[int] = set()
        # streamed in batches, files included: a large archive is not held in memory at once
        stream = session.scalars(
            select(DisputeDocument).options(selectinload(DisputeDocument.attachments))
            .order_by(DisputeDocument.id).execution_options(yield_per=200)
        )
        for doc in stream:
            if doc.id not in documents:
                continue
            seen.add(doc.id)
            event_id, logged = documents[doc.id]
            now = document_digest(doc, doc.attachments)
            changed = [k for k in ("case", "kind", "sha256", "attachments") if now[k] != logged.get(k)]
            if changed:
                problems.append(
                    f"{_document_label(doc.id, logged)} altered ({', '.join(changed)}): it differs "
                    f"from what audit event {event_id} recorded"
                )
            session.expunge(doc)
        for doc_id in sorted(set(documents) - seen):
            event_id, logged = documents[doc_id]
            problems.append(f"{_document_label(doc_id, logged)} deleted: audit event {event_id} recorded it")
    if records:
        cases = {
            c.id: c
            for c in session.scalars(select(DisputeCase).where(DisputeCase.closed_at.is_not(None)))
        }
        for case_id, (event_id, logged) in sorted(records.items()):
            case = cases.get(case_id)
            label = f"dispute {logged.get('reference')} (#{case_id})"
            if case is None:
                problems.append(f"{label} deleted or reopened: audit event {event_id} archived it")
                continue
            now_record = archived_record(case)
            changed = [k for k in now_record if now_record[k] != logged.get(k)]
            if changed:
                problems.append(
                    f"{label} altered after it was archived ({', '.join(changed)}): it differs "
                    f"from what audit event {event_id} recorded"
                )
    return problems
