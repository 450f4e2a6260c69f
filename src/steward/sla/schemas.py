"""Pydantic models of the service-levels API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PublishIn(BaseModel):
    explanations: dict[str, str] = Field(
        default_factory=dict, description="metric id → the IFM's explanation of its miss"
    )


class ExplanationIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class FindingIn(BaseModel):
    metric: str = Field(min_length=1, max_length=64)
    finding: str = Field(description="satisfactory, concern or breach")
    note: str = Field("", max_length=5000)


class ReviewIn(BaseModel):
    overall: str = Field(description="satisfactory or concerns")
    summary: str = Field("", max_length=20000)
    findings: list[FindingIn] = Field(default_factory=list)
    advice: str = Field(
        "",
        max_length=20000,
        description="advice to the IFM on the type, frequency and content of reports",
    )


class ReportListItem(BaseModel):
    month: str
    catalogue_version: str
    met: int
    with_data: int
    total: int
    rating: str
    published_at: str
