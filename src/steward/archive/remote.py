"""``steward archive verify --remote URL``: check a running Steward from outside.

Like a transparency-log monitor: pin the log's public key on first sight, check every
new checkpoint's signature with it, prove that the new tree extends the last one seen
(a consistency proof checked against the *remembered* root, never against what the
server says it was), and optionally recompute the root from every published entry.
The state (pinned key, last checkpoint) is a small JSON file kept between runs.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.archive.checkpoint import NoteError, NoteVerifier, open_checkpoint
from steward.archive.domain import EncodingError, parse_leaf_document
from steward.archive.merkle import CompactRange, InvalidProof, leaf_hash, verify_consistency

Fetch = Callable[[str], tuple[int, bytes]]
PAGE = 1000


def http_fetch(url: str) -> tuple[int, bytes]:
    """GET ``url`` (stdlib only: an auditor's machine needs nothing but Steward's CLI)."""
    if not url.startswith(("http://", "https://")):
        raise OSError(f"only http:// and https:// URLs are supported, not {url!r}")
    request = urllib.request.Request(url, headers={"accept": "application/json, text/plain"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


@dataclass
class RemoteReport:
    """The outcome of one remote check."""

    size: int = 0
    root: str = ""
    previous_size: int | None = None
    entries_checked: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the log checked out."""
        return not self.problems


class _Failed(Exception):
    pass


def _get(fetch: Fetch, url: str) -> bytes:
    try:
        status, body = fetch(url)
    except OSError as exc:
        raise _Failed(f"cannot reach {url}: {exc}") from exc
    if status != 200:
        raise _Failed(f"{url} answered HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
    return body


def _get_json(fetch: Fetch, url: str) -> Any:
    try:
        return json.loads(_get(fetch, url))
    except json.JSONDecodeError as exc:
        raise _Failed(f"{url} did not return JSON: {exc}") from exc


def verify_remote(
    base_url: str, state_path: Path, fetch: Fetch = http_fetch, check_entries: bool = False
) -> RemoteReport:
    """Check the log at ``base_url`` against the state remembered in ``state_path``.

    The state is updated only when everything checks out, so a failed run can be
    repeated and still compares against the last good checkpoint.
    """
    report = RemoteReport()
    api = base_url.rstrip("/") + "/api/v1/archive"
    state: dict[str, Any] = {}
    if state_path.exists():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            report.problems.append(f"cannot read the state file {state_path}: {exc}")
            return report
    try:
        key = _get_json(fetch, f"{api}/key")
        served_key = str(key.get("verifier_key", ""))
        pinned = state.get("verifier_key")
        if pinned and pinned != served_key:
            report.problems.append(
                f"the log's public key changed: pinned {pinned}, now served {served_key}"
            )
            return report
        if not pinned:
            report.notes.append(f"pinned the log's public key {served_key} (first run)")
        verifier = NoteVerifier.from_key_text(pinned or served_key)
        note = _get(fetch, f"{api}/checkpoint").decode("utf-8")
        checkpoint = open_checkpoint(note, verifier)
        report.size, report.root = checkpoint.size, base64.b64encode(checkpoint.root_hash).decode()
        old_size, old_root = state.get("size"), state.get("root")
        if old_size is not None and old_root is not None:
            report.previous_size = int(old_size)
            if checkpoint.size < old_size:
                raise _Failed(
                    f"the log shrank: it signed {old_size} entries before, now {checkpoint.size}"
                )
            proof_doc = _get_json(
                fetch, f"{api}/proof/consistency?size1={old_size}&size2={checkpoint.size}"
            )
            proof = [base64.b64decode(p) for p in proof_doc.get("proof") or []]
            verify_consistency(
                int(old_size),
                checkpoint.size,
                proof,
                base64.b64decode(old_root),
                checkpoint.root_hash,
            )
            report.notes.append(
                f"the log of {checkpoint.size} entries extends the one of {old_size} seen before"
            )
        if check_entries:
            _check_entries(fetch, api, checkpoint.size, checkpoint.root_hash, report)
    except (_Failed, InvalidProof, NoteError) as exc:
        report.problems.append(str(exc))
        return report
    if report.ok:
        state.update(
            {
                "url": base_url,
                "verifier_key": pinned or served_key,
                "size": checkpoint.size,
                "root": report.root,
                "note": note,
            }
        )
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return report


def _check_entries(fetch: Fetch, api: str, size: int, root: bytes, report: RemoteReport) -> None:
    """Recompute the checkpoint's root from every published leaf document."""
    tree = CompactRange()
    start = 0
    while start < size:
        page = _get_json(fetch, f"{api}/entries?start={start}&limit={PAGE}")
        items = page.get("items") or []
        if not items:
            raise _Failed(f"the log serves no entry #{start} but signed {size}")
        for item in items:
            seq = int(item["seq"])
            if seq >= size:
                break
            if seq != tree.size:
                raise _Failed(f"entry #{tree.size} is missing from the published entries")
            leaf = str(item["leaf"]).encode("utf-8")
            try:
                record = parse_leaf_document(json.loads(leaf))
            except (ValueError, EncodingError) as exc:
                raise _Failed(f"entry #{seq} is not a log document: {exc}") from exc
            if record.seq != seq:
                raise _Failed(f"entry #{seq} holds the record of #{record.seq}")
            tree.append(leaf_hash(leaf))
        start = tree.size
    if tree.root() != root:
        raise _Failed(f"the published entries do not hash to the signed root of {size} entries")
    report.entries_checked = tree.size
    report.notes.append(f"recomputed the signed root from all {tree.size} published entries")
