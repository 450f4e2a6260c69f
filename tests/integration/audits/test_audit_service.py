"""The periodic audit through the services (R-AUD-1, R-AUD-2), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.audits import service as audits
from steward.audits.service import FindingInput
from steward.errors import Conflict, Forbidden, Invalid
from steward.events import Publication
from steward.outbox import OutboxEmail
from steward.reviews.domain import CycleStatus
from steward.sla import service as sla
from tests.integration.governance.dug_factory import Dug, build_dug, org, pass_motion, user

# audit cycle 1 is due 2019-10-01 (transition 2016-10-01 + 3 years)
COMMISSIONED = date(2019, 6, 1)


def setup(session: Session) -> tuple[Dug, object, Principal]:
    dug = build_dug(session, term_start=date(2016, 10, 1))
    org(session, "Public Technical Identifiers", "ifm")
    firm = org(session, "Northbridge Assurance", "audit_firm")
    auditor = Principal.of(user(session, "auditor@northbridge.test", ["auditor"], firm.id))
    return dug, firm, auditor


def commission(session: Session, dug: Dug, firm: object) -> object:
    pass_motion(session, dug, "commission_audit", "audit_cycle", 1, COMMISSIONED)
    return audits.commission(
        session,
        dug.chair,
        firm_id=firm.id,  # type: ignore[attr-defined]
        declaration="Northbridge has no ownership, contractual or staff ties to the IFM.",
        today=COMMISSIONED,
    )


def test_schedule_every_three_years_with_overdue_flag_R_AUD_1(session: Session) -> None:
    cycles = audits.schedule(session, date(2023, 1, 1))
    assert [(c.due, c.status) for c in cycles] == [
        (date(2019, 10, 1), CycleStatus.overdue),
        (date(2022, 10, 1), CycleStatus.overdue),
        (date(2025, 10, 1), CycleStatus.upcoming),
    ]


def test_commissioning_needs_a_passed_dug_decision(session: Session) -> None:
    dug, firm, _ = setup(session)
    with pytest.raises(Conflict, match="Commission the periodic audit"):
        audits.commission(
            session, dug.chair, firm_id=firm.id, declaration="Independent.", today=COMMISSIONED
        )  # type: ignore[attr-defined]
    audit = commission(session, dug, firm)
    assert audit.cycle == 1 and audit.stage == "commissioned"  # type: ignore[attr-defined]
    assert audits.schedule(session, COMMISSIONED)[0].status is CycleStatus.started


def test_firm_affiliated_with_the_ifm_is_refused_R_AUD_1(session: Session) -> None:
    dug, _firm, _ = setup(session)
    pass_motion(session, dug, "commission_audit", "audit_cycle", 1, COMMISSIONED)
    tied = org(session, "Captive Audit LLC", "audit_firm", affiliated_with_ifm=True)
    with pytest.raises(Invalid, match="affiliated with the IFM"):
        audits.commission(
            session,
            dug.chair,
            firm_id=tied.id,
            declaration="We are independent.",
            today=COMMISSIONED,
        )
    ifm = session.scalars(select(type(tied)).where(type(tied).kind == "ifm")).one()
    declared = org(session, "Declared Ties LLP", "audit_firm")
    with pytest.raises(Invalid, match="affiliated with the IFM"):
        audits.commission(
            session,
            dug.chair,
            firm_id=declared.id,
            declaration="We audit PTI's parent.",
            affiliated_organisation_ids=[ifm.id],
            today=COMMISSIONED,
        )
    operator = org(session, "Some Registry", "operator")
    with pytest.raises(Invalid, match="kind audit firm"):
        audits.commission(
            session, dug.chair, firm_id=operator.id, declaration="x", today=COMMISSIONED
        )


def test_only_the_firms_auditor_uploads_and_the_report_is_hidden_until_published(
    session: Session,
) -> None:
    dug, firm, auditor = setup(session)
    audit = commission(session, dug, firm)
    other_firm = org(session, "Other Audit", "audit_firm")
    stranger = Principal.of(user(session, "auditor@other.test", ["auditor"], other_firm.id))
    with pytest.raises(Forbidden):
        audits.submit_report(session, stranger, audit.id, "r", [FindingInput("f")])  # type: ignore[attr-defined]
    with pytest.raises(Invalid) as err:
        audits.submit_report(
            session,
            auditor,
            audit.id,
            "r",
            [FindingInput("ok"), FindingInput("bad", severity="huge")],
        )  # type: ignore[attr-defined]
    assert err.value.line == 2
    audits.submit_report(
        session,
        auditor,
        audit.id,
        "Report text",
        [FindingInput("Slow NS changes", "p95 80h", "major")],
    )  # type: ignore[attr-defined]
    assert audits.can_see_report(auditor, audit)  # type: ignore[arg-type]
    assert audits.can_see_report(dug.chair, audit)  # type: ignore[arg-type]
    assert not audits.can_see_report(Principal.anonymous(), audit)  # type: ignore[arg-type]
    assert not audits.can_see_report(stranger, audit)  # type: ignore[arg-type]


def test_full_flow_to_a_refinement_decision_R_AUD_2(session: Session) -> None:
    dug, firm, auditor = setup(session)
    audit = commission(session, dug, firm)
    aid = audit.id  # type: ignore[attr-defined]
    audits.submit_report(
        session, auditor, aid, "Report", [FindingInput("Slow NS changes", "", "major")]
    )
    with pytest.raises(Conflict, match="Publish findings"):
        audits.publish(session, dug.chair, aid, date(2019, 12, 15), today=date(2019, 11, 1))
    pass_motion(session, dug, "publish_findings", "audit", aid, date(2019, 11, 1))
    audits.publish(session, dug.chair, aid, date(2019, 12, 15), today=date(2019, 11, 1))
    assert audits.can_see_report(Principal.anonymous(), audit)  # type: ignore[arg-type]
    audits.add_feedback(
        session,
        Principal.anonymous(),
        aid,
        "A ccTLD manager",
        "Agree on NS changes.",
        today=date(2019, 12, 15),
    )
    with pytest.raises(Conflict, match="not open"):
        audits.add_feedback(
            session, Principal.anonymous(), aid, "Late", "x", today=date(2019, 12, 16)
        )
    with pytest.raises(Invalid, match="open until 2019-12-15"):
        audits.examine(session, dug.chair, aid, "Examined", today=date(2019, 12, 15))
    with pytest.raises(Conflict, match="Refine the agreed service levels"):
        audits.examine(session, dug.chair, aid, "Tighten NS", refine=True, today=date(2020, 1, 10))
    motion = pass_motion(session, dug, "refine_service_levels", "audit", aid, date(2020, 1, 10))
    with pytest.raises(Invalid) as missing:
        audits.examine(session, dug.chair, aid, "Tighten NS", refine=True, today=date(2020, 1, 10))
    assert missing.value.field == "catalogue_toml"
    template = audits.catalogue_template(session, audit, date(2020, 1, 10))  # type: ignore[arg-type]
    assert 'version = "audit-1"' in template
    with pytest.raises(Invalid):
        audits.examine(
            session,
            dug.chair,
            aid,
            "x",
            refine=True,
            today=date(2020, 1, 10),
            catalogue_toml="version = ",
        )
    assert audit.stage == "published"  # type: ignore[attr-defined]
    refined = template.replace('threshold = "3d"', 'threshold = "60h"', 1)
    examined = audits.examine(
        session,
        dug.chair,
        aid,
        "Tighten NS",
        refine=True,
        today=date(2020, 1, 10),
        catalogue_toml=refined,
    )
    assert examined.stage == "examined"
    assert examined.catalogue_version == "audit-1"
    version = sla.catalogue_version(session, "audit-1")
    assert version.cause is not None
    assert f"/audits/{aid}" in version.cause and f"DUG decision #{motion.id}" in version.cause
    assert version.effective == date(2020, 1, 10)
    kinds = session.scalars(select(Publication.kind)).all()
    assert {"audit_report", "audit_examination"} <= set(kinds)
    assert audits.schedule(session, date(2020, 1, 10))[0].status is CycleStatus.completed


def test_reminder_of_an_overdue_audit_goes_to_the_chair_once(session: Session) -> None:
    setup(session)
    now = datetime(2025, 10, 2, 8, tzinfo=UTC)
    first = audits.remind_next_audit(session, now)
    assert first.startswith("3 ")  # cycles 1, 2 and 3 are all overdue on 2025-10-02
    assert audits.remind_next_audit(session, now) == "0 audit reminder(s) queued"
    subjects = session.scalars(
        select(OutboxEmail.subject).where(OutboxEmail.to_address == "voter0@dug.test")
    ).all()
    assert "[DUG] Independent audit 3 is overdue (2025-10-01)" in subjects
