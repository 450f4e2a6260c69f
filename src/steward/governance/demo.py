"""Demo data of the DUG: two charter versions, a full roster, and decisions of every outcome."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts import repository as accounts_repo
from steward.accounts import service as accounts
from steward.accounts.principal import Principal
from steward.governance import service
from steward.governance.domain import CharterText, MotionKind
from steward.governance.models import DugMotion

TERM_START = date(2016, 10, 1)

CHARTER_V1 = CharterText(
    role=(
        "The DUG represents the direct naming-function customers of IANA. It is the first point "
        "of escalation in disputes about agreed service levels between a TLD registry operator "
        "and the IFM, reviews the IFM's performance reports, commissions the three-yearly "
        "independent audit, may initiate an urgent review of a systemic breach, and agrees "
        "implementation plans for non-policy technical changes."
    ),
    chair_appointment=(
        "The voting members elect a chair from among themselves for a two-year term, renewable "
        "once. The chair convenes meetings, closes votes and speaks for the DUG."
    ),
    communication_lines=(
        "The chair and the IFM's head of customer service meet monthly; disputes are raised "
        "through Steward; urgent matters by email to both, copied to all members."
    ),
)

# Terms that end are counted from the day the demo is loaded, so that every seat is still held
# whenever `steward demo` runs (a fixed end date would turn the demo's voters away once passed):
# one member's term ends at the end of next month, three more at the end of the month after
# ten months; the others have no end date.
SOON, LATER = 1, 10

# (email, name, organisation, community, chair, term end: months ahead, or None)
EXTRA_MEMBERS: list[tuple[str, str, str, str, bool, int | None]] = [
    (
        "verisign@dug.example",
        "Vera Registry (VeriSign)",
        "VeriSign Global Registry Services",
        "gtld",
        False,
        LATER,
    ),
    (
        "pir@dug.example",
        "Paulo Registry (PIR)",
        "Public Interest Registry (PIR)",
        "gtld",
        False,
        LATER,
    ),
    (
        "identity@dug.example",
        "Ida Registry (Identity Digital)",
        "Identity Digital Limited",
        "gtld",
        False,
        LATER,
    ),
    (
        "berlin@dug.example",
        "Bernd Registry (dotBERLIN)",
        "dotBERLIN GmbH & Co. KG",
        "gtld",
        False,
        None,
    ),
    (
        "jprs@dug.example",
        "Jun Registry (JPRS)",
        "Japan Registry Services Co., Ltd.",
        "cctld",
        False,
        None,
    ),
]

EXPERIENCE = {
    "cctld": "Operates the registry's authoritative DNS and DNSSEC signing; EPP and zone publication.",
    "gtld": "Registry operations lead: EPP, zone generation, root zone change requests to IANA.",
    "technical": "DNS protocol work in the IETF (DNSOP); root server operations.",
}


def month_end(today: date, months_ahead: int) -> date:
    """The last day of the month ``months_ahead`` months after ``today``'s."""
    first_after = date(today.year + (today.month + months_ahead) // 12, (today.month + months_ahead) % 12 + 1, 1)
    return first_after - timedelta(days=1)


def _user(
    session: Session, ctx: Any, email: str, name: str, org_name: str | None, role: str
) -> Any:
    from steward.demo import demo_password

    user = accounts_repo.user_by_email(session, email)
    if user is None:
        org = ctx.orgs.get(org_name) if org_name else None
        user = accounts.create_user(
            session,
            None,
            email=email,
            name=name,
            password=demo_password(email),
            roles=[role],
            organisation_id=org.id if org is not None else None,
        )
    return user


def pass_motion(
    session: Session,
    ctx: Any,
    kind: MotionKind,
    title: str,
    text: str,
    subject_type: str,
    subject_id: str | int,
    on: date,
) -> DugMotion:
    """Put a motion and carry it with every eligible member voting yes (used by other demos)."""
    chair: Principal = ctx.extra["dug_chair"]
    motion = service.propose_motion(
        session,
        chair,
        kind=kind.value,
        title=title,
        text=text,
        subject_type=subject_type,
        subject_id=subject_id,
        today=on,
    )
    for voter in ctx.extra["dug_voters"]:
        if motion.state == "open":
            service.cast_vote(session, voter, motion.id, "yes", today=on)
    return motion


def load_demo(session: Session, ctx: Any) -> None:
    chair_user = ctx.users["chair@dug.example"]
    chair = Principal.of(chair_user)
    service.adopt_charter(
        session, chair, CHARTER_V1, date(2016, 10, 1), note="Adopted at the transition."
    )
    seated: list[tuple[Any, str, str, bool, int | None]] = [
        (chair_user, "voting", "cctld", True, None),
        (ctx.users["member@dug.example"], "voting", "cctld", False, SOON),
        (ctx.users["member.denic@dug.example"], "voting", "cctld", False, None),
    ]
    for email, name, org_name, community, is_chair, end in EXTRA_MEMBERS:
        seated.append(
            (
                _user(session, ctx, email, name, org_name, "dug_member"),
                "voting",
                community,
                is_chair,
                end,
            )
        )
    seated.append((ctx.users["liaison@dug.example"], "liaison", "technical", False, None))
    rssac = _user(
        session,
        ctx,
        "liaison.rssac@dug.example",
        "Rui Liaison (RSSAC)",
        "Root Server System Advisory Committee",
        "dug_liaison",
    )
    seated.append((rssac, "liaison", "technical", False, None))
    voters: list[Principal] = []
    for user, seat, community, is_chair, end in seated:
        service.add_member(
            session,
            chair,
            user_id=user.id,
            seat=seat,
            community=community,
            technical_experience=EXPERIENCE[community],
            term_start=TERM_START,
            term_end=None if end is None else month_end(service.today_utc(), end),
            is_chair=is_chair,
        )
        if seat == "voting":
            voters.append(Principal.of(user))
    ctx.extra["dug_chair"] = chair
    ctx.extra["dug_voters"] = voters
    # every charter after the first is the DUG's decision (R-DUG-1)
    today = service.today_utc()
    pass_motion(session, ctx, MotionKind.adopt_charter, "Adopt charter version 2",
                "Chair terms renewable twice; quarterly public briefings.", "charter", 2, today)
    service.adopt_charter(
        session,
        chair,
        CharterText(
            CHARTER_V1.role,
            CHARTER_V1.chair_appointment.replace("renewable once", "renewable twice"),
            CHARTER_V1.communication_lines + " Quarterly public briefings.",
        ),
        today,
        note="Chair terms renewable twice; quarterly public briefings.",
    )

    # a tie: fails, and the page says why
    tie = service.propose_motion(
        session,
        chair,
        kind=MotionKind.other.value,
        title="Ask the IFM for weekly instead of monthly performance reports",
        text="Advice to the IFM on the frequency of its performance reports (DUG function 2).",
        today=today,
    )
    for voter, choice in zip(voters, ["yes", "yes", "yes", "no", "no", "no"], strict=False):
        service.cast_vote(session, voter, tie.id, choice, today=today)
    service.close_motion(session, chair, tie.id, today=today)
    # an open motion with a party: the DENIC member is recused (R-DUG-3)
    denic = ctx.orgs["DENIC eG"]
    open_motion = service.propose_motion(
        session,
        voters[1],
        kind=MotionKind.instruct_ifm.value,
        title="Instruct the IFM to process DENIC's pending DS update",
        text="Facilitation produced an agreed outcome; the DUG instructs the IFM to implement it.",
        subject_type="demo",
        subject_id="denic-ds",
        party_organisation_ids=[denic.id],
        today=today,
    )
    service.cast_vote(session, voters[0], open_motion.id, "yes", today=today)
    service.cast_vote(session, voters[1], open_motion.id, "yes", today=today)
    service.comment(
        session,
        Principal.of(ctx.users["liaison@dug.example"]),
        open_motion.id,
        "No protocol concern: the DS record validates.",
        today=today,
    )
