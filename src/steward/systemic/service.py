"""Systemic failure use cases: detection (R-SYS-1) and urgent reviews (R-SYS-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from steward.accounts import repository as accounts_repository
from steward.accounts import service as accounts
from steward.accounts.models import User
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.config import Settings, get_settings
from steward.db import utcnow
from steward.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from steward.events import record_event, record_publication
from steward.outbox import enqueue_email
from steward.registry import repository as registry_repository
from steward.systemic import domain, repository
from steward.systemic.domain import (
    Action,
    Actor,
    Evidence,
    EvidenceKind,
    IapFinding,
    Outcome,
    SignalKind,
    SignalState,
    Stage,
    SystemicError,
    Thresholds,
)
from steward.systemic.models import Evidence as EvidenceRow
from steward.systemic.models import Expert, Milestone, Participant, Review, Signal

SUBJECT = domain.REVIEW_SUBJECT


def _invalid(err: SystemicError) -> Invalid:
    return Invalid(err.message, field=err.field)


def thresholds(settings: Settings | None = None) -> Thresholds:
    s = settings or get_settings()
    try:
        return Thresholds(
            dispute_count=s.systemic_dispute_count, dispute_window_days=s.systemic_dispute_window_days,
            ewma_lambda=s.systemic_ewma_lambda, ewma_width=s.systemic_ewma_width,
            period_days=s.systemic_period_days, baseline_periods=s.systemic_baseline_periods,
            min_baseline_periods=min(4, s.systemic_baseline_periods),
            min_rise_count=s.systemic_min_rise_count, consecutive_misses=s.systemic_consecutive_misses,
            extreme_gap_points=s.systemic_extreme_gap_points,
        )
    except SystemicError as err:
        raise Invalid(f"setting STEWARD_SYSTEMIC_{(err.field or '').upper()}: {err.message}") from None


def evidence_link(kind: str, ref: str) -> str | None:
    """Where a piece of evidence lives in Steward (None when it has no page)."""
    if kind == EvidenceKind.DISPUTE.value:
        return f"/disputes/{ref}"
    if kind == EvidenceKind.SLA_MONTH.value:
        return f"/sla?month={ref.split('/')[0]}"
    if kind == EvidenceKind.AUDIT.value:
        return f"/audits/{ref}"
    if kind == EvidenceKind.AUDIT_FINDING.value:
        audit, _, finding = ref.partition("/")
        return f"/audits/{audit}#finding-{finding}"
    if kind == EvidenceKind.PROPOSAL.value:
        return f"/systemic/signals/{ref}"
    if kind == EvidenceKind.LINK.value:
        return ref
    return None


def _evidence_json(items: tuple[Evidence, ...] | list[Evidence]) -> list[dict[str, str]]:
    return [{"kind": e.kind.value, "ref": e.ref, "label": e.label} for e in items]


DUG_ROLES = (Role.DUG_CHAIR, Role.DUG_MEMBER, Role.DUG_LIAISON)


def _dug_users(session: Session, recused_orgs: frozenset[int] = frozenset()) -> dict[int, str]:
    """The DUG's members to tell, less those of ``recused_orgs`` (a review's parties: R-DUG-3)."""
    users: dict[int, str] = {}
    for role in DUG_ROLES:
        for u in accounts_repository.users_with_role(session, role.value):
            if u.organisation_id is None or u.organisation_id not in recused_orgs:
                users[u.id] = u.email
    return users


def parties(session: Session, operator_org_id: int | None) -> frozenset[int]:
    """A review's parties, whose DUG members recuse (R-DUG-3): the IFM, whose failure it reviews,
    and the operator concerned, if any; the IAP's decision binds them both."""
    ifm = registry_repository.ifm_organisation_ids(session)
    return ifm | ({operator_org_id} if operator_org_id is not None else frozenset())


def recused(principal: Principal, review_parties: frozenset[int]) -> bool:
    """R-DUG-3: a DUG member whose organisation is a party to the review neither sees it nor
    takes the DUG's steps in it."""
    return principal.organisation_id in review_parties and principal.has_role(*DUG_ROLES)


