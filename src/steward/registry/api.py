"""Registry API: TLDs, organisations, statistics, import."""

from __future__ import annotations

from typing import Any

from fastapi import Query, UploadFile

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.errors import Invalid, NotFound
from steward.registry import repository, service
from steward.registry.domain import typed_label
from steward.registry.models import Organisation, Tld
from steward.registry.schemas import (
    OrganisationIn,
    OrganisationOut,
    OrganisationRef,
    TldOut,
    TldPage,
)
from steward.textfile import decode_utf8
from steward.web import DbSession, Router, require

router = Router(prefix="/api/v1/registry", tags=["registry"])


def tld_out(tld: Tld) -> TldOut:
    manager = tld.manager
    return TldOut(
        a_label=tld.a_label, u_label=tld.u_label, idn=tld.is_idn, type=tld.type, active=tld.active,
        manager=OrganisationRef(id=manager.id, name=manager.name, slug=manager.slug) if manager else None,
    )


def organisation_out(db: DbSession, org: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=org.id, name=org.name, slug=org.slug, kind=org.kind, acronym=org.acronym,
        chambers=sorted(c.value for c in repository.chambers_of_organisation(db, org.id)),
        tlds=[t.a_label for t in repository.tlds_of(db, org.id)],
    )


@router.get("/tlds", response_model=TldPage)
def tlds(
    db: DbSession,
    q: str = Query("", max_length=100, description="A-label, U-label or manager name, or part of it"),
    type: str | None = Query(None, description="generic, country-code, sponsored, …"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> TldPage:
    total, rows = repository.search_tlds(db, typed_label(q), type, limit, offset)
    return TldPage(total=total, items=[tld_out(t) for t in rows])


@router.get("/tlds/{label}", response_model=TldOut)
def tld(label: str, db: DbSession) -> TldOut:
    row = repository.tld_by_label(db, label)
    if row is None:
        raise NotFound(f"no TLD .{label}")
    return tld_out(row)


@router.get("/organisations", response_model=list[OrganisationOut])
def organisations(db: DbSession, kind: str | None = None) -> list[OrganisationOut]:
    return [organisation_out(db, o) for o in repository.organisations(db, kind)]


@router.get("/organisations/{slug}", response_model=OrganisationOut)
def organisation(slug: str, db: DbSession) -> OrganisationOut:
    org = repository.organisation_by_slug(db, slug)
    if org is None:
        raise NotFound(f"no organisation {slug}")
    return organisation_out(db, org)


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
def create_organisation(body: OrganisationIn, db: DbSession, principal: Principal = require(Permission.REGISTRY_EDIT)) -> OrganisationOut:
    org = service.create_organisation(db, principal, **body.model_dump())
    return organisation_out(db, org)


@router.get("/stats")
def stats(db: DbSession) -> dict[str, Any]:
    return service.stats(db)


@router.post("/import")
def import_file(file: UploadFile, db: DbSession, principal: Principal = require(Permission.REGISTRY_IMPORT)) -> dict[str, Any]:
    """Import a Root Zone Database CSV (``Domain,Type,TLD Manager``); a bad file changes nothing."""
    raw = file.file.read(20 * 1024 * 1024 + 1)
    if len(raw) > 20 * 1024 * 1024:
        raise Invalid("the file is larger than 20 MiB", field="file")
    text = decode_utf8(raw, "file")
    report = service.import_root_zone(db, principal, text)
    return {"summary": report.summary(), **report.as_dict()}
