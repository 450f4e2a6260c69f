from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    roles: list[str]
    organisation_id: int | None
    active: bool


class UserIn(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=200)
    roles: list[str]
    organisation_id: int | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; store it now.")


class PersonOut(BaseModel):
    """A person named on a matter (a mediator, a panelist): id and name only."""

    id: int
    name: str
