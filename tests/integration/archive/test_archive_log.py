"""The archive log on SQLite and PostgreSQL: every event and publication is logged (R-DSP-9),
sealed unless public (R-DSP-7), provable, checkpointed; tampering is named by `verify`."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import steward.archive.models  # noqa: F401  (registers the archive listener)
from steward import db as dbmod
from steward.archive import repository, service
from steward.archive.checkpoint import open_checkpoint
from steward.archive.keys import ensure_key, load_verifier
from steward.archive.merkle import check_proof_document, leaf_hash
from steward.archive.tiles import append_to_tiles
from steward.config import get_settings
from steward.errors import Conflict, Invalid
from steward.events import record_event, record_publication

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def fill(session: Session, n: int = 12) -> None:
    """Public and confidential events and publications, as the other contexts record them."""
    for i in range(n):
        if i % 4 == 3:
            record_publication(
                session,
                "iap_finding",
                f"IAP finding {i}",
                f"/disputes/{i}",
                {"finding": "breach capable of remedy", "remedy_days": 30},
                actor=None,
                summary="30 days",
            )
        else:
            record_event(
                session,
                "dispute:lodged" if i % 2 else "report:published",
                actor=None,
                subject_type="dispute",
                subject_id=i,
                data={"note": f"confidential {i}", "n": i},
                public=i % 2 == 0,
            )
    session.commit()


@pytest.fixture
def key() -> None:
    ensure_key(get_settings())


def test_every_event_and_publication_enters_the_log_R_DSP_9(session: Session) -> None:
    fill(session)
    size, root = repository.head(session)
    assert size == 12
    assert service.tree_root(session)[1] == root
    entries = repository.entries_page(session, 0, 100)
    assert [e.seq for e in entries] == list(range(12))
    kinds = [(e.kind, e.sealed) for e in entries]
    assert kinds[3] == ("publication", False)
    assert kinds[0] == ("event", False) and kinds[1] == ("event", True)


def test_sealed_entries_hide_content_but_reveal_opens_them_R_DSP_7(session: Session) -> None:
    fill(session, 2)
    sealed = service.entry_view(service.get_entry(session, 1))
    assert sealed["sealed"] and "confidential" not in sealed["leaf"]
    assert "confidential 0" in service.entry_view(service.get_entry(session, 0))["leaf"]
    revealed = service.reveal(session, 1)
    assert revealed["content"]["data"]["note"] == "confidential 1"
    assert service.check_reveal(session, 1, revealed["salt"], revealed["content"])
    tampered = dict(revealed["content"], tag="dispute:withdrawn")
    assert not service.check_reveal(session, 1, revealed["salt"], tampered)


def test_proofs_from_the_database_verify_with_the_proof_file_checker(session: Session) -> None:
    fill(session, 37)
    for index in (0, 5, 17, 36):
        doc = service.inclusion_proof(session, index, 37)
        assert check_proof_document(doc).valid, doc
        assert doc["leafHash"] == service.entry_view(service.get_entry(session, index))["leaf_hash"]
    for size1 in (0, 1, 8, 20, 37):
        assert check_proof_document(service.consistency_proof(session, size1, 37)).valid


def test_bad_proof_requests_name_the_field(session: Session) -> None:
    fill(session, 3)
    with pytest.raises(Invalid) as err:
        service.inclusion_proof(session, 3, 3)
    assert err.value.field == "leafIdx"
    with pytest.raises(Invalid) as err:
        service.consistency_proof(session, 2, 9)
    assert err.value.field == "size2"


def test_checkpoints_are_signed_once_per_size_and_verify(session: Session, key: None) -> None:
    fill(session, 5)
    first = service.sign_checkpoint(session, NOW)
    assert service.sign_checkpoint(session, NOW).id == first.id
    session.commit()
    assert service.checkpoint_task(session, NOW) == "no new entries (size 5)"
    fill(session, 3)
    assert service.checkpoint_task(session, NOW) == "signed checkpoint of size 8"
    session.commit()
    verifier = load_verifier(get_settings())
    cp = open_checkpoint(repository.latest_checkpoint(session).note, verifier)
    assert (cp.size, cp.root_hash) == repository.head(session)
    assert service.verify_log(session, verifier).ok


def test_signing_without_a_key_explains_what_to_do(session: Session) -> None:
    fill(session, 1)
    with pytest.raises(Invalid, match="steward init"):
        service.sign_checkpoint(session, NOW)
    assert service.checkpoint_task(session, NOW).startswith("not signed")


def _exec(session: Session, *statements: str) -> None:
    for statement in statements:
        session.execute(text(statement))
    session.commit()


def _verify(session: Session) -> list[str]:
    session.expire_all()
    return service.verify_log(session, load_verifier(get_settings())).problems


@pytest.fixture
def logged(session: Session, key: None) -> Session:
    fill(session, 12)
    service.sign_checkpoint(session, NOW)
    session.commit()
    assert _verify(session) == []
    return session


def test_tamper_change_an_entry_is_named(logged: Session) -> None:
    row = logged.execute(text("SELECT leaf FROM archive_entry WHERE seq = 4")).scalar_one()
    forged = row.replace('"n":4', '"n":40')
    assert forged != row
    logged.execute(text("UPDATE archive_entry SET leaf = :l WHERE seq = 4"), {"l": forged})
    logged.commit()
    problems = _verify(logged)
    assert "entry #4 altered: its content no longer matches the log's leaf" in problems
    assert any("audit event" in p and "entry #4" in p for p in problems)


def test_tamper_change_an_audit_event_row_is_named(logged: Session) -> None:
    event_id = logged.execute(
        text("SELECT source_id FROM archive_entry WHERE seq = 2")
    ).scalar_one()
    _exec(logged, f"UPDATE audit_event SET tag = 'report:retracted' WHERE id = {event_id}")
    assert _verify(logged) == [
        f"audit event {event_id} altered: it differs from what entry #2 logged"
    ]


def test_tamper_redating_a_record_is_named(logged: Session) -> None:
    """"Existed unaltered at a date": the time is part of the record, so a backdated event or
    publication (the portal shows a publication's date) is named, as is a re-dated entry row."""
    event_id = logged.execute(text("SELECT source_id FROM archive_entry WHERE seq = 2")).scalar_one()
    pub_id = logged.execute(text("SELECT source_id FROM archive_entry WHERE seq = 3")).scalar_one()
    logged.execute(text("UPDATE audit_event SET occurred_at = :t WHERE id = :i"),
                   {"t": datetime(2001, 1, 1, tzinfo=UTC), "i": event_id})
    logged.execute(text("UPDATE publication SET published_at = :t WHERE id = :i"),
                   {"t": datetime(2001, 1, 1, tzinfo=UTC), "i": pub_id})
    logged.execute(text("UPDATE archive_entry SET recorded_at = :t WHERE seq = 5"),
                   {"t": datetime(2001, 1, 1, tzinfo=UTC)})
    logged.commit()
    assert sorted(_verify(logged)) == sorted([
        f"audit event {event_id} re-dated: its time differs from what entry #2 logged",
        f"publication {pub_id} re-dated: its time differs from what entry #3 logged",
        "entry #5 re-dated: its recorded time differs from its leaf",
    ])


def test_tamper_change_sealed_content_is_named(logged: Session) -> None:
    _exec(logged, "UPDATE archive_entry SET sealed_content = '{}' WHERE seq = 1")
    problems = _verify(logged)
    assert "entry #1 altered: its sealed content or salt was changed" in problems


def test_tamper_delete_is_named(logged: Session) -> None:
    _exec(logged, "DELETE FROM archive_entry WHERE seq = 6")
    problems = _verify(logged)
    assert "entry #6 deleted: the log has a leaf there but no entry row" in problems
    # its audit event is still there, now without a log entry
    assert any(p.startswith("audit event") and "not in the log" in p for p in problems), problems


def test_tamper_delete_the_last_entries_is_named(logged: Session) -> None:
    _exec(logged, "DELETE FROM archive_entry WHERE seq >= 10")
    assert "entry #10–#11 deleted: the log has a leaf there but no entry row" in _verify(logged)


def test_tamper_reorder_is_named(logged: Session) -> None:
    _exec(
        logged,
        "UPDATE archive_entry SET seq = 1000 WHERE seq = 2",
        "UPDATE archive_entry SET seq = 2 WHERE seq = 5",
        "UPDATE archive_entry SET seq = 5 WHERE seq = 1000",
    )
    problems = _verify(logged)
    assert "entry #2 moved: it holds the record logged at #5 (reordered)" in problems
    assert "entry #5 moved: it holds the record logged at #2 (reordered)" in problems


def test_tamper_insert_is_named(logged: Session) -> None:
    leaf = json.dumps(
        {"v": 1, "seq": 12, "kind": "event", "at": "2026-01-01T00:00:00.000000Z", "content": {}}
    )
    logged.execute(
        text(
            "INSERT INTO archive_entry (seq, kind, source_id, recorded_at, sealed, leaf)"
            " VALUES (12, 'event', NULL, :at, false, :leaf)"
        ),
        {"at": datetime(2026, 1, 1), "leaf": leaf},
    )
    logged.execute(
        text(
            "INSERT INTO audit_event (occurred_at, actor_label, tag, subject_type, subject_id, data, public)"
            " VALUES (:at, 'system', 'dispute:withdrawn', 'dispute', '1', '{}', true)"
        ),
        {"at": datetime(2026, 1, 1)},
    )
    logged.commit()
    problems = _verify(logged)
    assert "entry #12 inserted: the log has only 12 leaves" in problems
    assert any(
        p.startswith("audit event") and p.endswith("inserted: it is not in the log")
        for p in problems
    )


def test_tamper_rewriting_history_consistently_is_caught_by_the_signed_checkpoint(
    logged: Session,
) -> None:
    """An administrator rewrites an entry AND recomputes the tree and head: the key is not theirs."""
    leaf = logged.execute(text("SELECT leaf FROM archive_entry WHERE seq = 0")).scalar_one()
    forged = leaf.replace('"n":0', '"n":99')
    leaves = [leaf_hash(forged.encode())] + [
        leaf_hash(row.encode())
        for row in logged.execute(
            text("SELECT leaf FROM archive_entry WHERE seq > 0 ORDER BY seq")
        ).scalars()
    ]
    _, tiles = append_to_tiles(0, {}, leaves)
    logged.execute(text("UPDATE archive_entry SET leaf = :l WHERE seq = 0"), {"l": forged})
    for tile, blob in tiles.items():
        logged.execute(
            text("UPDATE archive_tile SET hashes = :h WHERE level = :lv AND idx = :ix"),
            {"h": blob, "lv": tile.level, "ix": tile.index},
        )
    logged.execute(text("UPDATE archive_head SET root = :r"), {"r": service.tree_root(logged)[1]})
    logged.commit()
    problems = _verify(logged)
    assert (
        "checkpoint of size 12 does not match the entries: records before it were changed"
        in problems
    )
    # and the log refuses to sign the rewritten tree
    record_event(logged, "report:published", actor=None, public=True)
    with pytest.raises(Conflict, match="does not extend the checkpoint"):
        service.sign_checkpoint(logged, NOW)


def test_tamper_with_the_tree_is_told_apart_from_tampering_with_entries(logged: Session) -> None:
    blob = logged.execute(text("SELECT hashes FROM archive_tile WHERE level = 0 AND idx = 0")).scalar_one()
    forged = bytearray(blob)
    forged[4 * 32] ^= 1  # leaf #3 sits at post-order position 4 of tile 0 (0, 1, node, 2, 3)
    logged.execute(text("UPDATE archive_tile SET hashes = :h WHERE level = 0 AND idx = 0"), {"h": bytes(forged)})
    logged.commit()
    problems = _verify(logged)
    assert "tree leaf #3 altered: entry #3 still matches the signed checkpoint" in problems
    assert "tree tile 0/0 altered: its hashes do not add up" in problems
    assert not any(p.startswith("entry #") for p in problems)


def test_tamper_checkpoint_row_is_named(logged: Session) -> None:
    _exec(logged, "UPDATE archive_checkpoint SET note = replace(note, '\n12\n', '\n13\n')")
    assert any(p.startswith("checkpoint of size 12") for p in _verify(logged))


def test_restore_from_backup_verifies_with_the_same_root(
    logged: Session, db_url: str, tmp_path: Path
) -> None:
    size, root = repository.head(logged)
    if db_url.startswith("sqlite"):
        source = sqlite3.connect(db_url.split("///", 1)[1])
        backup_path = tmp_path / "backup.db"
        target = sqlite3.connect(backup_path)
        source.backup(target)
        source.close()
        target.close()
        restored_url = f"sqlite:///{backup_path}"
    else:
        restored_url = db_url.rsplit("/", 1)[0] + "/restored_" + db_url.rsplit("/", 1)[1]
        admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        logged.close()
        dbmod.get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(
                text(
                    f'CREATE DATABASE "{restored_url.rsplit("/", 1)[1]}" TEMPLATE "{db_url.rsplit("/", 1)[1]}"'
                )
            )
        admin.dispose()
    engine = dbmod.make_engine(restored_url)
    try:
        with Session(engine) as restored:
            report = service.verify_log(restored, load_verifier(get_settings()))
            assert report.ok, report.problems
            assert (report.size, report.root) == (size, root)
    finally:
        engine.dispose()
        if not db_url.startswith("sqlite"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{restored_url.rsplit("/", 1)[1]}"'))
            admin.dispose()


def test_verify_tells_its_progress_over_the_entries(session: Session, key: None) -> None:
    fill(session, 450)
    calls: list[tuple[int, int]] = []
    report = service.verify_log(session, load_verifier(get_settings()), progress=lambda d, t: calls.append((d, t)))
    assert report.ok and report.entries == 450
    assert calls == [(200, 450), (400, 450), (450, 450)]
