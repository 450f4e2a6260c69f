"""DUG pages: public charter, roster and decisions; member pages for motions and votes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from steward.accounts import repository as accounts_repo
from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.errors import Invalid, NotFound, StewardError
from steward.governance import repository, service
from steward.governance.domain import MOTION_KIND_LABELS, CharterText, MotionKind, SeatKind
from steward.governance.schemas import PathId
from steward.registry import repository as registry_repo
from steward.web import CurrentPrincipal, DbSession, Router, form_date, optional_form_date, render

router = Router(include_in_schema=False)

NAV = [("DUG", "/governance", None)]


def _overview(request: Request, db: DbSession, principal: Principal, **extra: Any) -> Response:
    today = service.today_utc()
    status = service.roster_status(db, today)
    context = {
        "today": today,
        "status": status,
        "charters": repository.charters(db),
        "in_force": service.charter_in_force(db, today),
        "decisions": service.list_motions(db, principal, today=today)[:20],
        "ending": service.upcoming_term_ends(db, today, 90),
        "kinds": MOTION_KIND_LABELS,
        "can_manage": principal.has(Permission.GOVERNANCE_MANAGE),
    }
    context.update(extra)
    return render(
        request, "governance/index.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/governance")
def overview(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _overview(request, db, principal)


@router.get("/governance/charter/{version}")
def charter(
    version: PathId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    c = repository.charter(db, version)
    if c is None:
        raise NotFound("No such charter version.")
    return render(request, "governance/charter.html", {"charter": c})


def _manage(request: Request, db: DbSession, principal: Principal, **extra: Any) -> Response:
    principal.require(Permission.GOVERNANCE_MANAGE)
    context = {
        "members": repository.memberships(db),
        "users": accounts_repo.list_users(db),
        "organisations": registry_repo.organisations(db),
        "today": service.today_utc(),
    }
    context.update(extra)
    return render(
        request, "governance/manage.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/governance/manage")
def manage(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _manage(request, db, principal)


@router.post("/governance/charter")
def adopt_charter(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    role: Annotated[str, Form()] = "",
    chair_appointment: Annotated[str, Form()] = "",
    communication_lines: Annotated[str, Form()] = "",
    effective_from: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.GOVERNANCE_MANAGE)
    try:
        c = service.adopt_charter(
            db,
            principal,
            CharterText(role, chair_appointment, communication_lines),
            form_date(effective_from, "effective_from"),
            note,
        )
    except StewardError as err:
        db.rollback()
        charter_form = {
            "role": role,
            "chair_appointment": chair_appointment,
            "communication_lines": communication_lines,
            "effective_from": effective_from,
            "note": note,
        }
        return _manage(request, db, principal, error=err.detail(), charter_form=charter_form)
    return RedirectResponse(f"/governance/charter/{c.version}", status_code=303)


@router.post("/governance/members")
def add_member(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    user_id: Annotated[str, Form()] = "",
    seat: Annotated[str, Form()] = "",
    community: Annotated[str, Form()] = "",
    technical_experience: Annotated[str, Form()] = "",
    term_start: Annotated[str, Form()] = "",
    term_end: Annotated[str, Form()] = "",
    is_chair: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.GOVERNANCE_MANAGE)
    try:
        if not user_id.strip().isdigit():
            raise Invalid("Choose a person.", field="user_id")
        service.add_member(
            db,
            principal,
            user_id=int(user_id),
            seat=seat,
            community=community,
            technical_experience=technical_experience,
            term_start=form_date(term_start, "term_start"),
            term_end=optional_form_date(term_end, "term_end"),
            is_chair=bool(is_chair),
        )
    except StewardError as err:
        db.rollback()
        return _manage(request, db, principal, error=err.detail())
    return RedirectResponse("/governance/manage", status_code=303)


@router.post("/governance/members/{member_id}")
def change_member(
    member_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    term_end: Annotated[str, Form()] = "",
    is_chair: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.GOVERNANCE_MANAGE)
    try:
        service.change_member(
            db,
            principal,
            member_id,
            term_end=optional_form_date(term_end, "term_end"),
            is_chair={"yes": True, "no": False}.get(is_chair),
        )
    except StewardError as err:
        db.rollback()
        return _manage(request, db, principal, error=err.detail())
    return RedirectResponse("/governance/manage", status_code=303)


@router.get("/governance/motions")
def motions(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    kind: Annotated[str, Query(max_length=40)] = "",
    title: Annotated[str, Query(max_length=300)] = "",
    subject_type: Annotated[str, Query(max_length=40)] = "",
    subject_id: Annotated[str, Query(max_length=80)] = "",
    party: Annotated[list[int] | None, Query()] = None,
    confidential: Annotated[bool, Query()] = False,
) -> Response:
    """The motions the viewer may see; the query string pre-fills the proposal form, so
    another context can link "put this to the DUG" with its subject and parties."""
    today = service.today_utc()
    member = service.serving_member(db, principal, today)
    prefill = {
        "kind": kind,
        "title": title,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "party": set(party or []),
        "confidential": confidential,
    }
    return render(
        request,
        "governance/motions.html",
        {
            "motions": service.list_motions(db, principal, today=today),
            "member": member,
            "can_propose": member is not None and member.seat == SeatKind.voting.value,
            "kinds": MOTION_KIND_LABELS,
            "organisations": registry_repo.organisations(db),
            "prefill": prefill,
        },
    )


@router.post("/governance/motions")
def propose(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    kind: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    subject_type: Annotated[str, Form()] = "",
    subject_id: Annotated[str, Form()] = "",
    party: Annotated[list[str] | None, Form()] = None,
    confidential: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.MOTION_PROPOSE)
    try:
        parties = [int(p) for p in (party or []) if p.strip().isdigit()]
        m = service.propose_motion(
            db,
            principal,
            kind=kind,
            title=title,
            text=text,
            subject_type=subject_type.strip(),
            subject_id=subject_id.strip(),
            party_organisation_ids=parties,
            confidential=bool(confidential),
        )
    except StewardError as err:
        db.rollback()
        today = service.today_utc()
        member = service.serving_member(db, principal, today)
        return render(
            request,
            "governance/motions.html",
            {
                "motions": service.list_motions(db, principal, today=today),
                "member": member,
                "can_propose": member is not None and member.seat == SeatKind.voting.value,
                "kinds": MOTION_KIND_LABELS,
                "organisations": registry_repo.organisations(db),
                "error": err.detail(),
                "prefill": {
                    "kind": kind,
                    "title": title,
                    "text": text,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "party": {int(p) for p in (party or []) if p.strip().isdigit()},
                    "confidential": bool(confidential),
                },
            },
            status_code=422,
        )
    return RedirectResponse(f"/governance/motions/{m.id}", status_code=303)


def _motion_page(
    request: Request, db: DbSession, principal: Principal, motion_id: int, **extra: Any
) -> Response:
    today = service.today_utc()
    m = service.readable_motion(db, principal, motion_id, today)
    member = service.serving_member(db, principal, today)
    recused = (
        member is not None
        and member.organisation_id is not None
        and member.organisation_id in m.party_organisation_ids
    )
    context = {
        "motion": m,
        "kind_label": MOTION_KIND_LABELS.get(MotionKind(m.kind), m.kind),
        "tally": service.current_tally(db, m, today) if m.state == "open" else None,
        "eligible": service.eligible_for(db, m, today) if m.state == "open" else [],
        "member": member,
        "recused": recused,
        "voted": member is not None and any(v.member_id == member.id for v in m.votes),
        "parties": [
            registry_repo.organisation_by_id(db, o) for o in sorted(m.party_organisation_ids)
        ],
    }
    context.update(extra)
    return render(
        request, "governance/motion.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/governance/motions/{motion_id}")
def motion(
    motion_id: PathId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    return _motion_page(request, db, principal, motion_id)


@router.post("/governance/motions/{motion_id}/vote")
def vote(
    motion_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    choice: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.MOTION_VOTE)
    try:
        service.cast_vote(db, principal, motion_id, choice)
    except StewardError as err:
        db.rollback()
        return _motion_page(request, db, principal, motion_id, error=err.detail())
    return RedirectResponse(f"/governance/motions/{motion_id}", status_code=303)


@router.post("/governance/motions/{motion_id}/comment")
def comment(
    motion_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    text: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.MOTION_COMMENT)
    try:
        service.comment(db, principal, motion_id, text)
    except StewardError as err:
        db.rollback()
        return _motion_page(request, db, principal, motion_id, error=err.detail())
    return RedirectResponse(f"/governance/motions/{motion_id}", status_code=303)


@router.post("/governance/motions/{motion_id}/close")
def close(
    motion_id: PathId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    principal.require(Permission.MOTION_VOTE)
    try:
        service.close_motion(db, principal, motion_id)
    except StewardError as err:
        db.rollback()
        return _motion_page(request, db, principal, motion_id, error=err.detail())
    return RedirectResponse(f"/governance/motions/{motion_id}", status_code=303)


@router.post("/governance/motions/{motion_id}/withdraw")
def withdraw(
    motion_id: PathId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    principal.require(Permission.MOTION_PROPOSE)
    try:
        service.withdraw_motion(db, principal, motion_id)
    except StewardError as err:
        db.rollback()
        return _motion_page(request, db, principal, motion_id, error=err.detail())
    return RedirectResponse(f"/governance/motions/{motion_id}", status_code=303)


def home_panels(db: DbSession, principal: Principal) -> list[Any]:
    """For a serving DUG member: open motions awaiting their vote (or comment) and their term."""
    from steward.pages.views import HomePanel

    today = service.today_utc()
    member = service.serving_member(db, principal, today)
    if member is None:
        return []
    items = []
    for m in service.list_motions(db, principal, "open", today):
        if (
            member.organisation_id is not None
            and member.organisation_id in m.party_organisation_ids
        ):
            continue
        voted = any(v.member_id == member.id for v in m.votes)
        if member.seat == SeatKind.voting.value and not voted:
            note = "awaiting your vote"
        elif member.is_chair:
            note = "open: you may close the vote"
        else:
            note = "open for comment"
        items.append((f"Motion #{m.id}: {m.title}", f"/governance/motions/{m.id}", note))
    if member.term_end is not None:
        items.append(("Your DUG term", "/governance", f"ends on {member.term_end.isoformat()}"))
    return [HomePanel("DUG motions", items, "No open motion needs you.")]
