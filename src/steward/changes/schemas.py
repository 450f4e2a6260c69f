"""Pydantic input/output models of the technical-changes API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

# Ids and numbers fit the database's 32-bit integers; anything else is a 422, not a 500.
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
VersionQuery = Annotated[int, Query(ge=1, le=2**31 - 1)]
OptionalVersionQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class PlanIn(BaseModel):
    """A new plan or a new version of a draft."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=1000)
    origin: str = Field(description="'policy' (no DUG agreement step) or 'operational' (R-TCH-1)")
    significance: str = Field(description="minor, significant or major")
    affected: str = Field("all", description="'all' or TLDs separated by commas")
    body: str = Field(max_length=200_000, description="plain text; '## ' lines open sections")
    timeline: str = Field("", description="one 'YYYY-MM-DD: what happens' per line")
    note: str = Field("", max_length=2000, description="what changed (for a new version)")


class SectionOut(BaseModel):
    anchor: str
    heading: str
    body: str


class MilestoneOut(BaseModel):
    on: str
    label: str


class VersionOut(BaseModel):
    number: int
    title: str
    origin: str
    significance: str
    affected_all: bool
    affected_tlds: list[str]
    body: str
    sections: list[SectionOut]
    timeline: list[MilestoneOut]
    note: str
    created_at: datetime


class PlanOut(BaseModel):
    id: int
    url: str
    title: str
    origin: str
    dug_agreement_required: bool
    significance: str
    state: str
    state_label: str
    current_version: int
    published_version: int | None
    comment_opens_at: datetime | None
    comment_closes_at: datetime | None
    statement_issued_at: datetime | None
    agreed_at: datetime | None
    agreement_basis: str | None
    agreement_note: str | None
    implemented_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    actions: list[str] = []
    version: VersionOut | None = None


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment_days: int | None = Field(None, description="default: the setting (30 days)")


class CommentIn(BaseModel):
    """A comment; ``name`` and ``email`` are required when not signed in."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=200_000)
    section: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=2000)
    email: str | None = Field(None, max_length=400)


class CommentOut(BaseModel):
    number: int | None
    status: str
    plan_version: int
    section: str | None
    body: str
    author: str
    organisation: str | None
    published_at: datetime | None
    disposition: str | None = None
    response: str | None = None


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=200)


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: str = Field(description="accepted, partly_accepted, not_accepted or out_of_scope")
    response: str = Field(max_length=200_000)


class StatementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=200_000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=20_000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=20_000)


class StatementRowOut(BaseModel):
    number: int
    author: str
    organisation: str | None
    section: str | None
    comment: str
    disposition: str | None
    response: str | None


class StatementOut(BaseModel):
    plan_id: int
    title: str
    issued_at: datetime
    text: str
    summary: dict[str, int]
    comments: list[StatementRowOut]


class DiffOut(BaseModel):
    old_version: int
    new_version: int
    changed_fields: list[str]
    sections_added: list[str]
    sections_removed: list[str]
    sections_changed: list[str]
    unified: str
