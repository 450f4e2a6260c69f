"""Ballots API models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

MAX_ID = 2**31 - 1
BallotId = Annotated[int, Path(ge=1, le=MAX_ID)]


class BallotIn(BaseModel):
    matter_type: str = Field(description="dispute or urgent_review", max_length=30)
    matter_id: int = Field(ge=1, le=MAX_ID)
    option: str = Field(description="contract_co, golden_bylaw, spill_board or other", max_length=30)
    description: str = Field("", max_length=5000)
    title: str = Field("", max_length=300)
    opens_at: datetime | None = Field(None, description="default: now")
    closes_at: datetime


class VoteIn(BaseModel):
    choice: str | None = Field(None, description="yes, no or abstain, in every chamber of the voter", max_length=10)
    chambers: dict[str, str] | None = Field(None, description='per chamber, e.g. {"cctld": "yes", "gtld": "no"}',
                                            max_length=2)


class VoteOut(BaseModel):
    ballot: int
    receipt_code: str = Field(description="secret: keep it to check your vote after the close; shown once")
    receipts: dict[str, str] = Field(description="public receipt id per chamber")
    changed: bool
    cast_at: datetime


class VerifyIn(BaseModel):
    code: str = Field(max_length=100)


class ExecuteIn(BaseModel):
    note: str = Field("", max_length=2000)


class BallotOut(BaseModel):
    id: int
    title: str
    matter: dict[str, Any]
    option: str
    option_label: str
    description: str
    status: str
    opens_at: datetime
    closes_at: datetime
    rules: list[str]
    quorum_percent: int
    majority_percent: int
    electorate: dict[str, int]
    result: dict[str, Any] | None = Field(None, description="only after the close: tally and receipt tree")
    executed_at: datetime | None = None
    your_organisation: dict[str, Any] | None = Field(
        None, description="for operator staff: chambers and when your organisation voted (never the choice)")