def _require_manage(session: Session, actor: Principal, review_parties: frozenset[int]) -> None:
    """The DUG's step on a review with these parties: the chair's, or a stand-in's."""
    if recused(actor, review_parties):
        raise Forbidden("You are recused from this review: your organisation is a party to it (R-DUG-3).")
    if not (actor.has_role(Role.DUG_MEMBER) and accounts.chairs_recused(session, review_parties)):
        actor.require(Permission.SYSTEMIC_MANAGE)


def _notify(session: Session, addresses: dict[int, str], subject: str, text: str, key: str) -> None:
    base = get_settings().base_url.rstrip("/")
    for user_id, email in sorted(addresses.items()):
        enqueue_email(session, email, subject, text.replace("{base}", base), key=f"{key}:user{user_id}")


# ============================================================================ detection


def detect(session: Session, now: datetime) -> str:
    """Periodic: run every detection rule over the current data; store each new signal once
    (by its key) and tell the DUG. Idempotent."""
    t = thresholds()
    found: list[domain.Signal] = []
    disputes = [domain.LodgedDispute(i, at) for i, at in repository.lodged_disputes(session)]
    found += domain.dispute_count_signals(disputes, t, now)
    _chart, rise = domain.dispute_rise_signal(disputes, t, now)
    if rise is not None:
        found.append(rise)
    months = [domain.MonthResult(metric, date.fromisoformat(f"{month}-01"), compliance, target,
                                 ref=f"{month}/{metric}")
              for metric, month, compliance, target in repository.sla_month_results(session)]
    found += domain.sla_signals(months, t)
    try:
        found += domain.audit_signals(
            [domain.AuditFinding(f, a, title, at, severity)
             for f, a, title, at, severity in repository.audit_findings(session)],
            get_settings().systemic_audit_min_severity)
    except SystemicError as err:
        raise Invalid(f"setting STEWARD_SYSTEMIC_AUDIT_MIN_SEVERITY: {err.message}") from None
    known = repository.signal_keys(session)
    new = [s for s in found if s.key not in known]
    for s in new:
        _store(session, s, now)
    return f"{len(new)} new signals" if new else "no new signal"


def _store(session: Session, s: domain.Signal, now: datetime, actor: Principal | None = None,
           reasoning: str = "") -> Signal:
    row = Signal(kind=s.kind.value, key=s.key, summary=s.summary, observed_at=s.observed_at,
                 detected_at=now, evidence=_evidence_json(s.evidence), measures=dict(s.measures),
                 reasoning=reasoning, proposed_by_id=actor.user_id if actor else None,
                 state=SignalState.OPEN.value)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("this signal was just recorded by someone else") from None
    record_event(session, "systemic-signal:raised", actor=actor, subject_type="systemic-signal",
                 subject_id=row.id, data={"kind": row.kind, "key": row.key})
    _notify(session, _dug_users(session, registry_repository.ifm_organisation_ids(session)), f"[Steward] Possible systemic failure: {SignalKind(row.kind).label}",
            f"{row.summary}\n\nEvidence and the DUG's options:\n{{base}}/systemic/signals/{row.id}\n",
            key=f"systemic-signal:{row.id}")
    return row


def propose(session: Session, actor: Principal, *, title: str, reasoning: str, evidence: str,
            now: datetime) -> Signal:
    """(d) A DUG member proposes that there may be a systemic failure, citing evidence."""
    actor.require(Permission.SYSTEMIC_PROPOSE)
    try:
        lines = domain.parse_evidence_lines(evidence)
        cited = [e for _, e in lines]
        domain.proposal_signal(0, title, reasoning, cited, now)
        for n, item in lines:
            _check_evidence(session, actor, n, item, now)
    except SystemicError as err:
        raise _invalid(err) from None
    row = Signal(kind=SignalKind.PROPOSAL.value, key=f"proposal:pending:{now.timestamp()}:{actor.user_id}",
                 summary="", observed_at=now, detected_at=now, reasoning=reasoning.strip(),
                 proposed_by_id=actor.user_id, state=SignalState.OPEN.value)
    session.add(row)
    session.flush()
    s = domain.proposal_signal(row.id, title, reasoning, cited, now)
    row.key, row.summary, row.evidence = s.key, s.summary, _evidence_json(s.evidence)
    session.flush()
    record_event(session, "systemic-signal:proposed", actor=actor, subject_type="systemic-signal",
                 subject_id=row.id, data={"title": s.summary})
    _notify(session, _dug_users(session, registry_repository.ifm_organisation_ids(session)), f"[Steward] Proposal: possible systemic failure — {s.summary}",
            f"A DUG member proposes an urgent review.\n\n{{base}}/systemic/signals/{row.id}\n",
            key=f"systemic-signal:{row.id}")
    return row


