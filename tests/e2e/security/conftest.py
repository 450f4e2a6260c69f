"""Security tests run against the demo data (``steward.demo``) with unique marker strings planted in
confidential places: a dispute's texts and attachment, a sealed archive entry's content, a ballot
vote's receipt. The demo database is built once per test process and copied for each module.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from steward import db as dbmod
from steward.config import get_settings
from tests.support import csrf_of

# role name → demo account (None: anonymous)
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "operator_party": "operator@denic.example",  # DENIC eG: complainant of the planted dispute
    "operator_other": "operator@sidn.example",  # SIDN: an operator that is not a party
    "ifm": "ifm@pti.example",
    "dug_chair": "chair@dug.example",
    "dug_member": "member@dug.example",
    "dug_member_recused": "member.denic@dug.example",  # DENIC eG is a party: recused (R-DUG-3)
    "dug_liaison": "liaison@dug.example",
    "mediator": "mediator@mediation.example",
    "panelist": "panelist@iap.example",
    "expert": "expert@experts.example",
    "auditor": "auditor@audit.example",
    "iprt": "iprt@iprt.example",
    "sysadmin": "admin@steward.example",
}


def _reset_caches() -> None:
    get_settings.cache_clear()
    dbmod.engine_for.cache_clear()
    dbmod._factory.cache_clear()
    from steward.accounts import service as accounts_service

    accounts_service._hasher.cache_clear()
    accounts_service._dummy_hash.cache_clear()


def _env(data_dir: Path) -> dict[str, str]:
    return {"STEWARD_DATABASE_URL": f"sqlite:///{data_dir / 'steward.db'}", "STEWARD_DATA_DIR": str(data_dir)}


def _marker(name: str) -> str:
    return f"ZQ{name}{secrets.token_hex(6)}QZ"


def _plant(session: Any) -> dict[str, Any]:
    """Plant the confidential markers through the services (and two by a direct update)."""
    from sqlalchemy import select

    from steward.accounts import repository as accounts_repo
    from steward.accounts.principal import Principal
    from steward.archive.models import ArchiveEntry
    from steward.ballots import service as ballots
    from steward.ballots.models import Ballot
    from steward.db import utcnow
    from steward.disputes import service as disputes
    from steward.disputes.demo import _decide
    from steward.disputes.models import DisputeCase, DisputeDocument

    def who(email: str) -> Principal:
        user = accounts_repo.user_by_email(session, email)
        assert user is not None
        return Principal.of(user)

    m = {k: _marker(k) for k in ("DSPTITLE", "DSPTEXT", "DSPDOC", "DSPIFM", "DSPIAP", "SEALED", "URG", "URGIAP")}
    now = utcnow()
    t = now - timedelta(days=30)
    denic, ifm, chair = who(ROLES["operator_party"] or ""), who(ROLES["ifm"] or ""), who(ROLES["dug_chair"] or "")
    member, mediator = who(ROLES["dug_member"] or ""), who(ROLES["mediator"] or "")
    form = disputes.ComplaintForm(
        title=f"Confidential case {m['DSPTITLE']}", tlds=["de"],
        service_levels=["released → published (72 h, 99%)"], subject="service_level",
        what_happened=f"What happened: {m['DSPTEXT']}", negotiation="Ticket opened; not resolved.",
    )
    upload = disputes.Upload("evidence.txt", "text/plain", f"Evidence {m['DSPDOC']}\n".encode())
    case = disputes.open_case(session, denic, form, uploads=[upload], now=t)
    case_id = case.id

    def act(p: Principal, action: str, at: Any, **kw: Any) -> None:
        disputes.act(session, p, case_id, disputes.ActionRequest(action=action, **kw), now=at)

    act(member, "request_response", t + timedelta(days=1))
    act(ifm, "submit_response", t + timedelta(days=3), text=f"IFM response {m['DSPIFM']}")
    _decide(session, "engage_mediator", case_id, t + timedelta(days=4))
    act(chair, "engage_mediator", t + timedelta(days=5), mediator_ids=[who(ROLES["mediator"] or "").user_id])
    act(member, "file_dug_report", t + timedelta(days=6), text="DUG report on previous attempts.")
    assert mediator.user_id
    attachment_id = session.scalar(
        select(DisputeDocument).where(DisputeDocument.case_id == case_id, DisputeDocument.kind == "complaint")
    ).attachments[0].id
    # the demo case before the IAP (remedy pending): its DUG report names the panel's file
    iap_case = session.scalar(select(DisputeCase).where(DisputeCase.stage == "remedy_pending"))
    report = session.scalar(select(DisputeDocument).where(
        DisputeDocument.case_id == iap_case.id, DisputeDocument.body == "Facilitation failed on the remedy."))
    report.body = f"Facilitation failed on the remedy. {m['DSPIAP']}"
    # the demo's urgent reviews (R-SYS-2): the one in remediation's findings, and the advice of the
    # one that went through mediation (its engaged mediator) to the IAP (its engaged panelist)
    from steward.systemic.models import Review

    in_remediation = session.scalar(select(Review).where(Review.stage == "remediation"))
    in_remediation.findings = f"{in_remediation.findings} {m['URG']}"
    in_remediation.operator_org_id = denic.organisation_id  # its DUG member recused (R-DUG-3)
    to_iap = session.scalar(select(Review).where(Review.iap_finding.is_not(None)))
    to_iap.advice = f"{to_iap.advice} {m['URGIAP']}"
    # a sealed archive entry's content (R-DSP-7, R-DSP-9): never shown unrevealed
    sealed = session.scalar(select(ArchiveEntry).where(ArchiveEntry.sealed.is_(True)).order_by(ArchiveEntry.seq.desc()))
    sealed.sealed_content = (sealed.sealed_content or "") + m["SEALED"]
    # a ballot vote (R-ESC-1): DENIC re-votes; its receipt code and ids are secret until the close
    ballot = session.scalar(select(Ballot).where(Ballot.closed.is_(False)))
    receipt = ballots.cast_vote(session, denic, ballot.id, choice="no", now=now)
    session.flush()
    return {
        "markers": m, "case_id": case_id, "iap_case_id": iap_case.id, "attachment_id": attachment_id,
        "review_id": in_remediation.id, "iap_review_id": to_iap.id,
        "sealed_seq": sealed.seq, "ballot_id": ballot.id, "ballot_closes_at": ballot.closes_at.isoformat(),
        "receipt_code": receipt.code, "receipt_ids": sorted(receipt.receipts.values()),
    }


def _tokens(session: Any) -> dict[str, str]:
    from steward.accounts import repository as accounts_repo
    from steward.accounts import service as accounts
    from steward.accounts.principal import Principal

    out = {}
    for role, email in ROLES.items():
        if email is None:
            continue
        user = accounts_repo.user_by_email(session, email)
        assert user is not None
        _row, secret = accounts.create_token(session, Principal.of(user), "security tests")
        out[role] = secret
    return out


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A data folder with the demo loaded, the markers planted and one API token per role."""
    from rich.console import Console

    from steward import demo

    data = tmp_path_factory.mktemp("security-demo")
    shutil.copy(sqlite_template, data / "steward.db")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in _env(data).items():
            mp.setenv(k, v)
        _reset_caches()
        demo.load(Console(quiet=True))
        with dbmod.session_scope() as s:
            facts = _plant(s)
            facts["tokens"] = _tokens(s)
        dbmod.get_engine().dispose()
    _reset_caches()
    (data / "facts.json").write_text(json.dumps(facts))
    return data


