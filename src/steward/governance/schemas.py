"""API models of the governance (DUG) context."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

# database ids: bounded so an absurd number is a 422, not an integer overflow in the driver
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class CharterIn(BaseModel):
    role: str = Field(description="The role of the DUG (R-DUG-1)")
    chair_appointment: str = Field(description="How the chair is appointed (R-DUG-1)")
    communication_lines: str = Field(description="Lines of communication with IFM staff (R-DUG-1)")
    effective_from: date
    note: str = ""


class CharterOut(BaseModel):
    version: int
    role: str
    chair_appointment: str
    communication_lines: str
    effective_from: date
    note: str
    adopted_at: datetime


class MemberIn(BaseModel):
    user_id: RowId
    seat: str = Field(description="voting | liaison")
    community: str = Field(description="cctld | gtld | technical")
    technical_experience: str
    term_start: date
    term_end: date | None = None
    is_chair: bool = False
    organisation_id: RowId | None = Field(
        None, description="The user's own organisation (the default; another is refused, R-DUG-3)")


class MemberChange(BaseModel):
    term_end: date | None = None
    clear_term_end: bool = False
    is_chair: bool | None = None
    technical_experience: str | None = None


class MemberOut(BaseModel):
    id: int
    name: str
    organisation: str | None
    seat: str
    community: str
    technical_experience: str
    term_start: date
    term_end: date | None
    is_chair: bool


class RosterOut(BaseModel):
    members: list[MemberOut]
    complete: bool
    issues: list[str]
    voting_seats: int
    liaisons_min: int
    liaisons_max: int


class MotionIn(BaseModel):
    kind: str
    title: str = Field(max_length=300)
    text: str
    subject_type: str = Field("", max_length=40)
    subject_id: str = Field("", max_length=80)
    party_organisation_ids: list[RowId] = Field(default_factory=list)
    confidential: bool = False


class VoteIn(BaseModel):
    choice: str = Field(description="yes | no | abstain")


class CommentIn(BaseModel):
    text: str = Field(max_length=10_000)


class VoteOut(BaseModel):
    member: str
    choice: str
    cast_at: datetime


class CommentOut(BaseModel):
    member: str
    seat: str
    text: str
    created_at: datetime


class MotionOut(BaseModel):
    id: int
    kind: str
    title: str
    text: str
    subject_type: str
    subject_id: str
    confidential: bool
    state: str
    opened_at: datetime
    closed_at: datetime | None
    result_rule: str
    result: dict[str, Any]
    votes: list[VoteOut]
    comments: list[CommentOut]
