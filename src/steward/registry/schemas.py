from __future__ import annotations

from pydantic import BaseModel, Field


class OrganisationRef(BaseModel):
    id: int
    name: str
    slug: str


class TldOut(BaseModel):
    a_label: str
    u_label: str
    idn: bool
    type: str
    manager: OrganisationRef | None
    active: bool


class TldPage(BaseModel):
    total: int
    items: list[TldOut]


class OrganisationOut(BaseModel):
    id: int
    name: str
    slug: str
    kind: str
    acronym: str | None
    chambers: list[str]
    tlds: list[str] = Field(default_factory=list, description="A-labels of its active TLDs")


class OrganisationIn(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    kind: str
    acronym: str | None = Field(None, max_length=20)
    contact_email: str | None = Field(None, max_length=320)
    description: str = Field("", max_length=5000)
    affiliated_with_ifm: bool = False
