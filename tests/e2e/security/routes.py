"""Enumerate every route of the app (FastAPI 0.16x includes routers lazily, so ``app.routes``
holds ``_IncludedRouter`` branches that are flattened here)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from steward import db as dbmod

PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    in_schema: bool
    endpoint: Any

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def _walk(candidates: list[Any], out: list[RouteInfo]) -> None:
    for route in candidates:
        if hasattr(route, "effective_candidates"):
            _walk(route.effective_candidates(), out)
            _walk(route.effective_low_priority_routes(), out)
            continue
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if path is None or not methods:
            continue
        out.append(RouteInfo(path, frozenset(methods) - {"HEAD", "OPTIONS"},
                             bool(getattr(route, "include_in_schema", True)), getattr(route, "endpoint", None)))


def all_routes(app: Any) -> list[RouteInfo]:
    """Every HTTP route of the app (pages and API), de-duplicated, in a stable order."""
    out: list[RouteInfo] = []
    _walk(list(app.routes), out)
    seen: dict[tuple[str, frozenset[str]], RouteInfo] = {}
    for r in out:
        if r.methods:
            seen.setdefault((r.path, r.methods), r)
    return sorted(seen.values(), key=lambda r: (r.path, sorted(r.methods)))


def path_values(env: Any) -> dict[str, list[str]]:
    """Real values for every path parameter, from the demo data (the planted records first)."""
    from steward.audits.models import PeriodicAudit as Audit
    from steward.changes.models import ChangePlan
    from steward.events import Publication
    from steward.governance.models import DugCharter as Charter
    from steward.governance.models import DugMotion as Motion
    from steward.registry.models import Organisation
    from steward.reviews.models import IprtReview as Review
    from steward.sla.models import SlaReport
    from steward.systemic.models import Review as UrgentReview
    from steward.systemic.models import Signal

    f = env.facts
    with dbmod.session_scope() as s:
        def ids(model: Any, col: Any = None, n: int = 3) -> list[str]:
            col = col if col is not None else model.id
            return [str(v) for v in s.scalars(select(col).order_by(col.desc()).limit(n))]

        slug = s.scalar(select(Organisation.slug).where(Organisation.name == "DENIC eG"))
        months = [str(v) for v in s.scalars(select(SlaReport.month).order_by(SlaReport.month.desc()).limit(2))]
        return {
            "case_id": [str(f["case_id"]), str(f["iap_case_id"])],
            "attachment_id": [str(f["attachment_id"])],
            "seq": [str(f["sealed_seq"]), "1"],
            "ballot_id": [str(f["ballot_id"])],
            "receipt": list(f["receipt_ids"]),
            "audit_id": ids(Audit),
            "plan_id": ids(ChangePlan),
            "number": ["1"],
            "motion_id": ids(Motion, n=4),
            "slug": [slug or "denic-eg"],
            "label": ["de"],
            "review_id": ids(Review),
            "systemic_review_id": ids(UrgentReview),
            "signal_id": ids(Signal),
            "month": months or ["2026-10"],
            "metric_id": ["1"],
            "filename": [f"{months[0]}.json", f"{months[0]}.csv"] if months else ["2026-10.json"],
            "version": [str(v) for v in s.scalars(select(Charter.version).limit(2))] or ["1"],
            "publication_id": ids(Publication, n=5),
            # parameters of state-changing routes only
            "action": ["request_response"], "direction_id": ["1"], "member_id": ["1"],
            "token_id": ["1"], "token": ["x"], "user_id": ["2"],
            # an account no role of the matrix signs in with: the sweep may disable it
            "email": ["berlin@dug.example"],
        }


def urls_for(
    env: Any, methods: set[str], skip: set[str] | frozenset[str] = frozenset(), *, first_only: bool = False
) -> list[str]:
    """A URL for every route answering one of ``methods`` and every combination of real values."""
    values = path_values(env)
    urls: list[str] = []
    unresolved: list[str] = []
    for route in all_routes(env.app):
        if not (route.methods & methods) or route.path in skip:
            continue
        names = route.params
        lists = []
        for name in names:
            key = "systemic_review_id" if name == "review_id" and route.path.startswith(("/systemic", "/api/v1/systemic")) else name
            if key not in values or not values[key]:
                unresolved.append(f"{route.path}: {name}")
                break
            lists.append(values[key][:1] if first_only else values[key])
        else:
            for combo in itertools.product(*lists):
                url = route.path
                for name, value in zip(names, combo, strict=True):
                    url = fill(url, name, value)
                urls.append(url)
    assert not unresolved, f"give the matrix values for these path parameters: {unresolved}"
    return urls


def fill(path: str, name: str, value: str) -> str:
    start = path.index("{" + name)
    end = path.index("}", start)
    return path[:start] + value + path[end + 1:]