def _check_evidence(session: Session, actor: Principal, n: int, item: Evidence, now: datetime) -> None:
    """The cited record exists and the proposer may see it; a record they may not see (a
    dispute they are recused from, R-DUG-3, or confidential to others, R-DSP-7) is answered as
    one that does not exist, so the answer reveals nothing of it. A month is one that has begun."""
    from steward.audits import repository as audits_repository
    from steward.audits.models import AuditFinding
    from steward.disputes import repository as disputes_repository

    found, what = True, ""
    if item.kind is EvidenceKind.DISPUTE:
        found = disputes_repository.readable_case(session, actor, int(item.ref)) is not None
        what = f"no dispute #{item.ref} that you may see"
    elif item.kind is EvidenceKind.AUDIT:
        found = audits_repository.audit(session, int(item.ref)) is not None
        what = f"no audit #{item.ref}"
    elif item.kind is EvidenceKind.AUDIT_FINDING:
        audit_id, _, finding_id = item.ref.partition("/")
        finding = session.get(AuditFinding, int(finding_id))
        found = finding is not None and finding.audit_id == int(audit_id)
        what = f"no finding #{finding_id} of audit #{audit_id}"
    elif item.kind is EvidenceKind.PROPOSAL:
        found = repository.signal(session, actor, int(item.ref)) is not None
        what = f"no signal #{item.ref} that you may see"
    elif item.kind is EvidenceKind.SLA_MONTH:
        month = item.ref.split("/")[0]
        found = month <= f"{now:%Y-%m}"
        what = f"the month {month} has not begun"
    if not found:
        raise SystemicError(f"line {n} ({item.kind.value} {item.ref}): {what}", "evidence")


MAX_ID = domain.MAX_REF_ID


def get_signal(session: Session, principal: Principal, signal_id: int) -> Signal:
    row = repository.signal(session, principal, signal_id) if 0 < signal_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"no signal #{signal_id}")
    return row


def dismiss(session: Session, actor: Principal, signal_id: int, reason: str) -> Signal:
    """The DUG decides a signal needs no urgent review; the reason is recorded."""
    actor.require(Permission.SYSTEMIC_MANAGE)
    row = get_signal(session, actor, signal_id)
    if row.state != SignalState.OPEN.value:
        raise Conflict("only an open signal can be dismissed")
    if len(reason.strip()) < 10:
        raise Invalid("give the reason (at least 10 characters)", field="reason")
    if not repository.signal_compare_and_set(session, row, state=SignalState.DISMISSED.value,
                                             dismissed_reason=reason.strip()):
        raise Conflict("the signal was changed by someone else; reload")
    record_event(session, "systemic-signal:dismissed", actor=actor, subject_type="systemic-signal",
                 subject_id=row.id, data={"reason": reason.strip()})
    return row


# ============================================================================ urgent reviews


def review_by_id(session: Session, review_id: int) -> Review | None:
    return repository.review_by_id(session, review_id)


def escalation_eligible(review: Review) -> bool:
    return domain.escalation_eligible(Outcome(review.outcome) if review.outcome else None)


def get_review(session: Session, principal: Principal, review_id: int) -> Review:
    row = repository.review(session, principal, review_id) if 0 < review_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"no urgent review #{review_id}")
    return row


