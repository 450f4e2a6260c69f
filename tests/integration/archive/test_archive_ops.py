"""Operating the archive on SQLite and PostgreSQL: concurrent writers, the worker's periodic
checkpoint, `steward init` (key outside the database, backfill), rolled-back records (R-DSP-9)."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

import steward.archive.models  # noqa: F401  (registers the archive listener)
from steward import db as dbmod
from steward import worker
from steward.archive import repository, service
from steward.archive.keys import SIGNER_FILE, VERIFIER_FILE, key_dir, load_verifier
from steward.archive.setup import on_init
from steward.config import get_settings
from steward.events import record_event, record_publication


def test_concurrent_writers_get_distinct_positions_and_a_consistent_log(db_url: str) -> None:
    threads, per_thread = 6, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with dbmod.session_scope() as s:
                    record_event(s, "dispute:lodged", actor=None, subject_id=f"{n}-{i}", public=i % 2 == 0)
                    record_publication(s, "iap_finding", f"Finding {n}-{i}", f"/d/{n}", {}, actor=None)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    with dbmod.session_scope() as s:
        size, _ = repository.head(s)
        assert size == threads * per_thread * 2
        report = service.verify_log(s, None)
        assert report.ok, report.problems
    dbmod.get_engine().dispose()


def test_a_rolled_back_action_leaves_nothing_in_the_log(session: Session) -> None:
    record_event(session, "dispute:lodged", actor=None)
    session.rollback()
    record_event(session, "dispute:withdrawn", actor=None, public=True)
    session.commit()
    entries = repository.entries_page(session, 0, 10)
    assert len(entries) == 1 and '"dispute:withdrawn"' in entries[0].leaf
    assert service.verify_log(session, None).ok


def _record_in_a_refused_savepoint(session: Session) -> None:
    try:
        with session.begin_nested():
            record_event(session, "motion:voted", actor=None)
            raise RuntimeError("refused")
    except RuntimeError:
        pass


def test_a_record_inside_a_rolled_back_savepoint_is_not_logged(session: Session) -> None:
    _record_in_a_refused_savepoint(session)
    record_event(session, "motion:passed", actor=None, public=True)
    session.commit()
    entries = repository.entries_page(session, 0, 10)
    assert len(entries) == 1 and '"motion:passed"' in entries[0].leaf
    assert service.verify_log(session, None).ok


def test_a_record_made_before_a_rolled_back_savepoint_is_logged_R_DSP_9(session: Session) -> None:
    record_event(session, "dispute:lodged", actor=None, public=True)
    _record_in_a_refused_savepoint(session)
    session.commit()
    entries = repository.entries_page(session, 0, 10)
    assert len(entries) == 1 and '"dispute:lodged"' in entries[0].leaf
    assert service.verify_log(session, None).ok


def test_odd_but_storable_event_data_is_logged_and_verifies(session: Session) -> None:
    data: dict[str, object] = {"pair": (1, 2), "é": "ü", "n": 1.5}
    if session.get_bind().dialect.name == "sqlite":  # PostgreSQL's json type refuses NaN itself
        data.update(ratio=float("nan"), max=float("inf"))
    record_event(session, "sla:computed", actor=None, public=True, data=data)
    session.commit()
    session.expire_all()
    assert service.verify_log(session, None).ok


def test_the_worker_signs_a_checkpoint_when_the_log_grew(db_url: str) -> None:
    on_init(get_settings())
    with dbmod.session_scope() as s:
        record_event(s, "report:published", actor=None, public=True)
    ran = worker.run_once()
    assert "archive-checkpoint" in ran["tasks"]
    with dbmod.session_scope() as s:
        checkpoint = repository.latest_checkpoint(s)
        assert checkpoint is not None and checkpoint.size == repository.head(s)[0]
        assert service.verify_log(s, load_verifier(get_settings())).ok
    dbmod.get_engine().dispose()


def test_init_keeps_the_key_outside_the_database_private_and_stable(db_url: str) -> None:
    settings = get_settings()
    on_init(settings)
    folder = key_dir(settings)
    secret = folder / SIGNER_FILE
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    first = (folder / VERIFIER_FILE).read_text()
    on_init(settings)
    assert (folder / VERIFIER_FILE).read_text() == first
    assert str(settings.data_dir) in str(secret) and "PRIVATE+KEY+" in secret.read_text()
    with dbmod.session_scope() as s:
        for table in ("archive_entry", "archive_checkpoint", "archive_head"):
            rows = s.execute(text(f"SELECT * FROM {table}")).fetchall()
            assert all("PRIVATE+KEY" not in str(row) for row in rows)
    dbmod.get_engine().dispose()


def test_init_logs_records_made_before_the_archive_existed(session: Session) -> None:
    record_event(session, "account:created", actor=None)
    record_publication(session, "charter", "Charter v1", "/governance", {}, actor=None)
    session.info.clear()  # as if the archive had not been listening yet
    session.commit()
    assert repository.head(session)[0] == 0
    assert not service.verify_log(session, None).ok
    session.close()
    on_init(get_settings())
    with dbmod.session_scope() as s:
        assert repository.head(s)[0] == 2
        assert service.verify_log(s, None).ok
        assert service.backfill(s) == 0
    dbmod.get_engine().dispose()


def test_checkpoints_of_a_growing_log_are_each_consistent_with_the_last(session: Session) -> None:
    on_init(get_settings())
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    for batch in range(4):
        for _ in range(batch + 3):
            record_event(session, "report:published", actor=None, public=True)
        service.sign_checkpoint(session, now)
        session.commit()
    report = service.verify_log(session, load_verifier(get_settings()))
    assert report.ok and report.checkpoints == 4
