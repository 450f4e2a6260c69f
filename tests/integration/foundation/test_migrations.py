"""One Alembic history for SQLite and PostgreSQL: it builds exactly the models' schema, and an
upgrade keeps every row."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from steward.config import get_settings
from steward.db import Base, make_engine, utcnow
from steward.migrate import on_backend, upgrade
from tests.conftest import _drop_pg_database


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": False, "include_object": on_backend(conn.dialect.name)})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return diff


def test_migrations_build_the_models_schema_on_sqlite(tmp_path, configure):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    configure(url)
    upgrade()
    assert _diff(url) == []


@pytest.mark.postgres
def test_migrations_build_the_models_schema_on_postgresql(pg_template, configure):
    name = f"m_{uuid.uuid4().hex[:10]}"
    with pg_template["admin"].connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{pg_template['base']}/{name}"
    configure(url)
    try:
        upgrade()
        assert _diff(url) == []
        # what Alembic does not compare: the operator class that lets a prefix LIKE use the index
        engine = make_engine(url)
        with engine.connect() as conn:
            indexdef = conn.execute(text("SELECT indexdef FROM pg_indexes "
                                         "WHERE indexname = 'ix_dispute_case_reference_prefix'")).scalar_one()
        engine.dispose()
        assert "text_pattern_ops" in indexdef
    finally:
        _drop_pg_database(pg_template, url)


def test_init_twice_keeps_data(tmp_path, configure):
    url = f"sqlite:///{tmp_path / 'keep.db'}"
    configure(url)
    upgrade()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO registry_organisation (name, slug, kind, description, affiliated_with_ifm, created_at) "
                          "VALUES ('Keep Me', 'keep-me', 'operator', '', false, '2026-01-01 00:00:00')"))
    upgrade(get_settings())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM registry_organisation")).scalar_one() == "Keep Me"
    engine.dispose()


def test_urgent_reviews_already_in_mediation_keep_their_mediators_R_SYS_2(tmp_path, configure):
    """Migration 1020 engages mediators and panelists per urgent review; a review that had already
    reached mediation (or the IAP) engages every active mediator (or panelist), who saw it before."""
    from alembic import command
    from sqlalchemy.orm import Session

    from steward.accounts.models import User, UserRole
    from steward.migrate import alembic_config
    from steward.systemic.models import Review, Signal

    url = f"sqlite:///{tmp_path / 'r.db'}"
    configure(url)
    command.upgrade(alembic_config(url), "1010")
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        people = {}
        for email, role, active in (("m@x", "mediator", True), ("gone@x", "mediator", False),
                                    ("p@x", "iap_panelist", True), ("c@x", "dug_chair", True)):
            user = User(email=email, name=email, password_hash="-", active=active)
            user.roles = [UserRole(role=role)]
            s.add(user)
            s.flush()
            people[email] = user.id
        signal = Signal(kind="proposal", key="proposal:1", summary="Delays", observed_at=utcnow())
        s.add(signal)
        s.flush()
        reviews = {}
        for stage, report in (("long_term", ""), ("mediation", "Two attempts failed."), ("iap", "Failed."),
                              ("closed", "Mediated in the end.")):
            review = Review(title=stage, signal_id=signal.id, stage=stage, previous_attempts_report=report)
            s.add(review)
            s.flush()
            reviews[stage] = review.id
    upgrade(get_settings())
    with engine.connect() as conn:
        rows = set(conn.execute(text("SELECT review_id, user_id, role FROM systemic_participant")).all())
    engine.dispose()
    m, p = people["m@x"], people["p@x"]
    assert rows == {(reviews["mediation"], m, "mediator"), (reviews["iap"], m, "mediator"),
                    (reviews["iap"], p, "panelist"), (reviews["closed"], m, "mediator")}


def test_open_motions_on_a_review_take_its_parties_R_DUG_3(tmp_path, configure):
    """Migration 1030: a motion still open on an urgent review takes the review's operator concerned
    and the IFM as parties and becomes confidential; a decided one stays as it was decided."""
    from alembic import command
    from sqlalchemy.orm import Session

    from steward.governance.models import DugMotion
    from steward.migrate import alembic_config
    from steward.registry.models import Organisation
    from steward.systemic.models import Review, Signal

    url = f"sqlite:///{tmp_path / 'p.db'}"
    configure(url)
    command.upgrade(alembic_config(url), "1020")
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        ifm = Organisation(name="PTI", slug="pti", kind="ifm")
        denic = Organisation(name="DENIC eG", slug="denic", kind="operator")
        s.add_all([ifm, denic])
        s.flush()
        signal = Signal(kind="proposal", key="proposal:1", summary="Delays", observed_at=utcnow())
        s.add(signal)
        s.flush()
        review = Review(title="Delays", signal_id=signal.id, stage="long_term", operator_org_id=denic.id)
        s.add(review)
        s.flush()
        still_open = DugMotion(kind="engage_mediator", title="Mediate", text="x", subject_type="urgent_review",
                               subject_id=str(review.id), state="open")
        decided = DugMotion(kind="appoint_experts", title="Experts", text="x", subject_type="urgent_review",
                            subject_id=str(review.id), state="passed")
        s.add_all([still_open, decided])
        s.flush()
        ids = (still_open.id, decided.id, ifm.id, denic.id)
    upgrade(get_settings())
    with engine.connect() as conn:
        parties = set(conn.execute(text("SELECT motion_id, organisation_id FROM governance_motion_party")).all())
        confidential = dict(conn.execute(text("SELECT id, confidential FROM governance_motion")).all())
    engine.dispose()
    open_id, decided_id, ifm_id, denic_id = ids
    assert parties == {(open_id, ifm_id), (open_id, denic_id)}
    assert bool(confidential[open_id]) and not confidential[decided_id]


def test_an_audit_published_while_a_review_runs_informs_it_R_AUD_2(tmp_path, configure):
    """Migration 1040: a review still running gets the audits published since its convening that
    no review has considered; a closed review and an audit already considered stay as they were."""
    from datetime import date

    from alembic import command
    from sqlalchemy.orm import Session

    from steward.audits.models import PeriodicAudit
    from steward.migrate import alembic_config
    from steward.registry.models import Organisation
    from steward.reviews.models import IprtReview, IprtReviewAudit

    url = f"sqlite:///{tmp_path / 'a.db'}"
    configure(url)
    command.upgrade(alembic_config(url), "1030")
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        firm = Organisation(name="Audit Firm", slug="audit-firm", kind="audit_firm")
        s.add(firm)
        s.flush()

        def audit(cycle: int, published: date | None) -> PeriodicAudit:
            a = PeriodicAudit(cycle=cycle, due_on=date(2016 + 3 * cycle, 10, 1), firm_id=firm.id,
                              declaration="independent", declared_on=date(2019, 1, 1),
                              commissioned_on=date(2019, 1, 1), published_on=published)
            s.add(a)
            return a

        considered, later, unpublished = audit(1, date(2019, 9, 1)), audit(2, date(2023, 11, 1)), audit(3, None)
        closed = IprtReview(cycle=1, title="First", stage="closed", convened_on=date(2019, 10, 1),
                            due_on=date(2019, 10, 1))
        running = IprtReview(cycle=2, title="Second", stage="evidence", convened_on=date(2023, 10, 1),
                             due_on=date(2023, 10, 1))
        s.add_all([closed, running])
        s.flush()
        s.add(IprtReviewAudit(review_id=closed.id, audit_id=considered.id))
        ids = (closed.id, running.id, considered.id, later.id, unpublished.id)
    upgrade(get_settings())
    with engine.connect() as conn:
        links = set(conn.execute(text("SELECT review_id, audit_id FROM reviews_audit_link")).all())
    engine.dispose()
    closed_id, running_id, considered_id, later_id, _ = ids
    assert links == {(closed_id, considered_id), (running_id, later_id)}