def _today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def facts(row: Review) -> domain.ReviewFacts:
    def ms(kind: str) -> tuple[domain.Milestone, ...]:
        return tuple(domain.Milestone(m.title, m.due, m.done_on) for m in row.milestones if m.kind == kind)

    return domain.ReviewFacts(
        stage=Stage(row.stage),
        experts=tuple(domain.Expert(e.name, tuple(e.expertise), e.organisation_id) for e in row.experts),
        evidence_count=sum(1 for e in row.evidence if e.kind == "evidence"),
        findings=row.findings, milestones=ms("remediation"), critical=row.critical,
        steps=ms("long_term"), previous_attempts_report=row.previous_attempts_report,
        remedy_due=row.remedy_due,
    )


def open_review(session: Session, actor: Principal, signal_id: int, *, title: str,
                operator_org_id: int | None = None, now: datetime) -> Review:
    """The DUG, by a passed decision, determines a significant or systemic failure and opens the
    urgent review (R-SYS-1, R-SYS-2)."""
    _require_manage(session, actor, parties(session, operator_org_id))
    signal = get_signal(session, actor, signal_id)
    if signal.state != SignalState.OPEN.value:
        raise Conflict("this signal was dismissed or already led to an urgent review")
    title = " ".join(title.split())
    if not title:
        raise Invalid("give the review a title", field="title")
    operator = (registry_repository.organisation_by_id(session, operator_org_id)
                if operator_org_id is not None and 0 < operator_org_id <= MAX_ID else None)
    if operator_org_id is not None and (operator is None or operator.kind != "operator"):
        raise Invalid(f"no TLD registry operator #{operator_org_id}", field="operator_org_id")
    from steward.governance import service as governance

    motion = governance.require_decision(session, "determine_systemic_failure", "systemic-signal", signal.id)
    if operator_org_id is not None and operator_org_id not in motion.party_organisation_ids:
        # the DUG as a body names the operator concerned (its members then recused from the vote):
        # not whoever opens the review, who could otherwise recuse the chair at will
        raise Invalid(f"the DUG's decision #{motion.id} does not name {operator.name if operator else ''} as the "
                      "operator concerned: propose the motion with it as a party", field="operator_org_id")
    if not repository.signal_compare_and_set(session, signal, state=SignalState.REVIEW.value):
        raise Conflict("the signal was changed by someone else; reload")
    row = Review(title=title[:300], signal_id=signal.id, decision_motion_id=motion.id,
                 operator_org_id=operator_org_id, stage=Stage.DETERMINED.value, opened_at=now,
                 opened_by_id=actor.user_id)
    session.add(row)
    session.flush()
    record_event(session, "urgent-review:opened", actor=actor, subject_type=SUBJECT, subject_id=row.id,
                 data={"signal": signal.id, "motion": motion.id, "title": row.title})
    _notify(session, _dug_users(session, parties(session, row.operator_org_id)), f"[Steward] Urgent review #{row.id} opened: {row.title}",
            f"The DUG determined a significant or systemic failure.\n\n{{base}}/systemic/reviews/{row.id}\n",
            key=f"urgent-review:{row.id}:opened")
    return row


PERMISSION_OF: dict[Actor, Permission] = {
    Actor.DUG: Permission.SYSTEMIC_MANAGE,
    Actor.EXPERT: Permission.SYSTEMIC_ADVISE,
    Actor.MEDIATOR: Permission.SYSTEMIC_MEDIATE,
    Actor.IAP: Permission.SYSTEMIC_ADJUDICATE,
}


