"""API models of the transparency portal (open data)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PublicItemOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    published_at: str = Field(description="ISO 8601, UTC")
    url: str
    summary: str
    log_index: int | None = Field(description="Position in the tamper-evident archive")
    proof_url: str | None = Field(description="Page with the record's inclusion proof")


class PublicItemPage(BaseModel):
    total: int
    items: list[PublicItemOut]


class ScheduleItemOut(BaseModel):
    uid: str
    title: str
    kind: str
    start: str
    end: str
    all_day: bool
    url: str | None
    description: str
