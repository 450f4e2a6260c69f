"""Organisations and TLDs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class Organisation(Base):
    __tablename__ = "registry_organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    slug: Mapped[str] = mapped_column(String(90), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    acronym: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(Text, default="")
    # audit firms declare whether they are affiliated with the IFM (R-AUD-1)
    affiliated_with_ifm: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    tlds: Mapped[list[Tld]] = relationship(back_populates="manager", lazy="raise")


class Tld(Base):
    __tablename__ = "registry_tld"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_label: Mapped[str] = mapped_column(String(70), unique=True)
    u_label: Mapped[str] = mapped_column(String(70), index=True)
    type: Mapped[str] = mapped_column(String(24), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("registry_organisation.id"), index=True)
    # a TLD that left the root zone is kept (disputes may cite it) but is no longer active
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    manager: Mapped[Organisation | None] = relationship(back_populates="tlds", lazy="joined")

    @property
    def is_idn(self) -> bool:
        return self.a_label != self.u_label