def _check_actor(actor: Principal, row: Review, action: Action, *, review_parties: frozenset[int],
                 stand_in: bool = False) -> None:
    """May ``actor`` take ``action`` on the review? ``stand_in``: every chair is recused from it."""
    who = domain.actor_of(Stage(row.stage), action)
    if who is Actor.DUG and recused(actor, review_parties):
        raise Forbidden("You are recused from this review: your organisation is a party to it (R-DUG-3).")
    standing_in = stand_in and actor.has_role(Role.DUG_MEMBER) and not recused(actor, review_parties)
    if action is Action.ADD_EVIDENCE and (actor.has(Permission.SYSTEMIC_ENGAGE) or actor.has(Permission.SYSTEMIC_MANAGE)
                                          or standing_in):
        return  # the IFM and the DUG bring evidence to the root-cause engagement too
    if who is Actor.DUG and standing_in:
        return  # a member not recused stands in for the recused chair (as in disputes)
    actor.require(PERMISSION_OF[who])
    if who is Actor.EXPERT and not any(e.user_id == actor.user_id for e in row.experts):
        raise Forbidden("only the experts appointed to this review may do this")
    if who in ENGAGED_AS and actor.user_id not in engaged(row, ENGAGED_AS[who]):
        raise Forbidden(f"only the {ENGAGED_AS[who]}s engaged on this review may do this")


# The actors whom the DUG engages on a review by name (R-SYS-2), as the participant role stored.
ENGAGED_AS: dict[Actor, str] = {Actor.MEDIATOR: "mediator", Actor.IAP: "panelist"}


def engaged(row: Review, role: str) -> set[int]:
    """The users engaged on the review as ``role`` ("mediator" or "panelist")."""
    return {p.user_id for p in row.participants if p.role == role}


def available_actions(session: Session, principal: Principal, row: Review,
                      now: datetime | None = None) -> list[Action]:
    """The actions this person may take now (for pages, the API and the CLI): theirs to take, and
    whose guards on the review's state pass (``domain.blocked``): a step that would be refused
    whatever is given with it is not offered."""
    review_parties = parties(session, row.operator_org_id)
    stand_in = accounts.chairs_recused(session, review_parties)
    f, today = facts(row), _today(now or utcnow())
    seen: list[Action] = []
    for t in domain.actions_from(Stage(row.stage)):
        if t.action in seen or domain.blocked(f, t.action, today) is not None:
            continue
        try:
            _check_actor(principal, row, t.action, review_parties=review_parties, stand_in=stand_in)
        except (Forbidden, Unauthenticated, SystemicError):
            continue
        seen.append(t.action)
    return seen


@dataclass
class ActInput:
    """Everything an action may take; each action reads only its own fields."""

    text: str = ""
    name: str = ""
    expertise: str = ""
    organisation_id: int | None = None
    user_email: str = ""
    declaration: str = ""
    milestones: str = ""
    milestone_id: int | None = None
    critical: bool | None = None
    finding: str = ""
    ref: str = ""
    mediator_ids: tuple[int, ...] = ()
    panelist_ids: tuple[int, ...] = ()
    version: int | None = None


def _require_decision(session: Session, kind: str, row: Review) -> int:
    from steward.governance import service as governance

    return governance.require_decision(session, kind, SUBJECT, row.id).id


