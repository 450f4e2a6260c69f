"""Demo disputes at several stages of the ladder, built through the service with past times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.db import utcnow
from steward.disputes import service

DENIC = "operator@denic.example"
SIDN = "operator@sidn.example"
IFM = "ifm@pti.example"
CHAIR = "chair@dug.example"
MEMBER = "member@dug.example"
MEDIATOR = "mediator@mediation.example"
PANELIST = "panelist@iap.example"


def _decide(session: Session, kind: str, case_id: int, at: datetime) -> None:
    """A passed DUG decision on the case (demo shortcut: the motion is recorded as passed)."""
    from steward.governance.models import Motion

    session.add(Motion(kind=kind, title=f"Demo: {kind.replace('_', ' ')} on dispute {case_id}",
                       text="Decided by the DUG (demo data).", subject_type="dispute",
                       subject_id=str(case_id), state="passed", closed_at=at))
    session.flush()


def load_demo(session: Session, ctx: Any) -> None:
    """Seven cases: negotiation, overdue response, running response, mediation, remedy pending,
    a published no-breach finding, and a refused policy complaint."""
    users = ctx.users
    if not all(e in users for e in (DENIC, SIDN, IFM, CHAIR, MEMBER, MEDIATOR, PANELIST)):
        return
    p = {e: Principal.of(users[e]) for e in (DENIC, SIDN, IFM, CHAIR, MEMBER, MEDIATOR, PANELIST)}
    now = utcnow()

    def form(title: str, tld: str, subject: str = "service_level", what: str = "", neg: str = "") -> service.ComplaintForm:
        return service.ComplaintForm(
            title=title, tlds=[tld], service_levels=["released → published (72 h, 99%)"],
            subject=subject, what_happened=what or f"A routine NS update for .{tld} missed the 72 h level.",
            negotiation=neg or "Ticket opened with the IFM; acknowledged, not resolved after two weeks.",
        )

    def act(who: str, case_id: int, action: str, at: datetime, **kw: Any) -> None:
        service.act(session, p[who], case_id, service.ActionRequest(action=action, **kw), now=at)

    # 1. direct negotiation, not yet engaging the DUG
    service.open_case(session, p[SIDN], form("Contact update stuck in review", "nl"),
                      negotiate_first=True, now=now - timedelta(hours=30))
    # 2. the IFM's response is overdue (flagged on the case and the DUG's board)
    c = service.open_case(session, p[DENIC], form("DS update for .de published a week late", "de"),
                          now=now - timedelta(days=24)).id
    act(MEMBER, c, "request_response", now - timedelta(days=23))
    # 3. response requested two days ago: running
    c = service.open_case(session, p[DENIC], form("Glue change delayed", "de"), now=now - timedelta(days=3)).id
    act(MEMBER, c, "request_response", now - timedelta(days=2))
    # 4. in mediation, reports filed
    t = now - timedelta(days=60)
    c = service.open_case(session, p[SIDN], form("Repeated delays in NS changes", "nl"), now=t).id
    act(MEMBER, c, "request_response", t + timedelta(days=1))
    act(IFM, c, "submit_response", t + timedelta(days=8), text="The delays were caused by a queue backlog in May.")
    _decide(session, "instruct_ifm", c, t + timedelta(days=10))
    act(CHAIR, c, "issue_instruction", t + timedelta(days=11), text="Clear the backlog and report weekly.")
    _decide(session, "engage_mediator", c, t + timedelta(days=20))
    act(CHAIR, c, "engage_mediator", t + timedelta(days=21), mediator_ids=[users[MEDIATOR].id])
    act(MEMBER, c, "file_dug_report", t + timedelta(days=22), text="Facilitation: three calls; the backlog persists.")
    act(IFM, c, "file_ifm_report", t + timedelta(days=25), text="Backlog cleared on 2 June; two requests still late.")
    # 5. IAP found a breach capable of remedy: remedy pending
    t = now - timedelta(days=120)
    c = service.open_case(session, p[DENIC], form("Emergency change took 20 hours", "de"), now=t).id
    act(MEMBER, c, "request_response", t + timedelta(days=1))
    act(IFM, c, "submit_response", t + timedelta(days=9), text="The emergency line was misrouted.")
    _decide(session, "engage_mediator", c, t + timedelta(days=15))
    act(CHAIR, c, "engage_mediator", t + timedelta(days=16), mediator_ids=[users[MEDIATOR].id])
    act(MEMBER, c, "file_dug_report", t + timedelta(days=17), text="Facilitation failed on the remedy.")
    act(DENIC, c, "agree_to_be_bound", t + timedelta(days=30), text="DENIC eG agrees to be bound by the IAP.")
    act(MEDIATOR, c, "declare_mediation_failed", t + timedelta(days=40), text="No agreement on the remedy.")
    _decide(session, "engage_iap", c, t + timedelta(days=45))
    act(CHAIR, c, "engage_iap", t + timedelta(days=46), panelist_ids=[users[PANELIST].id])
    act(PANELIST, c, "find_breach_remediable", now - timedelta(days=10),
        text="The 12 h emergency level was breached; the IFM must fix its emergency routing.")
    # 6. a published finding of no breach
    t = now - timedelta(days=200)
    c = service.open_case(session, p[SIDN], form("Technical check timing", "nl"), now=t).id
    act(MEMBER, c, "request_response", t + timedelta(days=1))
    act(IFM, c, "submit_response", t + timedelta(days=5), text="Checks ran within 50 minutes; logs attached.")
    _decide(session, "engage_mediator", c, t + timedelta(days=10))
    act(CHAIR, c, "engage_mediator", t + timedelta(days=11), mediator_ids=[users[MEDIATOR].id])
    act(MEMBER, c, "file_dug_report", t + timedelta(days=12), text="The parties disagree on the measurement.")
    act(SIDN, c, "agree_to_be_bound", t + timedelta(days=13), text="SIDN agrees to be bound by the IAP.")
    act(MEDIATOR, c, "declare_mediation_failed", t + timedelta(days=30), text="No agreement.")
    _decide(session, "engage_iap", c, t + timedelta(days=31))
    act(CHAIR, c, "engage_iap", t + timedelta(days=32), panelist_ids=[users[PANELIST].id])
    act(PANELIST, c, "find_no_breach", t + timedelta(days=60), text="The measurements show no breach.")
    # 7. refused: a policy matter (R-DSP-1)
    service.open_case(session, p[DENIC], form("Transfer policy is unfair", "de", subject="policy",
                                               what="We disagree with the new transfer policy."),
                      now=now - timedelta(days=5))
    session.flush()
