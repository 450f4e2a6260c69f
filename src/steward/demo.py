"""``steward demo``: the project's own demo data, so that a newcomer sees every capability.

A few dozen real TLDs and their operators are used as facts; the full registry comes from
``steward registry import``. Every role gets one account whose password is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from steward.accounts import repository as accounts_repo
from steward.accounts import service as accounts
from steward.accounts.models import User
from steward.authz import Role
from steward.cli_support import progress_bar
from steward.config import get_settings
from steward.contexts import modules
from steward.db import session_scope
from steward.registry import repository as registry_repo
from steward.registry import service as registry
from steward.registry.models import Organisation

DEMO_MARKER = "chair@dug.example"

# (a_label or u_label, type, manager) — real facts from the IANA Root Zone Database
DEMO_TLDS: list[tuple[str, str, str]] = [
    ("com", "generic", "VeriSign Global Registry Services"),
    ("net", "generic", "VeriSign Global Registry Services"),
    ("コム", "generic", "VeriSign Sarl"),
    ("org", "generic", "Public Interest Registry (PIR)"),
    ("ngo", "generic", "Public Interest Registry"),
    ("info", "generic", "Identity Digital Limited"),
    ("io", "country-code", "Internet Computer Bureau Limited"),
    ("de", "country-code", "DENIC eG"),
    ("nl", "country-code", "SIDN (Stichting Internet Domeinregistratie Nederland)"),
    ("uk", "country-code", "Nominet UK"),
    ("se", "country-code", "The Internet Infrastructure Foundation"),
    ("nu", "country-code", "The IUSN Foundation"),
    ("jp", "country-code", "Japan Registry Services Co., Ltd."),
    ("br", "country-code", "Comite Gestor da Internet no Brasil"),
    ("рф", "country-code", "Coordination Center for TLD RU"),
    ("ru", "country-code", "Coordination Center for TLD RU"),
    ("中国", "country-code", "China Internet Network Information Center (CNNIC)"),
    ("cn", "country-code", "China Internet Network Information Center (CNNIC)"),
    ("ישראל", "country-code", "The Israel Internet Association (RA)"),
    ("il", "country-code", "The Israel Internet Association (RA)"),
    ("ca", "country-code", "Canadian Internet Registration Authority (CIRA) Autorité Canadienne pour les enregistrements Internet (ACEI)"),
    ("au", "country-code", ".au Domain Administration (auDA)"),
    ("nz", "country-code", "InternetNZ"),
    ("za", "country-code", "ZA Domain Name Authority"),
    ("in", "country-code", "National Internet Exchange of India"),
    ("भारत", "country-code", "National Internet Exchange of India"),
    ("museum", "sponsored", "Museum Domain Management Association"),
    ("aero", "sponsored", "Societe Internationale de Telecommunications Aeronautique (SITA INC USA)"),
    ("biz", "generic-restricted", "Registry Services, LLC"),
    ("name", "generic-restricted", "VeriSign Information Services, Inc."),
    ("arpa", "infrastructure", "Internet Architecture Board (IAB)"),
    ("テスト", "test", "Not assigned"),
    ("berlin", "generic", "dotBERLIN GmbH & Co. KG"),
    ("amsterdam", "generic", "Gemeente Amsterdam"),
]

OTHER_ORGS: list[tuple[str, str, str | None, bool]] = [
    ("Public Technical Identifiers (PTI)", "ifm", "PTI", False),
    ("Governmental Advisory Committee", "so_ac", "GAC", False),
    ("At-Large Advisory Committee", "so_ac", "ALAC", False),
    ("Security and Stability Advisory Committee", "so_ac", "SSAC", False),
    ("Root Server System Advisory Committee", "so_ac", "RSSAC", False),
    ("Internet Engineering Task Force", "technical_community", "IETF", False),
    ("Country Code Names Supporting Organization", "so_ac", "ccNSO", False),
    ("Generic Names Supporting Organization", "so_ac", "GNSO", False),
    ("Geneva Mediation Partners (demo)", "mediation_provider", None, False),
    ("International Arbitration Chambers (demo)", "arbitration_provider", None, False),
    ("Northbridge Assurance (demo audit firm)", "audit_firm", None, False),
]

# email, name, roles, organisation name
DEMO_USERS: list[tuple[str, str, list[Role], str | None]] = [
    ("operator@denic.example", "Olga Operator", [Role.OPERATOR_STAFF], "DENIC eG"),
    ("operator@sidn.example", "Sven Operator", [Role.OPERATOR_STAFF], "SIDN (Stichting Internet Domeinregistratie Nederland)"),
    ("ifm@pti.example", "Ines IFM", [Role.IFM_STAFF], "Public Technical Identifiers (PTI)"),
    (DEMO_MARKER, "Chandra Chair", [Role.DUG_CHAIR, Role.DUG_MEMBER], "InternetNZ"),
    ("member@dug.example", "Dara Member", [Role.DUG_MEMBER], "Nominet UK"),
    ("member.denic@dug.example", "Dieter Member (DENIC)", [Role.DUG_MEMBER], "DENIC eG"),
    ("liaison@dug.example", "Lee Liaison", [Role.DUG_LIAISON], "Internet Engineering Task Force"),
    ("mediator@mediation.example", "Mia Mediator", [Role.MEDIATOR], "Geneva Mediation Partners (demo)"),
    ("panelist@iap.example", "Pablo Panelist", [Role.IAP_PANELIST], "International Arbitration Chambers (demo)"),
    ("expert@experts.example", "Erin Expert", [Role.EXPERT], None),
    ("auditor@audit.example", "Aud Auditor", [Role.AUDITOR], "Northbridge Assurance (demo audit firm)"),
    ("iprt@iprt.example", "Ivo Reviewer", [Role.IPRT_MEMBER], "Governmental Advisory Committee"),
    ("admin@steward.example", "Sam Sysadmin", [Role.SYSADMIN], None),
]


def demo_password(email: str) -> str:
    return f"demo-{email.split('@')[0].replace('.', '-')}-2026"


@dataclass
class DemoContext:
    """What the foundation created, handed to every context's ``demo.load_demo``."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, role: Role) -> User:
        return next(u for u in self.users.values() if role.value in {r.role for r in u.roles})


