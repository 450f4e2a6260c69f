"""API models for individual disputes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from steward.accounts.schemas import PersonOut


class ComplaintIn(BaseModel):
    title: str = Field(max_length=300, description="A short title")
    tlds: list[Annotated[str, Field(max_length=70)]] = Field(
        max_length=50, description="A-labels of the TLDs concerned (your own)"
    )
    service_levels: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=50, description="Service levels concerned"
    )
    subject: str = Field(
        "service_level",
        description="service_level, performance; delegation, redelegation and policy are refused (R-DSP-1)",
    )
    what_happened: str = Field(max_length=100_000)
    negotiation: str = Field(
        "", max_length=100_000, description="The direct negotiation tried with the IFM (R-DSP-2)"
    )
    negotiate_first: bool = Field(
        False, description="Open direct negotiation with the IFM instead of lodging with the DUG"
    )


class AttachmentIn(BaseModel):
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    content_base64: str


class ActionIn(BaseModel):
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The case version you acted on; a stale version answers 409"
    )
    text: str = Field("", max_length=100_000, description="The document or reason this action records")
    refusal_ground: str | None = Field(None, description="delegation, redelegation or policy")
    mediator_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=10)
    panelist_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=10)
    remedial_action_index: int | None = Field(None, ge=0, le=10_000)
    complaint: ComplaintIn | None = Field(None, description="For 'escalate' from negotiation")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class DayOut(BaseModel):
    date: date
    reason: str


class DeadlineOut(BaseModel):
    kind: str
    running: bool
    calendar: str
    timezone: str
    start: datetime
    working_days: int
    due: datetime
    counted: list[DayOut]
    skipped: list[DayOut]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str


class DocumentOut(BaseModel):
    id: int
    kind: str
    body: str
    author: str
    created_at: datetime
    attachments: list[AttachmentOut]


class TimelineOut(BaseModel):
    at: datetime
    actor: str
    tag: str
    action: str
    from_stage: str
    to_stage: str
    note: str


class RemedialActionOut(BaseModel):
    index: int
    description: str
    completed_at: datetime | None
    completion_note: str


class CaseSummary(BaseModel):
    id: int
    reference: str
    title: str
    stage: str
    stage_label: str
    complainant: str
    tlds: list[str]
    lodged_at: datetime | None
    next_due_at: datetime | None
    overdue: list[str]
    version: int


class CaseOut(CaseSummary):
    subject: str
    service_levels: list[str]
    what_happened: str
    negotiation: str
    opened_at: datetime
    closed_at: datetime | None
    archived: bool
    your_relations: list[str]
    available_actions: list[str]
    deadlines: list[DeadlineOut]
    remedy_due: datetime | None
    bound_agreement_at: datetime | None
    refusal: dict[str, str] | None
    withdrawal_reason: str | None
    mediators: list[PersonOut]
    panelists: list[PersonOut]
    remedial_actions: list[RemedialActionOut]
    disclosure_consents: list[str]
    disclosed: bool
    eligible_for_further_escalation: bool
    documents: list[DocumentOut]
    timeline: list[TimelineOut]


class FindingOut(BaseModel):
    reference: str
    operator: str
    respondent: str
    tlds: list[str]
    finding: str | None = Field(description="The IAP's finding (R-DSP-6): no_breach, remedy_pending "
                                "(breach capable of remedy) or not_capable_of_remedy")
    finding_label: str | None
    outcome: str = Field(description="The case's stage now: the finding's outcome (remedied, not "
                         "remedied) or a withdrawal (R-DSP-8)")
    outcome_label: str
    finding_at: str | None
    remedy_due: str | None
    remedied_at: str | None
    eligible_for_further_escalation: bool



class SealedEntryOut(BaseModel):
    """A sealed archive entry of the case, opened for a party (R-DSP-9)."""

    seq: int = Field(description="The entry's position in the archive log")
    event: int = Field(description="The audit event it logged")
    tag: str
    salt: str = Field(description="base64 of the 32-byte salt")
    content: dict[str, Any] = Field(description="The canonical content the commitment is over")
