"""Registry use cases: import the Root Zone Database, manage organisations, statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.errors import Conflict, Invalid
from steward.events import record_event
from steward.registry import domain, repository
from steward.registry.domain import Current, OrgKind, RegistryFileError
from steward.registry.models import Organisation, Tld

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    total: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reassigned: list[dict[str, str | None]] = field(default_factory=list)
    retyped: list[dict[str, str]] = field(default_factory=list)
    organisations_created: int = 0

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.reassigned or self.retyped)

    def summary(self) -> str:
        if self.unchanged:
            return f"No changes: the registry already matches the file ({self.total} TLDs)."
        return (
            f"{self.total} TLDs in the file: {len(self.added)} added, {len(self.removed)} removed, "
            f"{len(self.reassigned)} re-assigned, {len(self.retyped)} re-typed; "
            f"{self.organisations_created} new organisations."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "unchanged": self.unchanged,
            "added": self.added,
            "removed": self.removed,
            "reassigned": self.reassigned,
            "retyped": self.retyped,
            "organisations_created": self.organisations_created,
        }


def _unique_slug(session: Session, name: str, taken: set[str]) -> str:
    base = domain.slugify(name)
    slug, n = base, 1
    while slug in taken or repository.organisation_by_slug(session, slug) is not None:
        n += 1
        slug = f"{base[:80]}-{n}"
    taken.add(slug)
    return slug


def import_root_zone(
    session: Session, actor: Principal | None, text: str, *, progress: Progress | None = None
) -> ImportReport:
    """Import a Root Zone Database CSV. The whole file is validated first; a bad file changes
    nothing. Managers become operator organisations; "Not assigned" TLDs have no operator."""
    if actor is not None:
        actor.require(Permission.REGISTRY_IMPORT)
    try:
        rows = domain.parse_root_zone_csv(text)
    except RegistryFileError as exc:
        raise Invalid(exc.message, line=exc.line) from None

    tlds = {t.a_label: t for t in repository.all_tlds(session)}
    current = {
        a: Current(type=domain.TldType(t.type), manager=t.manager.name if t.manager else None)
        for a, t in tlds.items()
        if t.active
    }
    plan = domain.plan_import(current, rows)
    report = ImportReport(
        total=len(rows),
        added=[r.a_label for r in plan.added],
        removed=plan.removed,
        reassigned=[{"tld": a, "from": old, "to": new} for a, old, new in plan.reassigned],
        retyped=[{"tld": a, "from": old.value, "to": new.value} for a, old, new in plan.retyped],
    )
    if plan.unchanged:
        if progress:
            progress(len(rows), len(rows))
        return report

    orgs = repository.organisations_by_name(session)
    slugs: set[str] = set()
    for i, row in enumerate(rows, 1):
        manager = None
        if row.manager is not None:
            manager = orgs.get(row.manager)
            if manager is None:
                manager = Organisation(
                    name=row.manager, slug=_unique_slug(session, row.manager, slugs), kind=OrgKind.OPERATOR.value
                )
                session.add(manager)
                orgs[row.manager] = manager
                report.organisations_created += 1
            elif manager.kind != OrgKind.OPERATOR.value:
                raise Invalid(
                    f"TLD Manager: '{row.manager}' is an organisation of kind {manager.kind}, not an operator",
                    line=row.line,
                )
        tld = tlds.get(row.a_label)
        if tld is None:
            tld = Tld(a_label=row.a_label, u_label=row.u_label, type=row.type.value, manager=manager, active=True)
            session.add(tld)
        elif not tld.active or tld.type != row.type.value or tld.manager is not manager or tld.u_label != row.u_label:
            tld.active, tld.type, tld.manager, tld.u_label = True, row.type.value, manager, row.u_label
        if progress and (i % 200 == 0 or i == len(rows)):
            progress(i, len(rows))
    for a_label in plan.removed:
        tlds[a_label].active = False
    session.flush()
    record_event(
        session,
        "registry:imported",
        actor=actor,
        subject_type="registry",
        data={
            "total": report.total,
            "added": len(report.added),
            "removed": report.removed,
            "reassigned": report.reassigned,
            "retyped": report.retyped,
        },
        public=True,
    )
    return report


def create_organisation(
    session: Session,
    actor: Principal | None,
    *,
    name: str,
    kind: str,
    acronym: str | None = None,
    contact_email: str | None = None,
    description: str = "",
    affiliated_with_ifm: bool = False,
) -> Organisation:
    if actor is not None:
        actor.require(Permission.REGISTRY_EDIT)
    name = domain.clean_text(name)
    if not name:
        raise Invalid("is required", field="name")
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise Invalid(f"unknown kind '{kind}' (known: {', '.join(k.value for k in OrgKind)})", field="kind") from None
    if repository.organisation_by_name(session, name):
        raise Conflict(f"an organisation named '{name}' already exists")
    org = Organisation(
        name=name,
        slug=_unique_slug(session, name, set()),
        kind=org_kind.value,
        acronym=acronym,
        contact_email=contact_email,
        description=description,
        affiliated_with_ifm=affiliated_with_ifm,
    )
    session.add(org)
    session.flush()
    record_event(session, "organisation:created", actor=actor, subject_type="organisation", subject_id=org.id,
                 data={"name": name, "kind": org_kind.value}, public=True)
    return org


def stats(session: Session) -> dict[str, Any]:
    """Counts of active TLDs by type and of operators by chamber.

    ``operators.by_chamber``: ``cctld`` and ``gtld`` count the members of each chamber, ``both``
    those in the two at once, ``none`` operators with no chamber (only test/infrastructure TLDs,
    or none left).
    """
    by_type = {t.value: 0 for t in domain.TldType}
    by_type.update(repository.tld_counts_by_type(session))
    chambers = repository.operator_chambers(session)
    cc = sum(1 for c in chambers.values() if domain.Chamber.CCTLD in c)
    g = sum(1 for c in chambers.values() if domain.Chamber.GTLD in c)
    both = sum(1 for c in chambers.values() if len(c) == 2)
    none = sum(1 for c in chambers.values() if not c)
    return {
        "tlds": {"total": sum(by_type.values()), "by_type": by_type},
        "operators": {
            "total": len(chambers),
            "by_chamber": {"cctld": cc, "gtld": g, "both": both, "none": none},
        },
    }
