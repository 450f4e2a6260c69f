"""Dispute use cases: lodge, act on a case, consent to disclosure, deadlines and notices.

Every state change goes through ``domain.apply`` and is saved with a compare-and-set on the
case's version, so that two people acting at once cannot both win (architecture habit 1).
Services flush, never commit; emails go to the outbox in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from steward.accounts import service as accounts
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.config import Settings, get_settings
from steward.db import utcnow
from steward.disputes import archiving, domain, repository
from steward.disputes.domain import (
    Action,
    ActionInput,
    Actor,
    Case,
    CaseParties,
    CaseRole,
    Complaint,
    DeadlineKind,
    DisputePolicy,
    RefusalGround,
    Stage,
    Subject,
    Viewer,
)
from steward.disputes.models import (
    DisputeAttachment,
    DisputeCase,
    DisputeDisclosureConsent,
    DisputeDocument,
    DisputeParticipant,
    DisputeRemedialAction,
    DisputeTimelineEntry,
)
from steward.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from steward.events import record_event, record_publication
from steward.outbox import enqueue_emails
from steward.registry import repository as registry_repo
from steward.workdays.domain import CalendarError, Deadline, WorkdayCalendar

MAX_ID = 2**31 - 1
PARTY_ROLES = ("operator_staff", "ifm_staff", "dug_member", "dug_chair", "dug_liaison",
               "mediator", "iap_panelist")  # fmt: skip


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Upload:
    """A file sent with an action."""

    filename: str
    content_type: str
    data: bytes
    field: str = "files"  # the input it came in, which an error names: the page's; the API's "attachments"


@dataclass(frozen=True)
class ComplaintForm:
    """What an operator fills in to open a case (R-DSP-2)."""

    title: str
    tlds: list[str]
    service_levels: list[str]
    subject: str
    what_happened: str
    negotiation: str = ""


@dataclass(frozen=True)
class ActionRequest:
    """An action on a case; ``version`` is the version the person saw (None: the current one)."""

    action: str
    version: int | None = None
    text: str = ""
    refusal_ground: str | None = None
    mediator_ids: list[int] = field(default_factory=list)
    panelist_ids: list[int] = field(default_factory=list)
    remedial_action_index: int | None = None
    complaint: ComplaintForm | None = None
    uploads: list[Upload] = field(default_factory=list)


# --------------------------------------------------------------------------- settings


def calendar_from(settings: Settings) -> WorkdayCalendar:
    try:
        return WorkdayCalendar.from_code(settings.workdays_calendar, settings.workdays_timezone)
    except CalendarError as exc:
        raise Invalid(str(exc), field=f"workdays_{exc.field}") from exc


def policy(settings: Settings | None = None) -> DisputePolicy:
    s = settings or get_settings()
    return DisputePolicy(
        calendar=calendar_from(s),
        response_working_days=s.dispute_response_working_days,
        remedy_days=s.dispute_remedy_days,
        reminder_working_days=s.dispute_reminder_working_days,
        remedy_reminder_days=s.dispute_remedy_reminder_days,
    )


# --------------------------------------------------------------------------- mapping


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(principal.user_id, frozenset(r.value for r in principal.roles), principal.organisation_id)


def actor_of(principal: Principal, parties: CaseParties) -> Actor:
    if principal.user_id is None:
        raise Unauthenticated()
    return Actor(
        principal.user_id,
        domain.relations(viewer_of(principal), parties),
        frozenset(p.value for p in principal.permissions),
    )


def case_actor(db: Session, principal: Principal, facts: CaseParties, action: Action | None = None) -> Actor:
    """The principal as an actor on this case (``action``: the one asked for, if known).

    The chair carries out the DUG's decisions on a dispute (``dispute:decide``; each is already a
    passed motion). When every chair is recused from the case (R-DUG-3: the chair's organisation is
    a party), a voting member who is not recused stands in for the chair on it, or the DUG's
    decisions on that dispute could never be carried out."""
    actor = actor_of(principal, facts)
    if (
        domain.PERM_DECIDE not in actor.permissions
        and principal.has_role(Role.DUG_MEMBER)
        and CaseRole.DUG in actor.relations
        and (action is None or action in _DECIDED)
        and _chairs_recused(db, facts)
    ):
        actor = replace(actor, permissions=actor.permissions | {domain.PERM_DECIDE})
    return actor


_DECIDED = frozenset(t.action for t in domain.TRANSITIONS if t.permission == domain.PERM_DECIDE)


def _chairs_recused(db: Session, facts: CaseParties) -> bool:
    chairs = repository.users_with_roles(db, [Role.DUG_CHAIR.value])
    return bool(chairs) and all(
        domain.is_recused(Viewer(c.id, frozenset({Role.DUG_CHAIR.value}), c.organisation_id), facts)
        for c in chairs
    )


def _deadline(data: dict[str, Any] | None) -> Deadline | None:
    return Deadline.from_dict(data) if data else None


def deadlines_of(row: Any) -> dict[DeadlineKind, datetime]:
    """A listed case's running deadlines, from its stage and the moments its deadlines fall due
    (the board reads those alone, not the deadlines' proofs): for lists of many cases."""

    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return domain.running_deadlines(
        Stage(row.stage),
        acknowledgement_due=moment(row.acknowledgement_due), acknowledged=row.acknowledged_at is not None,
        answer_due=moment(row.answer_due), answered=row.answered_at is not None,
        response_due=moment(row.response_due), remedy_due=row.remedy_due,
    )


def to_domain(row: DisputeCase) -> Case:
    """The domain's view of a stored case."""
    refusal = None
    if row.refusal_ground:
        refusal = domain.Refusal(
            RefusalGround(row.refusal_ground), row.refusal_reason or "", row.refusal_rule or "R-DSP-1"
        )
    return Case(
        stage=Stage(row.stage),
        complaint=Complaint(
            tuple(row.tlds), tuple(row.service_levels), Subject(row.subject),
            row.what_happened, row.negotiation,
        ),
        lodged_at=row.lodged_at,
        acknowledgement_due=_deadline(row.acknowledgement_due),
        acknowledged_at=row.acknowledged_at,
        answer_due=_deadline(row.answer_due),
        answered_at=row.answered_at,
        response_due=_deadline(row.response_due),
        responded_at=row.responded_at,
        instructions=row.instructions,
        mediator_ids=frozenset(p.user_id for p in row.participants if p.role == "mediator"),
        dug_report_filed=row.dug_report_filed,
        ifm_report_filed=row.ifm_report_filed,
        remedial_actions=tuple(
            domain.RemedialAction(a.description, a.completed_at, a.completion_note)
            for a in row.remedial_actions
        ),
        bound_agreement_at=row.bound_agreement_at,
        panelist_ids=frozenset(p.user_id for p in row.participants if p.role == "panelist"),
        finding_at=row.finding_at,
        remedy_due=row.remedy_due,
        remedied_at=row.remedied_at,
        refusal=refusal,
        withdrawal_reason=row.withdrawal_reason,
        closed_at=row.closed_at,
    )


def _columns(case: Case) -> dict[str, object]:
    """Column values of the case row for a domain case (people and actions are separate rows)."""
    c = case.complaint
    refusal = case.refusal
    values: dict[str, object] = {
        "stage": case.stage.value,
        "subject": c.subject.value if c else Subject.SERVICE_LEVEL.value,
        "tlds": list(c.tlds) if c else [],
        "service_levels": list(c.service_levels) if c else [],
        "what_happened": c.what_happened if c else "",
        "negotiation": c.negotiation if c else "",
        "lodged_at": case.lodged_at,
        "closed_at": case.closed_at,
        "acknowledgement_due": case.acknowledgement_due.to_dict() if case.acknowledgement_due else None,
        "acknowledged_at": case.acknowledged_at,
        "answer_due": case.answer_due.to_dict() if case.answer_due else None,
        "answered_at": case.answered_at,
        "response_due": case.response_due.to_dict() if case.response_due else None,
        "responded_at": case.responded_at,
        "remedy_due": case.remedy_due,
        "remedied_at": case.remedied_at,
        "next_due_at": domain.next_due(case),
        "instructions": case.instructions,
        "dug_report_filed": case.dug_report_filed,
        "ifm_report_filed": case.ifm_report_filed,
        "bound_agreement_at": case.bound_agreement_at,
        "finding_at": case.finding_at,
        "refusal_ground": refusal.ground.value if refusal else None,
        "refusal_reason": refusal.reason if refusal else None,
        "refusal_rule": refusal.rule if refusal else None,
        "withdrawal_reason": case.withdrawal_reason,
    }
    # instants in UTC, as the row gives them back when read (a deadline is computed in its
    # calendar's zone): the answer to an action is made from these values, not read again
    return {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in values.items()}


def _domain_errors(exc: domain.DisputeError) -> Exception:
    if isinstance(exc, domain.InvalidInput):
        return Invalid(str(exc), field=exc.field)
    if isinstance(exc, domain.NotPermitted):
        return Forbidden(str(exc))
    rule = getattr(exc, "rule", None)
    return Conflict(f"{exc} ({rule})" if rule else str(exc))


# --------------------------------------------------------------------------- reads


def get_case(db: Session, principal: Principal, case_id: int) -> DisputeCase:
    """A case the principal may see; 404 for everyone else (R-DSP-7)."""
    if not 1 <= case_id <= MAX_ID:
        raise NotFound(f"no dispute {case_id}")
    row = repository.readable_case(db, principal, case_id)
    if row is None:
        raise NotFound(f"no dispute {case_id}")
    return row


def parties(db: Session, row: DisputeCase) -> CaseParties:
    return repository.parties_of(db, row)


def available_actions(db: Session, principal: Principal, row: DisputeCase, now: datetime | None = None) -> list[Action]:
    if principal.is_anonymous:
        return []
    actor = case_actor(db, principal, parties(db, row))
    return domain.available_actions(to_domain(row), actor, now or utcnow())


def case_facts(db: Session, principal: Principal, row: DisputeCase, now: datetime | None = None) -> dict[str, Any]:
    """What the case page and the API show: deadlines with proofs, flags, people, file."""
    moment = now or utcnow()
    case = to_domain(row)
    facts = parties(db, row)
    rels = domain.relations(viewer_of(principal), facts)
    names = repository.organisation_names(db, [row.complainant_org_id])
    people = {u.id: u for u in repository.users_by_ids(db, [p.user_id for p in row.participants])}
    consents = repository.consenting_parties(db, row.id)
    deadlines = []
    for kind, proof in (
        (DeadlineKind.ACKNOWLEDGEMENT, case.acknowledgement_due),
        (DeadlineKind.ANSWER, case.answer_due),
        (DeadlineKind.RESPONSE, case.response_due),
    ):
        if proof is not None:
            local_due = proof.due.astimezone(ZoneInfo(proof.timezone))
            deadlines.append({"kind": kind.value, "due": local_due, "proof": proof,
                              "running": kind in domain.open_deadlines(case)})
    return {
        "case": case,
        "row": row,
        "complainant": names.get(row.complainant_org_id, "?"),
        "relations": sorted(r.value for r in rels),
        "recused": domain.is_recused(viewer_of(principal), facts),
        "overdue": sorted(k.value for k in domain.overdue(case, moment)),
        "deadlines": deadlines,
        "mediators": [people[p.user_id] for p in row.participants if p.role == "mediator" and p.user_id in people],
        "panelists": [people[p.user_id] for p in row.participants if p.role == "panelist" and p.user_id in people],
        "consents": list(consents),
        "disclosed": facts.disclosed,
        "actions": available_actions(db, principal, row, moment) if rels else [],
        "documents": repository.documents_of(db, row.id),
        "timeline": repository.timeline_of(db, row.id),
        "eligible_for_further_escalation": case.eligible_for_further_escalation,
        "decisions": _decisions(db, row.id) if CaseRole.DUG in rels else [],
        "dug_decisions": DUG_DECISIONS,
    }


def _decisions(db: Session, case_id: int) -> list[Any]:
    from steward.governance import service as governance

    return governance.decisions_for(db, "dispute", case_id)


# --------------------------------------------------------------------------- writes


def _complaint_of(form: ComplaintForm) -> Complaint:
    try:
        subject = Subject(form.subject)
    except ValueError:
        known = ", ".join(s.value for s in Subject)
        raise Invalid(f"unknown subject '{form.subject}' (known: {known})", field="subject") from None
    return Complaint(tuple(form.tlds), tuple(form.service_levels), subject, form.what_happened, form.negotiation)


def _check_tlds(db: Session, org_id: int, complaint: Complaint) -> None:
    """R-DSP-1: a dispute is between one operator and the IFM — the TLDs must be its own. An
    excluded complaint is refused with the reason instead: a delegation or re-delegation concerns
    a TLD the operator does not (yet) manage, or one not in the registry at all."""
    try:
        clean = domain.validate_complaint(complaint, require_negotiation=False)
    except domain.InvalidInput as exc:
        raise Invalid(str(exc), field=exc.field) from exc
    if domain.screen_complaint(clean) is not None:
        return
    for label in clean.tlds:
        tld = registry_repo.tld_by_label(db, label)
        if tld is None:
            raise Invalid(f".{label} is not a TLD in the registry", field="tlds")
        if tld.manager_id != org_id:
            raise Invalid(f".{label} is not managed by your organisation", field="tlds")


def open_case(
    db: Session,
    principal: Principal,
    form: ComplaintForm,
    *,
    negotiate_first: bool = False,
    uploads: list[Upload] | None = None,
    now: datetime | None = None,
) -> DisputeCase:
    """Open direct negotiation, or lodge a complaint with the DUG (refused at once under R-DSP-1)."""
    principal.require(Permission.DISPUTE_LODGE)
    org_id = principal.organisation_id
    # the principal was read with its organisation's name, in this transaction: no name, no organisation
    if org_id is None or principal.user is None or principal.user.organisation_name is None:
        raise Forbidden("only staff of a registry operator can open a dispute")
    title = form.title.strip()
    if not title:
        raise Invalid("give the dispute a short title", field="title")
    if len(title) > 300:
        raise Invalid("the title is longer than 300 characters", field="title")
    moment = now or utcnow()
    _precheck(uploads or [])
    complaint = _complaint_of(form)
    _check_tlds(db, org_id, complaint)
    action = Action.OPEN_NEGOTIATION if negotiate_first else Action.LODGE
    start_parties = CaseParties(complainant_org_id=org_id, ifm_org_ids=repository.ifm_org_ids(db))
    outcome = _apply(Case(), action, actor_of(principal, start_parties),
                     ActionInput(now=moment, complaint=complaint, text=complaint.what_happened))
    values = _columns(outcome.case)
    row = DisputeCase(
        # numbered last, just before the notices that name it: on PostgreSQL the number is taken
        # under a lock held until commit, which every other lodging waits for (invisible meanwhile)
        reference=f"new-{secrets.token_hex(8)}",
        title=title,
        complainant_org_id=org_id,
        opened_by_id=principal.user_id,
        opened_at=moment,
        version=1,
        participants=[],  # a new case has none: known, not loaded (a SELECT each otherwise)
        remedial_actions=[],
        **values,
    )
    db.add(row)
    db.flush()
    body = _complaint_text(outcome.case.complaint)
    _record(db, principal, row, outcome, Stage.START, body, uploads or [], moment)
    to = recipients(db, row)  # who is told is known without the number: read before it is taken
    row.reference = repository.next_reference(db, moment.year)
    db.flush()
    _archive_if_closed(db, principal, row)  # refused at once (R-DSP-1): archived, numbered
    _notify(db, principal, row, outcome, Stage.START, to)
    return row


def _complaint_text(c: Complaint | None) -> str:
    if c is None:
        return ""
    return (
        f"TLDs: {', '.join('.' + t for t in c.tlds)}\n"
        f"Service levels: {', '.join(c.service_levels) or '—'}\n"
        f"Subject: {c.subject.value}\n\nWhat happened:\n{c.what_happened}\n\n"
        f"Direct negotiation tried (R-DSP-2):\n{c.negotiation or '—'}\n"
    )


def _apply(case: Case, action: Action, actor: Actor, inp: ActionInput) -> domain.Outcome:
    try:
        return domain.apply(case, action, actor, inp, policy())
    except domain.DisputeError as exc:
        raise _domain_errors(exc) from exc


def act(
    db: Session, principal: Principal, case_id: int, req: ActionRequest, now: datetime | None = None
) -> DisputeCase:
    """Take an action on a case (any row of the ladder). Exactly one of two concurrent actions wins."""
    if principal.is_anonymous:
        raise Unauthenticated()
    row = get_case(db, principal, case_id)
    moment = now or utcnow()
    _precheck(req.uploads)
    try:
        action = Action(req.action)
    except ValueError:
        raise Invalid(f"unknown action '{req.action}'", field="action") from None
    expected = row.version if req.version is None else req.version
    if expected != row.version:
        raise Conflict(
            f"{row.reference} was changed by someone else since you loaded it "
            f"(now: {Stage(row.stage).label}); reload and try again"
        )
    facts = parties(db, row)
    ground = None
    if req.refusal_ground:
        try:
            ground = RefusalGround(req.refusal_ground)
        except ValueError:
            raise Invalid("choose delegation, redelegation or policy", field="refusal_ground") from None
    engaged = _engaged_ids(db, action, req)
    inp = ActionInput(
        now=moment,
        text=req.text,
        complaint=_complaint_of(req.complaint) if req.complaint else None,
        refusal_ground=ground,
        mediator_ids=engaged if action is Action.ENGAGE_MEDIATOR else frozenset(),
        panelist_ids=engaged if action is Action.ENGAGE_IAP else frozenset(),
        remedial_action_index=req.remedial_action_index,
    )
    if inp.complaint is not None:
        _check_tlds(db, row.complainant_org_id, inp.complaint)
    before = to_domain(row)
    outcome = _apply(before, action, case_actor(db, principal, facts, action), inp)
    decision = _require_dug_decision(db, action, row.id)
    values = _columns(outcome.case)
    if not repository.compare_and_set(db, row.id, expected, values):
        raise Conflict(f"{row.reference} was changed by someone else at the same moment; reload and try again")
    if _people_changed(before, outcome.case):
        db.expire(row)  # read again below, once (touching the expired row would load it meanwhile)
        _sync_people(db, case_id, before, outcome.case, moment)
        row = repository.case_for_update(db, case_id) or row
    else:  # the row is now what the UPDATE wrote: not read again (the case and its people: 3 statements)
        repository.now_holds(row, values, expected + 1)
    body = _complaint_text(outcome.case.complaint) if inp.complaint else req.text.strip()
    _record(db, principal, row, outcome, before.stage, body, req.uploads, moment, decision)
    _archive_if_closed(db, principal, row)
    _notify(db, principal, row, outcome, before.stage)
    return row


def _archive_if_closed(db: Session, principal: Principal, row: DisputeCase) -> None:
    """A case that closed is archived: its final record goes into the log, sealed (R-DSP-9)."""
    if Stage(row.stage).closed:
        record_event(db, archiving.ARCHIVED_TAG, actor=principal, subject_type="dispute",
                     subject_id=row.id, data={"record": archiving.archived_record(row)})


# The DUG actions that, per the seed, the DUG as a body decides (steward.governance motions).
DUG_DECISIONS: dict[Action, str] = {
    Action.ISSUE_INSTRUCTION: "instruct_ifm",
    Action.ENGAGE_MEDIATOR: "engage_mediator",
    Action.ENGAGE_IAP: "engage_iap",
}


def _require_dug_decision(db: Session, action: Action, case_id: int) -> str:
    """A passed DUG motion on this dispute authorising the action (R-DSP-3…5), else Conflict."""
    kind = DUG_DECISIONS.get(action)
    if kind is None:
        return ""
    from steward.governance import service as governance

    motion = governance.require_decision(db, kind, "dispute", case_id)
    return f"DUG decision #{motion.id}: {motion.title}"


def _engaged_ids(db: Session, action: Action, req: ActionRequest) -> frozenset[int]:
    if action is Action.ENGAGE_MEDIATOR:
        return accounts.engageable(db, req.mediator_ids, Role.MEDIATOR, "mediator_ids")
    if action is Action.ENGAGE_IAP:
        return accounts.engageable(db, req.panelist_ids, Role.IAP_PANELIST, "panelist_ids")
    return frozenset()


def _people_changed(before: Case, after: Case) -> bool:
    """Whether an action engaged mediators or panelists or changed the remedial actions (rows of
    their own, which :func:`_sync_people` writes)."""
    return (after.mediator_ids != before.mediator_ids or after.panelist_ids != before.panelist_ids
            or after.remedial_actions != before.remedial_actions)


def _sync_people(db: Session, case_id: int, before: Case, after: Case, now: datetime) -> None:
    for uid in sorted(after.mediator_ids - before.mediator_ids):
        db.add(DisputeParticipant(case_id=case_id, user_id=uid, role="mediator", engaged_at=now))
    for uid in sorted(after.panelist_ids - before.panelist_ids):
        db.add(DisputeParticipant(case_id=case_id, user_id=uid, role="panelist", engaged_at=now))
    existing = {a.position: a for a in repository.remedial_actions_of(db, case_id)}
    for i, action in enumerate(after.remedial_actions):
        stored = existing.get(i)
        if stored is None:
            db.add(DisputeRemedialAction(case_id=case_id, position=i, description=action.description))
        elif action.completed_at is not None and stored.completed_at is None:
            stored.completed_at = action.completed_at
            stored.completion_note = action.completion_note
    db.flush()


def _record(
    db: Session,
    principal: Principal,
    row: DisputeCase,
    outcome: domain.Outcome,
    from_stage: Stage,
    body: str,
    uploads: list[Upload],
    now: datetime,
    decision: str = "",
) -> None:
    """Document, timeline, audit event and publication for one action."""
    doc_id = None
    data: dict[str, Any] = {}
    if outcome.document is not None and (body or uploads):
        doc = DisputeDocument(
            case_id=row.id, kind=outcome.document.value, body=body,
            author_id=principal.user_id, author_label=_label(principal), created_at=now,
        )
        db.add(doc)
        db.flush()
        doc_id = doc.id
        attached = [_attach(db, doc, upload) for upload in uploads]
        data["document"] = archiving.document_digest(doc, attached)  # sealed: R-DSP-9
    elif uploads:
        raise Invalid("this action carries no document to attach files to", field=uploads[0].field)
    action = outcome.transition.action
    to_stage = outcome.case.stage
    note = ""
    if outcome.case.refusal is not None and to_stage is Stage.REFUSED:
        note = f"{outcome.case.refusal.rule}: {outcome.case.refusal.reason}"
    elif action is Action.WITHDRAW:
        note = outcome.case.withdrawal_reason or ""
    elif action is Action.REQUEST_RESPONSE and outcome.case.response_due is not None:
        note = f"IFM response due {outcome.case.response_due.due.isoformat()}"
    elif action is Action.FIND_BREACH_REMEDIABLE and outcome.case.remedy_due is not None:
        note = f"remedy due {outcome.case.remedy_due.isoformat()}"
    if decision:
        note = f"{decision}; {note}" if note else decision
    db.add(DisputeTimelineEntry(
        case_id=row.id, at=now, actor_id=principal.user_id, actor_label=_label(principal),
        tag=outcome.event, action=action.value, from_stage=from_stage.value,
        to_stage=to_stage.value, note=note, document_id=doc_id,
    ))
    record_event(
        db, outcome.event, actor=principal, subject_type="dispute", subject_id=row.id,
        data={"action": action.value, "from": from_stage.value, "to": to_stage.value, **data},
    )
    if action in (Action.FIND_NO_BREACH, Action.FIND_BREACH_REMEDIABLE,
                  Action.FIND_BREACH_NOT_REMEDIABLE, Action.CONFIRM_REMEDY,
                  Action.DECLARE_NOT_REMEDIED) or (action is Action.WITHDRAW and row.finding_at is not None):
        _publish_finding(db, principal, row, to_stage)  # a finding's every outcome is public
    db.flush()


def _notify(db: Session, principal: Principal, row: DisputeCase, outcome: domain.Outcome, from_stage: Stage,
            to: list[repository.Addressee] | None = None) -> None:
    """The notices of one action: a stage change (or an opened negotiation) to all who may see it
    (``to``, or read now)."""
    if outcome.stage_changed or outcome.transition.action is Action.OPEN_NEGOTIATION:
        _notify_stage(db, principal, row, outcome, from_stage, recipients(db, row) if to is None else to)


def archive_reveals(db: Session, principal: Principal, case_id: int) -> list[dict[str, Any]]:
    """A party's own sealed entries of the case in the archive log, opened: position, salt and
    content (R-DSP-9). With them a party proves to anyone that its record existed, unaltered, at
    its date, which the log alone shows without content (``POST /api/v1/archive/entries/N/reveal``
    checks one). A party gets the entries of the steps its own people took; once both parties
    consented to disclosure (R-DSP-7), every entry of the case. Others who see the case get 403,
    strangers 404."""
    from steward.archive import service as archive

    row = get_case(db, principal, case_id)
    facts = parties(db, row)
    rels = domain.relations(viewer_of(principal), facts)
    if CaseRole.COMPLAINANT in rels:
        own = frozenset({facts.complainant_org_id})
    elif CaseRole.IFM in rels:
        own = facts.ifm_org_ids
    else:
        raise Forbidden("Only the parties to a dispute (its complainant and the IFM) open its archive entries.")
    events = repository.sealed_events(db, row.id)
    if not facts.disclosed:  # the other party's filings stay theirs to prove
        orgs = repository.organisations_of_users(db, {e.actor_id for e in events if e.actor_id is not None})
        events = [e for e in events if e.actor_id is not None and orgs.get(e.actor_id) in own]
    positions = archive.event_seqs(db, [e.id for e in events])
    return [{"event": e.id, "tag": e.tag, **archive.reveal(db, positions[e.id])}
            for e in events if e.id in positions]


def _label(principal: Principal) -> str:
    return principal.user.name if principal.user else "system"


def _precheck(uploads: list[Upload]) -> None:
    """Refuse a bad file before anything is written."""
    limit = get_settings().upload_max_bytes
    for upload in uploads:
        try:
            domain.check_attachment(upload.filename, upload.content_type, upload.data, limit)
        except domain.InvalidInput as exc:
            raise Invalid(str(exc), field=upload.field) from exc


def _attach(db: Session, doc: DisputeDocument, upload: Upload) -> DisputeAttachment:
    try:
        facts = domain.check_attachment(
            upload.filename, upload.content_type, upload.data, get_settings().upload_max_bytes
        )
    except domain.InvalidInput as exc:
        raise Invalid(str(exc), field=upload.field) from exc
    att = DisputeAttachment(
        document_id=doc.id, filename=facts.filename, content_type=facts.content_type,
        size=facts.size, sha256=facts.sha256, data=upload.data,
    )
    db.add(att)
    db.flush()
    return att


def attachment(db: Session, principal: Principal, case_id: int, attachment_id: int) -> DisputeAttachment:
    """A file of a case the principal may see (404 otherwise)."""
    get_case(db, principal, case_id)
    if not 1 <= attachment_id <= MAX_ID:
        raise NotFound(f"no attachment {attachment_id}")
    att = repository.attachment_of(db, case_id, attachment_id)
    if att is None:
        raise NotFound(f"no attachment {attachment_id}")
    return att


def consent_to_disclosure(db: Session, principal: Principal, case_id: int, now: datetime | None = None) -> DisputeCase:
    """Record a party's consent to disclose (R-DSP-7); with both, the record becomes public."""
    row = get_case(db, principal, case_id)
    moment = now or utcnow()
    if principal.is_anonymous:
        raise Unauthenticated()
    # the other party may be consenting at this moment: one after the other, so that the second
    # sees the first's consent and the record is disclosed (SQLite's write lock does this already)
    repository.lock_case(db, row.id)
    rels = domain.relations(viewer_of(principal), parties(db, row))
    try:
        party = domain.disclosure_party(rels)
    except domain.NotPermitted as exc:
        raise Forbidden(str(exc)) from exc
    if party.value in repository.consenting_parties(db, row.id):
        raise Conflict(f"the {party.value} has already consented to disclosure")
    db.add(DisputeDisclosureConsent(case_id=row.id, party=party.value, user_id=principal.user_id, at=moment))
    db.flush()
    disclosed = parties(db, row).disclosed
    tag = "dispute:disclosed" if disclosed else "dispute:disclosure_consented"
    db.add(DisputeTimelineEntry(
        case_id=row.id, at=moment, actor_id=principal.user_id, actor_label=_label(principal),
        tag=tag, action="consent_to_disclosure", from_stage=row.stage, to_stage=row.stage,
        note=f"{party.value} consents to disclosure" + ("; the record is now public" if disclosed else ""),
    ))
    record_event(db, tag, actor=principal, subject_type="dispute", subject_id=row.id,
                 data={"party": party.value, **({"reference": row.reference} if disclosed else {})},
                 public=disclosed)
    if disclosed:
        record_publication(
            db, "dispute", f"Dispute {row.reference} disclosed by both parties: {row.title}",
            f"/disputes/{row.id}", {"reference": row.reference, "title": row.title, "stage": row.stage},
            actor=principal,
        )
    db.flush()
    return row


def _publish_finding(db: Session, principal: Principal, row: DisputeCase, stage: Stage) -> None:
    """R-DSP-6: every IAP finding is published, naming the parties, without the confidential file."""
    operator = repository.organisation_names(db, [row.complainant_org_id]).get(row.complainant_org_id, "?")
    content = public_finding(row, operator)
    record_publication(
        db, "iap_finding", f"IAP finding {row.reference}: {stage.label}",
        f"/disputes/findings#{row.reference}", content, actor=principal,
        summary=f"{operator} v. the IFM — {stage.label}",
    )
    record_event(db, "dispute:finding_published", actor=principal, subject_type="dispute",
                 subject_id=row.id, data=content, public=True)


def public_finding(row: DisputeCase, operator: str) -> dict[str, Any]:
    """The published facts of a finding: parties, TLDs, the finding and the case's outcome since
    (R-DSP-6), dates. No confidential file."""
    finding = domain.iap_finding(Stage(row.stage), row.finding_at, row.remedy_due)
    return {
        "reference": row.reference,
        "operator": operator,
        "respondent": "IANA Functions Manager",
        "tlds": list(row.tlds),
        "finding": finding.value if finding else None,
        "finding_label": domain.FINDING_LABELS[finding] if finding else None,
        "outcome": row.stage,
        "outcome_label": Stage(row.stage).label,
        "finding_at": row.finding_at.isoformat() if row.finding_at else None,
        "remedy_due": row.remedy_due.isoformat() if row.remedy_due else None,
        "remedied_at": row.remedied_at.isoformat() if row.remedied_at else None,
        "eligible_for_further_escalation": Stage(row.stage) in domain.FURTHER_ESCALATION_ELIGIBLE,
    }


def published_findings(db: Session) -> list[dict[str, Any]]:
    rows = repository.findings(db)
    names = repository.organisation_names(db, sorted({r.complainant_org_id for r in rows}))
    return [public_finding(r, names.get(r.complainant_org_id, "?")) for r in rows]


# --------------------------------------------------------------------------- notifications


def recipients(db: Session, row: DisputeCase, exclude: int | None = None) -> list[repository.Addressee]:
    """Active users who may see the case (R-DSP-7), except ``exclude``."""
    facts = parties(db, row)
    out = []
    for user in repository.addressees_with_roles(db, PARTY_ROLES):
        if user.id == exclude:
            continue
        viewer = Viewer(user.id, user.roles, user.organisation_id)
        if domain.relations(viewer, facts):
            out.append(user)
    return out


def _case_url(row: DisputeCase) -> str:
    return f"{get_settings().base_url.rstrip('/')}/disputes/{row.id}"


def _email(db: Session, row: DisputeCase, users: list[repository.Addressee], subject: str, text: str, key: str) -> int:
    url = _case_url(row)
    return enqueue_emails(db, [
        (user.email, subject, f"Hello {user.name},\n\n{text}\n\nCase: {url}\n\n— Steward\n", f"{key}:user{user.id}")
        for user in users
    ])


def _notify_stage(db: Session, principal: Principal, row: DisputeCase, outcome: domain.Outcome, from_stage: Stage,
                  to: list[repository.Addressee]) -> None:
    to_stage = outcome.case.stage
    if outcome.transition.action in (Action.LODGE, Action.ESCALATE) and to_stage is Stage.LODGED:
        subject = f"[{row.reference}] Complaint lodged with the DUG: {row.title}"
    else:
        subject = f"[{row.reference}] {to_stage.label}"
    text = (
        f"Dispute {row.reference} ({row.title}) moved from '{from_stage.label}' to "
        f"'{to_stage.label}' ({outcome.transition.action.label})."
    )
    if to_stage is Stage.RESPONSE_REQUESTED and outcome.case.response_due is not None:
        text += f"\nThe IFM's written response is due by {outcome.case.response_due.due.isoformat()}."
    if to_stage is Stage.REMEDY_PENDING and outcome.case.remedy_due is not None:
        text += f"\nThe breach must be remedied by {outcome.case.remedy_due.isoformat()}."
    _email(db, row, to, subject, text, key=f"dispute:{row.id}:stage:{to_stage.value}:{from_stage.value}")


def run_deadlines(session: Session, now: datetime) -> str:
    """Periodic: recount open deadlines after a calendar change; send due/overdue notices once."""
    pol = policy()
    recomputed = recompute_for_calendar(session, pol.calendar, now)
    sent = 0
    for row in repository.due_cases(session):
        for notice in domain.notices_due(to_domain(row), now, pol):
            what = {
                DeadlineKind.ACKNOWLEDGEMENT: "the IFM's acknowledgement",
                DeadlineKind.ANSWER: "the IFM's answer",
                DeadlineKind.RESPONSE: "the IFM's written response to the DUG",
                DeadlineKind.REMEDY: "the remedy of the breach found by the IAP",
            }[notice.deadline]
            if notice.kind == "overdue":
                subject = f"[{row.reference}] Overdue: {what}"
                text = f"{what[0].upper()}{what[1:]} was due by {notice.due.isoformat()} and is overdue."
            else:
                subject = f"[{row.reference}] Due soon: {what}"
                text = f"{what[0].upper()}{what[1:]} is due by {notice.due.isoformat()}."
            sent += _email(session, row, recipients(session, row), subject, text,
                           key=f"dispute:{row.id}:{notice.key}:{notice.due.astimezone(UTC).isoformat()}")
    return f"{recomputed} case(s) recomputed, {sent} notice(s) queued"


def recompute_for_calendar(session: Session, calendar: WorkdayCalendar, now: datetime) -> int:
    """Recount open working-day deadlines counted on another calendar; record that it did."""
    changed_cases = 0
    code = calendar.spec.code
    for row in repository.open_cases_with_deadlines(session):
        stored = [d for d in (row.acknowledgement_due, row.answer_due, row.response_due) if d]
        if all(d.get("calendar") == code and d.get("timezone") == calendar.spec.timezone for d in stored):
            continue
        before = to_domain(row)
        after, kinds = domain.recompute_deadlines(before, calendar)
        if not kinds:
            continue
        if not repository.compare_and_set(session, row.id, row.version, _columns(after)):
            continue  # someone acted meanwhile; the next run recounts
        session.expire(row)
        lines = []
        for kind in kinds:
            old = {DeadlineKind.ACKNOWLEDGEMENT: before.acknowledgement_due,
                   DeadlineKind.ANSWER: before.answer_due,
                   DeadlineKind.RESPONSE: before.response_due}[kind]
            new = {DeadlineKind.ACKNOWLEDGEMENT: after.acknowledgement_due,
                   DeadlineKind.ANSWER: after.answer_due,
                   DeadlineKind.RESPONSE: after.response_due}[kind]
            if old and new:
                lines.append(f"{kind.value}: {old.calendar} due {old.due.isoformat()} → "
                             f"{new.calendar} due {new.due.isoformat()}")
        note = "calendar changed; deadlines recomputed: " + "; ".join(lines)
        session.add(DisputeTimelineEntry(
            case_id=row.id, at=now, actor_label="system", tag="dispute:deadlines_recomputed",
            action="recompute_deadlines", from_stage=before.stage.value,
            to_stage=before.stage.value, note=note,
        ))
        record_event(session, "dispute:deadlines_recomputed", actor=None, subject_type="dispute",
                     subject_id=row.id, data={"calendar": code, "changes": lines})
        changed_cases += 1
    session.flush()
    return changed_cases
