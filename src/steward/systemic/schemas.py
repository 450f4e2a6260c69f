"""Systemic API models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from steward.accounts.schemas import PersonOut

MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Field(None, ge=1, le=MAX_ID)]


class EvidenceOut(BaseModel):
    kind: str
    ref: str
    label: str
    url: str | None


class SignalOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    summary: str
    state: str
    observed_at: datetime
    detected_at: datetime
    evidence: list[EvidenceOut]
    measures: dict[str, Any]
    reasoning: str
    review_id: int | None = None


class ProposalIn(BaseModel):
    title: str = Field(max_length=300)
    reasoning: str = Field(max_length=20_000)
    evidence: str = Field("", max_length=20_000,
                          description="one per line: 'dispute 12', 'audit 3', 'sla_month 2026-10/metric' or a URL")


class DismissIn(BaseModel):
    reason: str = Field(max_length=5000)


class ReviewIn(BaseModel):
    signal_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(max_length=300)
    operator_org_id: OptionalId = None


class ActIn(BaseModel):
    action: str = Field(description="one of the actions offered at the review's stage", max_length=40)
    text: str = Field("", max_length=20_000)
    name: str = Field("", max_length=200)
    expertise: str = Field("", description="comma-separated fields of expertise", max_length=1000)
    organisation_id: OptionalId = None
    user_email: str = Field("", max_length=320)
    declaration: str = Field("", max_length=2000)
    milestones: str = Field("", description="one per line: 'YYYY-MM-DD title'", max_length=20_000)
    milestone_id: OptionalId = None
    critical: bool | None = None
    finding: str = Field("", description="no_breach, remediable or not_remediable", max_length=30)
    ref: str = Field("", max_length=300)
    mediator_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10, description="engage_mediator: the mediator(s) engaged, by user id")
    panelist_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=10, description="engage_iap: the IAP panelists engaged, by user id")
    version: int | None = Field(None, ge=1, le=MAX_ID, description="the version you acted on; a stale one answers 409")


class ExpertOut(BaseModel):
    name: str
    expertise: list[str]
    organisation_id: int | None
    declaration: str


class MilestoneOut(BaseModel):
    id: int
    kind: str
    title: str
    due: date
    done_on: date | None
    overdue: bool


class ReviewOut(BaseModel):
    id: int
    version: int
    title: str
    signal_id: int
    stage: str
    stage_label: str
    outcome: str | None
    escalation_eligible: bool
    experts: list[ExpertOut]
    mediators: list[PersonOut]
    panelists: list[PersonOut]
    findings: str
    critical: bool | None
    advice: str
    milestones: list[MilestoneOut]
    previous_attempts_report: str = Field(
        "", description="the DUG's report to the mediator on previous attempts (R-SYS-2), as the review page shows it")
    iap_finding: str | None
    iap_decision: str
    remedy_due: date | None
    actions: list[str]
    timeline: list[dict[str, Any]]
