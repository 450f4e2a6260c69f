"""Enumerate every route of the app (FastAPI 0.16x includes routers lazily, so ``app.routes``
holds ``_IncludedRouter`` branches that are flattened here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
