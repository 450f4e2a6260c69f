"""Public registry pages: search operators and TLDs by A-label or U-label."""

from __future__ import annotations

from fastapi import Query, Request
from fastapi.responses import Response

from steward.errors import NotFound
from steward.registry import repository, service
from steward.registry.domain import TldType
from steward.web import CurrentPrincipal, DbSession, Router, render

router = Router(include_in_schema=False)

NAV = [("Registry", "/registry", None)]
PAGE = 50


@router.get("/registry")
def registry(
    request: Request, db: DbSession, principal: CurrentPrincipal,
    q: str = Query("", max_length=100), type: str = Query(""), page: int = Query(1, ge=1, le=10000),
) -> Response:
    query = q.strip().lstrip(".")
    tld_type = type if type in {t.value for t in TldType} else None
    total, rows = repository.search_tlds(db, query, tld_type, PAGE, (page - 1) * PAGE)
    return render(request, "registry/index.html", {
        "q": q, "type": tld_type or "", "types": list(TldType), "tlds": rows, "total": total, "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE), "stats": service.stats(db),
    })


@router.get("/registry/operators/{slug}")
def operator(slug: str, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    org = repository.organisation_by_slug(db, slug)
    if org is None:
        raise NotFound(f"no organisation {slug}")
    return render(request, "registry/organisation.html", {
        "org": org, "tlds": repository.tlds_of(db, org.id),
        "chambers": sorted(c.value for c in repository.chambers_of_organisation(db, org.id)),
    })