def act(session: Session, actor: Principal, review_id: int, action: str, inp: ActInput,
        now: datetime) -> Review:
    """Take one step of the urgent review ladder (the transition table in the domain)."""
    try:
        act_ = Action(action)
    except ValueError:
        raise Invalid(f"unknown action '{action}'", field="action") from None
    row = get_review(session, actor, review_id)
    expected_version = row.version
    if inp.version is not None and inp.version != expected_version:
        raise Conflict("the urgent review was changed by someone else since you loaded it; reload")
    today = _today(now)
    try:
        domain.actor_of(Stage(row.stage), act_)
    except SystemicError as err:
        raise Conflict(err.message) from None
    review_parties = parties(session, row.operator_org_id)
    _check_actor(actor, row, act_, review_parties=review_parties, stand_in=accounts.chairs_recused(session, review_parties))
    data: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    try:
        if act_ is Action.APPOINT_EXPERT:
            data = _appoint_expert(session, row, inp, now)
        elif act_ is Action.ADD_EVIDENCE:
            if len(inp.text.strip()) < 5:
                raise SystemicError("describe the evidence", "text")
            kind = "evidence"
            session.add(EvidenceRow(review_id=row.id, kind=kind, ref=inp.ref.strip(), text=inp.text.strip(),
                                    added_by_id=actor.user_id,
                                    added_by_label=actor.user.email if actor.user else "system", added_at=now))
            data = {"ref": inp.ref.strip()}
        elif act_ is Action.RECORD_FINDINGS:
            domain.transition(facts(row), act_)
            if len(inp.text.strip()) < 10:
                raise SystemicError("record the findings (at least 10 characters)", "text")
            changes["findings"] = inp.text.strip()
        elif act_ is Action.AGREE_REMEDIATION:
            plan = domain.parse_milestones(inp.milestones)
            domain.check_plan(plan, today)
            # every guard before any row is written: a refused step leaves nothing behind
            f = facts(row)
            domain.transition(domain.ReviewFacts(**{**f.__dict__, "milestones": (*f.milestones, *plan)}), act_)
            for m in plan:
                session.add(Milestone(review_id=row.id, kind="remediation", title=m.title, due=m.due))
            data = {"milestones": [{"title": m.title, "due": m.due.isoformat()} for m in plan]}
        elif act_ is Action.ADD_STEP:
            steps = domain.parse_milestones(inp.milestones)
            domain.check_plan(steps, today)
            for m in steps:
                session.add(Milestone(review_id=row.id, kind="long_term", title=m.title, due=m.due))
            data = {"steps": [{"title": m.title, "due": m.due.isoformat()} for m in steps]}
        elif act_ in (Action.COMPLETE_MILESTONE, Action.COMPLETE_STEP):
            kind = "remediation" if act_ is Action.COMPLETE_MILESTONE else "long_term"
            item = next((m for m in row.milestones if m.id == inp.milestone_id and m.kind == kind), None)
            if item is None:
                raise SystemicError("choose one of this review's open items", "milestone_id")
            if item.done_on is not None:
                raise SystemicError(f"'{item.title}' is already completed", "milestone_id")
            item.done_on, item.note = today, inp.text.strip()
            data = {"item": item.title, "on_time": today <= item.due}
        elif act_ is Action.ADVISE:
            if len(inp.text.strip()) < 10:
                raise SystemicError("give the experts' advice (at least 10 characters)", "text")
            changes.update(critical=inp.critical, advice=inp.text.strip())
            data = {"critical": inp.critical}
        elif act_ is Action.ENGAGE_MEDIATOR:
            motion = _require_decision(session, "engage_mediator", row)
            if Stage(row.stage) is not Stage.MEDIATION:  # mediation begins: with the report (R-SYS-2)
                changes["previous_attempts_report"] = inp.text.strip()
                domain.transition(domain.ReviewFacts(**{**facts(row).__dict__,
                                                        "previous_attempts_report": inp.text}), act_)
            data = {"motion": motion, "mediators": _engage(session, row, inp.mediator_ids, Role.MEDIATOR, now)}
        elif act_ is Action.ENGAGE_IAP:
            data = {"motion": _require_decision(session, "engage_iap", row),
                    "panelists": _engage(session, row, inp.panelist_ids, Role.IAP_PANELIST, now)}
        elif act_ is Action.MEDIATION_AGREED:
            if len(inp.text.strip()) < 10:
                raise SystemicError("record what was agreed (at least 10 characters)", "text")
            session.add(EvidenceRow(review_id=row.id, kind="mediation", text=inp.text.strip(),
                                    added_by_id=actor.user_id, added_at=now,
                                    added_by_label=actor.user.email if actor.user else "system"))
        elif act_ is Action.IAP_DECISION:
            try:
                finding = IapFinding(inp.finding)
            except ValueError:
                raise SystemicError("the finding is no_breach, remediable or not_remediable", "finding") from None
            if len(inp.text.strip()) < 10:
                raise SystemicError("record the IAP's decision (at least 10 characters)", "text")
            changes.update(iap_finding=finding.value, iap_decision=inp.text.strip())
            if finding is IapFinding.REMEDIABLE:
                changes["remedy_due"] = today + timedelta(days=get_settings().systemic_iap_remedy_days)
            data = {"finding": finding.value, "binds": domain.bound_parties(row.operator_org_id is not None)}
        session.flush()
        session.refresh(row)
        f = facts(row)
        if "previous_attempts_report" in changes:
            f = domain.ReviewFacts(**{**f.__dict__, "previous_attempts_report": inp.text})
        stage, outcome = domain.transition(
            f, act_, critical=inp.critical,
            iap_finding=IapFinding(inp.finding) if act_ is Action.IAP_DECISION else None, today=today)
    except SystemicError as err:
        raise _invalid(err) from None
    if stage is not Stage(row.stage) or changes or data.get("mediators") or data.get("panelists"):
        if stage is Stage.CLOSED:
            changes.update(outcome=outcome.value if outcome else None, closed_at=now)
        if not repository.compare_and_set(session, row, expected_version, stage=stage.value, **changes):
            raise Conflict("the urgent review was changed by someone else; reload")
    public = act_ in (Action.IAP_DECISION, Action.CONFIRM_REMEDY, Action.REMEDY_LAPSED)  # published
    record_event(session, f"urgent-review:{act_.value.replace('_', '-')}", actor=actor, subject_type=SUBJECT,
                 subject_id=row.id, data={**data, "stage": stage.value,
                                          **({"outcome": outcome.value} if outcome else {})}, public=public)
    if act_ in (Action.IAP_DECISION, Action.CONFIRM_REMEDY, Action.REMEDY_LAPSED):
        published = public_finding(session, row)
        what = "IAP finding" if act_ is Action.IAP_DECISION else "Outcome of the IAP finding"
        record_publication(session, "iap_finding", f"{what} on urgent review #{row.id}: {row.title}",
                           f"/disputes/findings#review-{row.id}", published, actor=actor,
                           summary=f"Finding: {published['finding_label']}"
                           + (f"; {published['outcome_label']}" if published["outcome_label"] else ""))
    _notify_stage(session, row, act_)
    return row


