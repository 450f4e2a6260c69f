"""Consent ballot pages (R-ESC-1): list, open, vote (with the receipt shown once), close, tally,
receipt check, execution of the option."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.ballots import domain, repository, service
from steward.db import utcnow
from steward.errors import Invalid, StewardError
from steward.web import CurrentPrincipal, DbSession, Router, render

router = Router(include_in_schema=False)

NAV = [("Ballots", "/ballots", None)]


def _moment(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("use a moment such as 2026-12-20T17:00 (UTC)", field=field) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@router.get("/ballots")
def index(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    now = utcnow()
    rows = [(b, service.status_of(b, now)) for b in repository.ballots(db)]
    return render(request, "ballots/index.html", {
        "rows": rows, "can_manage": principal.has(Permission.BALLOT_MANAGE),
        "option_label": lambda v: domain.Option(v).label,
    })


def _new(request: Request, principal: Principal, status: int = 200, **extra: Any) -> Response:
    if not principal.has_role(Role.DUG_MEMBER):  # a member may stand in for a recused chair
        principal.require(Permission.BALLOT_MANAGE)
    return render(request, "ballots/new.html", {"options": list(domain.Option), "form": {}, **extra},
                  status_code=status)


@router.get("/ballots/new")
def new(request: Request, principal: CurrentPrincipal, matter_type: str = "", matter_id: str = "") -> Response:
    return _new(request, principal, form={"matter_type": matter_type, "matter_id": matter_id})


@router.post("/ballots/new")
def create(
    request: Request, db: DbSession, principal: CurrentPrincipal,
    matter_type: Annotated[str, Form()] = "", matter_id: Annotated[str, Form()] = "",
    option: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "", closes_at: Annotated[str, Form()] = "",
) -> Response:
    if not principal.has_role(Role.DUG_MEMBER):
        principal.require(Permission.BALLOT_MANAGE)
    form = {"matter_type": matter_type, "matter_id": matter_id, "option": option,
            "description": description, "title": title, "closes_at": closes_at}
    try:
        if not matter_id.strip().isdigit():
            raise Invalid("give the number of the dispute or urgent review", field="matter_id")
        ballot = service.open_ballot(
            db, principal, matter_type=matter_type, matter_id=int(matter_id), option=option,
            description=description, title=title, closes_at=_moment(closes_at, "closes_at"), now=utcnow())
    except StewardError as err:
        db.rollback()
        return _new(request, principal, err.status, form=form, error=err.detail())
    return RedirectResponse(f"/ballots/{ballot.id}", status_code=303)


def _page(request: Request, db: DbSession, principal: Principal, ballot_id: int, status: int = 200,
          **extra: Any) -> Response:
    ballot = service.get(db, ballot_id)
    now = utcnow()
    st = service.status_of(ballot, now)
    return render(request, "ballots/ballot.html", {
        "ballot": ballot, "status": st, "Status": domain.Status,
        "option_label": domain.Option(ballot.option).label,
        "rules": service.rules_of(ballot).describe(), "matter": service.matter_of(db, ballot),
        "voter": service.voter_view(db, principal, ballot),
        "can_manage": service.may_manage(db, principal, ballot),
        "result": service.public_result(ballot) if ballot.closed else None, **extra,
    }, status_code=status)


@router.get("/ballots/{ballot_id:int}")
def ballot(ballot_id: int, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _page(request, db, principal, ballot_id)


@router.post("/ballots/{ballot_id:int}/vote")
def vote(
    ballot_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
    choice_cctld: Annotated[str, Form()] = "", choice_gtld: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.BALLOT_VOTE)
    chambers = {k: v for k, v in (("cctld", choice_cctld), ("gtld", choice_gtld)) if v}
    try:
        if not chambers:
            raise Invalid("choose yes, no or abstain", field="choice")
        receipt = service.cast_vote(db, principal, ballot_id, chambers=chambers, now=utcnow())
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, ballot_id, err.status, error=err.detail())
    return render(request, "ballots/receipt.html", {"ballot": service.get(db, ballot_id), "receipt": receipt})


@router.post("/ballots/{ballot_id:int}/verify")
def verify(ballot_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
           code: Annotated[str, Form()] = "") -> Response:
    try:
        found = service.verify_code(db, service.get(db, ballot_id), code)
    except StewardError as err:
        return _page(request, db, principal, ballot_id, err.status,
                     verify_error=err.detail())
    return _page(request, db, principal, ballot_id, verified=found)


@router.post("/ballots/{ballot_id:int}/close")
def close(ballot_id: int, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    try:
        service.close_ballot(db, principal, ballot_id, utcnow())
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, ballot_id, err.status, error=err.detail())
    return RedirectResponse(f"/ballots/{ballot_id}", status_code=303)


@router.post("/ballots/{ballot_id:int}/execute")
def execute(ballot_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
            note: Annotated[str, Form()] = "") -> Response:
    try:
        service.execute_option(db, principal, ballot_id, note, utcnow())
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, ballot_id, err.status, error=err.detail())
    return RedirectResponse(f"/ballots/{ballot_id}", status_code=303)
