"""API models of the reviews (IPRT) context."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from steward.governance.schemas import RowId


class CycleOut(BaseModel):
    number: int
    due: date
    status: str
    overdue: bool
    record_id: int | None


class ConveneIn(BaseModel):
    title: str = Field("", max_length=300)


class AppointIn(BaseModel):
    name: str = Field(max_length=200)
    constituency: str = Field(
        description="registry_customer | gac | alac | ssac | rssac | ietf | other"
    )
    email: str | None = Field(None, max_length=320)
    organisation_id: RowId | None = None


class TextIn(BaseModel):
    field: str = Field(
        description="terms_of_reference | evidence_notes | draft_report | final_report"
    )
    text: str


class AdvanceIn(BaseModel):
    stage: str
    comment_closes: date | None = Field(None, description="Required to open the draft report")


class FindingIn(BaseModel):
    topic: str = Field(
        description="due_process | policy_adherence | dug_ifm_relationship | operational_service_levels"
    )
    text: str


class DirectionIn(BaseModel):
    target: str = Field(description="dug | ifm")
    text: str
    due_on: date | None = None


class CompleteIn(BaseModel):
    note: str


class CommentIn(BaseModel):
    author_name: str = Field("", max_length=200)
    text: str = Field(max_length=10_000)


class MemberOut(BaseModel):
    id: int
    name: str
    constituency: str
    organisation: str | None
    appointed_on: date


class FindingOut(BaseModel):
    id: int
    topic: str
    text: str
    referred_to: str | None


class DirectionOut(BaseModel):
    id: int
    target: str
    text: str
    due_on: date | None
    status: str
    completed_on: date | None
    completion_note: str


class CommentOut(BaseModel):
    author_name: str
    text: str
    created_at: datetime


class CompositionOut(BaseModel):
    filled: dict[str, int]
    vacancies: dict[str, int]
    customers_majority: bool
    complete: bool
    problems: list[str]


class ReviewOut(BaseModel):
    id: int
    cycle: int
    title: str
    stage: str
    due_on: date
    convened_on: date
    terms_of_reference: str
    evidence_notes: str
    draft_report: str
    comment_closes: date | None
    final_report: str
    closed_on: date | None
    members: list[MemberOut]
    composition: CompositionOut
    findings: list[FindingOut]
    directions: list[DirectionOut]
    comments: list[CommentOut]
    audits: list[int]