FINDING_LABELS = {
    IapFinding.NO_BREACH.value: "No breach",
    IapFinding.REMEDIABLE.value: "Breach capable of remedy",
    IapFinding.NOT_REMEDIABLE.value: "Breach not capable of remedy",
}
_OUTCOME_LABELS = {
    Outcome.REMEDIED.value: "Breach remedied",
    Outcome.REMEDY_LAPSED.value: "Breach not remedied in time",
}


def public_finding(session: Session, row: Review) -> dict[str, Any]:
    """The published facts of an urgent review's IAP finding (all IAP findings are published, as
    R-DSP-6 says of disputes): the review, whom it binds (R-SYS-2), the finding and the decision,
    the remedy's deadline and outcome. Never the review's confidential file."""
    operator = (registry_repository.organisation_by_id(session, row.operator_org_id)
                if row.operator_org_id is not None else None)
    return {
        "review": row.id,
        "title": row.title,
        "operator": operator.name if operator is not None else None,
        "binds": domain.bound_parties(row.operator_org_id is not None),
        "finding": row.iap_finding,
        "finding_label": FINDING_LABELS.get(row.iap_finding or "", ""),
        "decision": row.iap_decision,
        "remedy_due": row.remedy_due.isoformat() if row.remedy_due else None,
        "outcome": row.outcome,
        "outcome_label": _OUTCOME_LABELS.get(row.outcome or "", ""),
        "eligible_for_further_escalation": escalation_eligible(row),
    }


def published_findings(session: Session) -> list[dict[str, Any]]:
    """Every urgent review's IAP finding, newest review first (public)."""
    return [public_finding(session, r) for r in repository.reviews_with_finding(session)]


