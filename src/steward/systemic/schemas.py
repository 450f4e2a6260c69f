"""Systemic API models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


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
    title: str
    reasoning: str
    evidence: str = Field("", description="one per line: 'dispute 12', 'audit 3', 'sla_month 2026-10/metric' or a URL")


class DismissIn(BaseModel):
    reason: str


class ReviewIn(BaseModel):
    signal_id: int
    title: str
    operator_org_id: int | None = None


class ActIn(BaseModel):
    action: str = Field(description="one of the actions offered at the review's stage")
    text: str = ""
    name: str = ""
    expertise: str = Field("", description="comma-separated fields of expertise")
    organisation_id: int | None = None
    user_email: str = ""
    declaration: str = ""
    milestones: str = Field("", description="one per line: 'YYYY-MM-DD title'")
    milestone_id: int | None = None
    critical: bool | None = None
    finding: str = Field("", description="no_breach, remediable or not_remediable")
    ref: str = ""


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
    title: str
    signal_id: int
    stage: str
    stage_label: str
    outcome: str | None
    escalation_eligible: bool
    experts: list[ExpertOut]
    findings: str
    critical: bool | None
    advice: str
    milestones: list[MilestoneOut]
    iap_finding: str | None
    iap_decision: str
    remedy_due: date | None
    actions: list[str]
    timeline: list[dict[str, Any]]