@dataclass
class DemoEnv:
    app: Any
    facts: dict[str, Any]
    data_dir: Path

    @property
    def markers(self) -> dict[str, str]:
        return dict(self.facts["markers"])

    def token(self, role: str) -> str:
        return str(self.facts["tokens"][role])

    def client(self, role: str, *, signed_in: bool = True) -> Any:
        """A TestClient for the role: signed in through the login form (cookie session)."""
        from fastapi.testclient import TestClient

        from steward.demo import demo_password

        c = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        email = ROLES[role]
        if email is not None and signed_in:
            r = c.post("/login", data={"email": email, "password": demo_password(email), "next": "/home",
                                       "csrf_token": csrf_of(c)})
            assert r.status_code == 303, (role, r.status_code)
        return c

    def api_client(self, role: str) -> Any:
        """A TestClient that authenticates with the role's API bearer token (no cookies)."""
        from fastapi.testclient import TestClient

        c = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        if role != "anonymous":
            c.headers["Authorization"] = f"Bearer {self.token(role)}"
        return c


@pytest.fixture(scope="module")
def demo_env(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoEnv]:
    """A private copy of the demo data folder and an app on it, shared by one test module."""
    data = tmp_path_factory.mktemp("security-env") / "var"
    shutil.copytree(demo_dir, data)
    facts = json.loads((data / "facts.json").read_text())
    with pytest.MonkeyPatch.context() as mp:
        for k, v in _env(data).items():
            mp.setenv(k, v)
        mp.setenv("STEWARD_ENVIRONMENT", os.environ.get("STEWARD_ENVIRONMENT", "test"))
        _reset_caches()
        from steward.app import create_app

        yield DemoEnv(create_app(), facts, data)
        dbmod.get_engine().dispose()
    _reset_caches()
