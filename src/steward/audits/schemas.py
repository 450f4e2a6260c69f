"""API models of the audits context."""

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


class CommissionIn(BaseModel):
    firm_id: RowId
    declaration: str = Field(description="The firm's declaration of independence from the IFM")
    affiliated_organisation_ids: list[RowId] = Field(
        default_factory=list, description="Organisations the firm declares it is affiliated with"
    )
    scope: str = ""


class FindingIn(BaseModel):
    title: str = Field(max_length=300)
    text: str = ""
    severity: str = "observation"


class DocumentIn(BaseModel):
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    content_base64: str


class ReportIn(BaseModel):
    report: str
    findings: list[FindingIn]
    document: DocumentIn | None = Field(None, description="The report itself as a file (PDF, text, …), optional")


class PublishIn(BaseModel):
    feedback_closes: date


class FeedbackIn(BaseModel):
    author_name: str = Field("", max_length=200)
    text: str = Field(max_length=10_000)


class ExamineIn(BaseModel):
    examination: str
    refine: bool = False
    catalogue_toml: str = Field(
        "",
        description="With refine: the refined SLA catalogue version (TOML, as steward.sla reads it)",
    )


class FindingOut(BaseModel):
    title: str
    text: str
    severity: str


class FeedbackOut(BaseModel):
    author_name: str
    text: str
    created_at: datetime


class DocumentOut(BaseModel):
    filename: str
    size: int
    sha256: str
    url: str


class AuditOut(BaseModel):
    id: int
    cycle: int
    due_on: date
    firm: str
    declaration: str
    commissioned_on: date
    motion_id: int | None
    stage: str
    report: str | None = Field(description="Hidden until published, except to the DUG and the firm")
    findings: list[FindingOut]
    report_document: DocumentOut | None = None
    published_on: date | None
    feedback_closes: date | None
    feedback: list[FeedbackOut]
    examination: str
    refine: bool
    catalogue_version: str | None