def _csv(rows: list[tuple[str, str, str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Domain", "Type", "TLD Manager"])
    for label, tld_type, manager in rows:
        writer.writerow([f".{label}", tld_type, manager])
    return out.getvalue()


def load_foundation(session: Session) -> DemoContext:
    ctx = DemoContext()
    # merge the demo TLDs with what is already there so a full registry import is not undone
    existing = registry_repo.all_tlds(session)
    known = {t.a_label for t in existing}
    rows = [
        (t.a_label, t.type, t.manager.name if t.manager else "Not assigned") for t in existing if t.active
    ]
    from steward.registry.domain import labels

    rows += [r for r in DEMO_TLDS if labels(r[0]).a_label not in known]
    registry.import_root_zone(session, None, _csv(rows))
    for name, kind, acronym, affiliated in OTHER_ORGS:
        if registry_repo.organisation_by_name(session, name) is None:
            registry.create_organisation(session, None, name=name, kind=kind, acronym=acronym,
                                         affiliated_with_ifm=affiliated,
                                         contact_email=f"contact@{(acronym or 'org').lower()}.example")
    for org in registry_repo.organisations(session):
        ctx.orgs[org.name] = org
    for email, name, roles, org_name in DEMO_USERS:
        user = accounts_repo.user_by_email(session, email)
        if user is None:
            user = accounts.create_user(
                session, None, email=email, name=name, password=demo_password(email),
                roles=[r.value for r in roles], organisation_id=ctx.orgs[org_name].id if org_name else None,
            )
        ctx.users[email] = user
    for org in ctx.orgs.values():
        if org.kind == "operator" and not org.contact_email:
            org.contact_email = f"registry@{org.slug}.example"
    session.flush()
    return ctx


def load(console: Console | None = None) -> None:
    console = console or Console()
    if get_settings().environment == "production":
        console.print("[red]Refusing to load demo data in production.[/red]")
        raise SystemExit(1)
    with session_scope() as session:
        if accounts_repo.user_by_email(session, DEMO_MARKER) is not None:
            console.print("Demo data is already loaded.")
            _print_accounts(console)
            return
        contexts = list(modules("demo"))
        with progress_bar() as bar:
            task = bar.add_task("Demo data: accounts", total=len(contexts) + 1)
            ctx = load_foundation(session)
            bar.advance(task)
            for name, demo in contexts:
                bar.update(task, description=f"Demo data: {name}")
                demo.load_demo(session, ctx)
                bar.advance(task)
            bar.update(task, description="Demo data")
    console.print("[green]Demo data loaded.[/green]")
    _print_accounts(console)


def _print_accounts(console: Console) -> None:
    console.print("[b]Demo accounts[/b] (sign in at /login):")
    for email, _name, roles, org in DEMO_USERS:
        where = f" — {org}" if org else ""
        console.print(f"  {email:<28} {demo_password(email):<28} {', '.join(r.value for r in roles)}{where}",
                      highlight=False, soft_wrap=True)
