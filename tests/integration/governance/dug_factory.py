"""Builds a fully constituted DUG through the services, in one session (no commit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts import service as accounts
from steward.accounts.principal import Principal
from steward.governance import service as governance
from steward.governance.models import DugMember
from steward.registry import service as registry

TERM_START = date(2025, 1, 1)
TODAY = date(2026, 6, 1)


@dataclass
class Dug:
    chair: Principal
    voters: list[Principal]
    liaisons: list[Principal]
    members: dict[int, DugMember] = field(default_factory=dict)
    orgs: list[Any] = field(default_factory=list)

    def principal_of(self, index: int) -> Principal:
        return self.voters[index]


def principal(session: Session, user: Any) -> Principal:
    return Principal.of(user)


def org(session: Session, name: str, kind: str = "operator", **kw: Any) -> Any:
    return registry.create_organisation(session, None, name=name, kind=kind, **kw)


def user(session: Session, email: str, roles: list[str], org_id: int | None = None) -> Any:
    u = accounts.create_user(
        session,
        None,
        email=email,
        name=email.split("@")[0].replace(".", " ").title(),
        password="correct-horse-battery",
        roles=roles,
        organisation_id=org_id,
    )
    session.flush()
    return u


def sysadmin(session: Session) -> Principal:
    return Principal.of(user(session, "admin@test.example", ["sysadmin"]))


def build_dug(
    session: Session, voting: int = 8, liaisons: int = 2, term_start: date = TERM_START
) -> Dug:
    """``voting`` members from distinct registries (the first is chair) and ``liaisons``."""
    admin = sysadmin(session)
    voters: list[Principal] = []
    members: dict[int, DugMember] = {}
    orgs = []
    for i in range(voting):
        o = org(session, f"Registry {i}")
        orgs.append(o)
        roles = ["dug_member", "dug_chair"] if i == 0 else ["dug_member"]
        u = user(session, f"voter{i}@dug.test", roles, o.id)
        m = governance.add_member(
            session,
            admin,
            user_id=u.id,
            seat="voting",
            community="cctld" if i % 2 else "gtld",
            technical_experience=f"{i + 5} years running registry DNS",
            term_start=term_start,
            is_chair=(i == 0),
        )
        voters.append(Principal.of(u))
        members[u.id] = m
    ietf = org(session, "IETF", "technical_community")
    liaison_principals = []
    for j in range(liaisons):
        u = user(session, f"liaison{j}@dug.test", ["dug_liaison"], ietf.id)
        m = governance.add_member(
            session,
            admin,
            user_id=u.id,
            seat="liaison",
            community="technical",
            technical_experience="DNSOP working group",
            term_start=term_start,
        )
        liaison_principals.append(Principal.of(u))
        members[u.id] = m
    return Dug(voters[0], voters, liaison_principals, members, orgs)


def pass_motion(
    session: Session, dug: Dug, kind: str, subject_type: str, subject_id: Any, today: date = TODAY
) -> Any:
    """Propose and carry a motion with every eligible member voting yes."""
    motion = governance.propose_motion(
        session,
        dug.chair,
        kind=kind,
        title=f"{kind} {subject_type} {subject_id}",
        text="Moved by the chair.",
        subject_type=subject_type,
        subject_id=subject_id,
        today=today,
    )
    for p in dug.voters:
        if motion.state == "open":
            governance.cast_vote(session, p, motion.id, "yes", today=today)
    assert motion.state == "passed", motion.result_rule
    return motion