def _appoint_expert(session: Session, row: Review, inp: ActInput, now: datetime) -> dict[str, Any]:
    _require_decision(session, "appoint_experts", row)
    expertise = tuple(x.strip() for x in inp.expertise.replace(";", ",").split(",") if x.strip())
    org = (registry_repository.organisation_by_id(session, inp.organisation_id)
           if inp.organisation_id and 0 < inp.organisation_id <= MAX_ID else None)
    if inp.organisation_id and org is None:
        raise SystemicError(f"no organisation #{inp.organisation_id}", "organisation_id")
    user = None
    if inp.user_email.strip():
        user = accounts_repository.user_by_email(session, inp.user_email.strip().lower())
        if user is None:
            raise SystemicError(f"no user {inp.user_email.strip()}", "user_email")
    # the organisation named and the account's own one are both checked: an IFM employee, or a
    # member of a party, is no independent expert (R-SYS-2, R-DUG-3)
    user_org = (registry_repository.organisation_by_id(session, user.organisation_id)
                if user is not None and user.organisation_id is not None else None)
    review_parties = parties(session, row.operator_org_id)
    conflict = None
    for o in (org, user_org):
        if o is not None and conflict is None:
            conflict = domain.conflict_of(o.id, o.kind, bool(o.affiliated_with_ifm), "",
                                          party=o.id in review_parties)
    conflict = conflict or domain.conflict_of(None, None, False, inp.declaration)
    recorded = org or user_org  # the account's organisation when none is named
    domain.check_expert(domain.Expert(inp.name, expertise, recorded.id if recorded else None, conflict))
    session.add(Expert(review_id=row.id, name=inp.name.strip(), expertise=list(expertise),
                       organisation_id=recorded.id if recorded else None, user_id=user.id if user else None,
                       declaration=inp.declaration.strip(), appointed_at=now))
    return {"expert": inp.name.strip(), "expertise": list(expertise)}


def engaged_people(session: Session, row: Review) -> dict[str, list[User]]:
    """The mediators and IAP panelists engaged on the review, by role, for showing their names."""
    users = {u.id: u for u in accounts_repository.users_by_ids(session, (p.user_id for p in row.participants))}
    return {role: [users[p.user_id] for p in row.participants if p.role == role and p.user_id in users]
            for role in ENGAGED_AS.values()}


def _engage(session: Session, row: Review, ids: tuple[int, ...], role: Role, now: datetime) -> list[int]:
    """Engage the named mediator or IAP panelists on this review: from now on they, and of their
    role only they, see it and act in it."""
    field = "mediator_ids" if role is Role.MEDIATOR else "panelist_ids"
    if not ids:
        raise SystemicError("name the mediator engaged" if role is Role.MEDIATOR
                            else "name at least one IAP panelist", field)
    stored = "mediator" if role is Role.MEDIATOR else "panelist"
    new = sorted(accounts.engageable(session, ids, role, field) - engaged(row, stored))
    for uid in new:
        session.add(Participant(review_id=row.id, user_id=uid, role=stored, engaged_at=now))
    return new


def _notify_stage(session: Session, row: Review, action: Action) -> None:
    addresses = _dug_users(session, parties(session, row.operator_org_id))
    people = {e.user_id for e in row.experts if e.user_id is not None} | {p.user_id for p in row.participants}
    for user in accounts_repository.users_by_ids(session, people):
        if user.active:
            addresses[user.id] = user.email
    _notify(session, addresses, f"[Steward] Urgent review #{row.id}: {Stage(row.stage).label}",
            f"{row.title}\nStep taken: {action.value.replace('_', ' ')}\n\n{{base}}/systemic/reviews/{row.id}\n",
            key=f"urgent-review:{row.id}:v{row.version}:{action.value}")


def remind_due(session: Session, now: datetime) -> str:
    """Periodic: email the DUG once about each overdue milestone or step (less its members recused
    from the review, R-DUG-3); the experts are not emailed."""
    items = repository.overdue_items(session, _today(now))
    for m in items:
        review = repository.review_by_id(session, m.review_id)
        assert review is not None
        addresses = _dug_users(session, parties(session, review.operator_org_id))
        _notify(session, addresses, f"[Steward] Overdue in urgent review #{review.id}: {m.title}",
                f"'{m.title}' was due {m.due}.\n\n{{base}}/systemic/reviews/{review.id}\n",
                key=f"urgent-review:{review.id}:overdue:{m.id}")
        m.reminded = True
    session.flush()
    return f"{len(items)} overdue reminders"
