"""Consent ballot API (R-ESC-1). No route returns a choice before the close; after it, only the
tally and the anonymous receipt leaves with their inclusion proofs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.ballots import domain, repository, service
from steward.ballots.models import Ballot
from steward.ballots.schemas import (
    BallotId,
    BallotIn,
    BallotOut,
    ExecuteIn,
    VerifyIn,
    VoteIn,
    VoteOut,
)
from steward.db import utcnow
from steward.web import CurrentPrincipal, DbSession, Router, require

router = Router(prefix="/api/v1/ballots", tags=["ballots"])


def ballot_out(db: DbSession, principal: Principal, ballot: Ballot) -> BallotOut:
    now = utcnow()
    voter = service.voter_view(db, principal, ballot)
    if voter is not None:
        voter = {**voter, "voted": {c: at.isoformat() for c, at in voter["voted"].items()}}
    return BallotOut(
        id=ballot.id, title=ballot.title, matter=service.matter_of(db, ballot), option=ballot.option,
        option_label=domain.Option(ballot.option).label, description=ballot.description,
        status=service.status_of(ballot, now).value, opens_at=ballot.opens_at, closes_at=ballot.closes_at,
        rules=service.rules_of(ballot).describe(), quorum_percent=ballot.quorum_percent,
        majority_percent=ballot.majority_percent,
        electorate={"cctld": ballot.electorate_cctld, "gtld": ballot.electorate_gtld},
        result=service.public_result(ballot) if ballot.closed else None,
        executed_at=ballot.executed_at, your_organisation=voter,
    )


@router.get("", response_model=list[BallotOut])
def ballots(db: DbSession, principal: CurrentPrincipal) -> list[BallotOut]:
    return [ballot_out(db, principal, b) for b in repository.ballots(db)]


@router.post("", response_model=BallotOut, status_code=201)
def open_ballot(body: BallotIn, db: DbSession, principal: CurrentPrincipal) -> BallotOut:
    """Open a consent ballot on an eligible matter (needs a passed DUG decision
    "proceed_further_escalation" on it). The DUG chair opens it, or a DUG member when every chair
    is recused from the matter (R-DUG-3)."""
    ballot = service.open_ballot(db, principal, **body.model_dump(), now=utcnow())
    return ballot_out(db, principal, ballot)


@router.get("/{ballot_id}", response_model=BallotOut)
def ballot(ballot_id: BallotId, db: DbSession, principal: CurrentPrincipal) -> BallotOut:
    return ballot_out(db, principal, service.get(db, ballot_id))


@router.post("/{ballot_id}/vote", response_model=VoteOut)
def vote(ballot_id: BallotId, body: VoteIn, db: DbSession, principal: Principal = require(Permission.BALLOT_VOTE)) -> VoteOut:
    """Vote (or change the vote) for your organisation; keep the receipt code."""
    r = service.cast_vote(db, principal, ballot_id, choice=body.choice, chambers=body.chambers, now=utcnow())
    return VoteOut(ballot=r.ballot_id, receipt_code=r.code, receipts=r.receipts, changed=r.changed, cast_at=r.cast_at)


@router.post("/{ballot_id}/close", response_model=BallotOut)
def close(ballot_id: BallotId, db: DbSession, principal: CurrentPrincipal) -> BallotOut:
    return ballot_out(db, principal, service.close_ballot(db, principal, ballot_id, utcnow()))


@router.get("/{ballot_id}/receipts")
def receipts(ballot_id: BallotId, db: DbSession) -> dict[str, Any]:
    """After the close: every counted vote as an anonymous leaf, and the tree's root."""
    b = service.get(db, ballot_id)
    leaves = service.published_leaves(db, b)
    return {"ballot": b.id, "tree_size": b.receipt_count, "root_hex": b.receipt_root, "leaves": leaves}


@router.get("/{ballot_id}/receipts/{receipt}")
def receipt(ballot_id: BallotId, receipt: Annotated[str, Path(max_length=64)], db: DbSession) -> dict[str, Any]:
    """After the close: the inclusion proof of one receipt (RFC 9162)."""
    return service.receipt_proof(db, service.get(db, ballot_id), receipt)


@router.post("/{ballot_id}/verify")
def verify(ballot_id: BallotId, body: VerifyIn, db: DbSession) -> dict[str, Any]:
    """After the close: check a receipt code — the vote in each chamber with its proof."""
    return {"ballot": ballot_id, "votes": service.verify_code(db, service.get(db, ballot_id), body.code)}


@router.post("/{ballot_id}/execute", response_model=BallotOut)
def execute(ballot_id: BallotId, body: ExecuteIn, db: DbSession, principal: CurrentPrincipal) -> BallotOut:
    """Record that the DUG executes the option: refused without a passed ballot."""
    return ballot_out(db, principal, service.execute_option(db, principal, ballot_id, body.note, utcnow()))
