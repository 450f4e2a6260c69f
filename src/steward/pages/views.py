"""The public front pages (home, about) and each role's home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from steward.authz import ROLE_LABELS, Role
from steward.contexts import modules
from steward.registry import service as registry
from steward.web import CurrentPrincipal, DbSession, Router, nav_items, render

router = Router(include_in_schema=False)


@dataclass(frozen=True)
class HomePanel:
    """A box on a person's home page: what needs them in one context."""

    title: str
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (label, url, note)
    empty: str = "Nothing needs you here."

NAV = [("About", "/about", None)]

# What each role comes to Steward for; each context's pages add the links (see NAV).
ROLE_INTRO: dict[Role, str] = {
    Role.OPERATOR_STAFF: "Lodge and follow your organisation's service-level disputes with the IFM, "
    "read the monthly performance reports, comment on technical changes and vote in ballots.",
    Role.IFM_STAFF: "Answer complaints within 10 working days, ingest performance data and publish the "
    "monthly reports, publish implementation plans and answer every public comment.",
    Role.DUG_MEMBER: "Review the IFM's reports, facilitate disputes (unless your organisation is a party), "
    "vote on the DUG's decisions.",
    Role.DUG_LIAISON: "Follow the DUG's work for the technical community and comment on its motions (no vote).",
    Role.DUG_CHAIR: "Run the DUG's board: open cases by stage and deadline, motions, urgent reviews.",
    Role.MEDIATOR: "Read the files of the disputes you mediate and record their outcome.",
    Role.IAP_PANELIST: "Read the whole file of the appeals you sit on and record the panel's binding finding.",
    Role.EXPERT: "Work with the IFM on the root cause and remediation of a systemic failure.",
    Role.AUDITOR: "Upload the 3-yearly independent audit report and its findings.",
    Role.IPRT_MEMBER: "Take part in the periodic IANA Performance Review.",
    Role.SYSADMIN: "Manage accounts and the registry import. You cannot read case content.",
}


@router.get("/")
def index(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return render(request, "pages/index.html", {"stats": registry.stats(db)})


@router.get("/about")
def about(request: Request, principal: CurrentPrincipal) -> Response:
    return render(request, "pages/about.html")


@router.get("/home")
def home(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    if principal.is_anonymous:
        return RedirectResponse("/login?next=/home", status_code=303)
    roles = [(ROLE_LABELS[r], ROLE_INTRO[r]) for r in sorted(principal.roles)]
    # each context may show the signed-in person what needs them: views.home_panels(db, principal)
    # returns a list of HomePanel(title, items=[(label, url, note)])
    panels = []
    for _name, views in modules("views"):
        if hasattr(views, "home_panels"):
            panels.extend(views.home_panels(db, principal))
    return render(request, "pages/home.html", {"roles": roles, "links": nav_items(principal), "panels": panels})
