"""Demo data for systemic failures: signals, an urgent review in progress, and one that ended
with an IAP finding of a breach not capable of remedy (eligible for the Further Escalation
Options, used by the ballots demo)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.db import utcnow
from steward.governance.demo import pass_motion
from steward.governance.domain import MotionKind
from steward.sla.domain import Month
from steward.systemic import service
from steward.systemic.service import ActInput


def load_demo(session: Session, ctx: Any) -> None:
    now = utcnow()
    today = now.date()
    chair: Principal = ctx.extra.get("dug_chair") or Principal.of(ctx.users["chair@dug.example"])
    member = Principal.of(ctx.users["member@dug.example"])
    expert = Principal.of(ctx.users["expert@experts.example"])
    ifm = Principal.of(ctx.users["ifm@pti.example"])
    panelist = Principal.of(ctx.users["panelist@iap.example"])
    mediator_id = ctx.users["mediator@mediation.example"].id
    service.detect(session, now)

    def step(who: Principal, review_id: int, action: str, **kw: Any) -> None:
        service.act(session, who, review_id, action, ActInput(**kw), now)

    # an urgent review in progress: remediation agreed, one milestone done
    delays = service.propose(
        session, member, title="Root zone publication delays across many TLDs",
        reasoning="Since September several operators report that NS and DS changes take far longer than "
                  "the 72-hour publication target; the monthly reports show the same metric missed.",
        evidence=f"https://www.iana.org/performance\nsla_month {Month.of(now).plus(-2)}/released-published",
        now=now)
    pass_motion(session, ctx, MotionKind.determine_systemic_failure, "Publication delays are systemic",
                "The DUG determines a significant failure of root zone publication.", "systemic-signal",
                delays.id, today)
    review = service.open_review(session, chair, delays.id, title="Root zone publication delays", now=now)
    pass_motion(session, ctx, MotionKind.appoint_experts, "Experts for the publication review",
                "Appoint Erin Expert (DNS operations, DNSSEC).", "urgent_review", review.id, today)
    step(chair, review.id, "appoint_expert", name="Erin Expert", expertise="DNS operations, DNSSEC, root zone management",
         user_email="expert@experts.example")
    step(chair, review.id, "start_root_cause")
    step(ifm, review.id, "add_evidence", text="Publication queue metrics for September to November.",
         ref="https://www.iana.org/performance")
    step(expert, review.id, "add_evidence", text="Interviews with the IFM's publication team.")
    step(expert, review.id, "record_findings",
         text="A change-freeze tool held approved changes for days after release; no alert fired.")
    step(chair, review.id, "agree_remediation",
         milestones=f"{today + timedelta(days=14)} Remove the freeze tool from the release path\n"
                    f"{today + timedelta(days=45)} Alert when a released change waits over 24 hours")
    step(chair, review.id, "complete_milestone", milestone_id=review.milestones[0].id,
         text="Done ahead of time.")

    # an urgent review that went all the way to the IAP: eligible for Further Escalation
    outage = service.propose(
        session, member, title="Repeated failures to publish emergency changes within 12 hours",
        reasoning="Three emergency changes this year took more than a day; remediation did not hold.",
        evidence="", now=now - timedelta(days=200))
    pass_motion(session, ctx, MotionKind.determine_systemic_failure, "Emergency changes failure is systemic",
                "The DUG determines a systemic failure of emergency changes.", "systemic-signal", outage.id, today)
    old = service.open_review(session, chair, outage.id, title="Emergency change failures", now=now)
    pass_motion(session, ctx, MotionKind.appoint_experts, "Experts for the emergency review",
                "Appoint Erin Expert.", "urgent_review", old.id, today)
    step(chair, old.id, "appoint_expert", name="Erin Expert", expertise="DNS operations", user_email="expert@experts.example")
    step(chair, old.id, "start_root_cause")
    step(expert, old.id, "add_evidence", text="Tickets of the three emergency changes.")
    step(expert, old.id, "record_findings", text="No on-call rota for emergency changes at weekends.")
    step(chair, old.id, "agree_remediation", milestones=f"{today} Set up a weekend on-call rota")
    step(chair, old.id, "complete_milestone", milestone_id=old.milestones[0].id)
    step(chair, old.id, "request_advice")
    step(expert, old.id, "advise", critical=True, text="A systemic failure: the rota lapsed again within a month.")
    step(chair, old.id, "add_step", milestones=f"{today + timedelta(days=90)} Contractual on-call obligation")
    pass_motion(session, ctx, MotionKind.engage_mediator, "Mediation on emergency changes",
                "Engage the external mediator.", "urgent_review", old.id, today)
    step(chair, old.id, "engage_mediator", mediator_ids=(mediator_id,),
         text="Remediation and a long-term step were agreed; the IFM did not staff the rota. Two attempts failed.")
    pass_motion(session, ctx, MotionKind.engage_iap, "IAP on emergency changes",
                "Engage the Independent Appeals Panel.", "urgent_review", old.id, today)
    step(chair, old.id, "engage_iap", panelist_ids=(panelist.user_id,))
    step(panelist, old.id, "iap_decision", finding="not_remediable",
         text="The IFM breached the emergency-change service level; the breach is not capable of remedy.")
    ctx.extra["systemic_escalation_review"] = old.id
