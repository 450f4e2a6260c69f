"""Every query of the registry context."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from steward.registry.domain import Chamber, TldType, chambers_of, typed_label
from steward.registry.models import Organisation, Tld


def organisation_by_id(session: Session, org_id: int) -> Organisation | None:
    return session.get(Organisation, org_id)


def organisation_by_slug(session: Session, slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.name == name))


def ifm_organisation_ids(session: Session) -> frozenset[int]:
    """The organisations that are the IFM (kind "ifm"): a party to every dispute and review."""
    return frozenset(session.scalars(select(Organisation.id).where(Organisation.kind == "ifm")))


def organisations(session: Session, kind: str | None = None) -> list[Organisation]:
    stmt = select(Organisation).order_by(Organisation.name)
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    return list(session.scalars(stmt))


def organisations_by_name(session: Session) -> dict[str, Organisation]:
    return {o.name: o for o in session.scalars(select(Organisation))}


def all_tlds(session: Session) -> list[Tld]:
    return list(session.scalars(select(Tld)))


def tld_by_label(session: Session, label: str) -> Tld | None:
    """The TLD with this A-label or U-label, as typed (``.DE``, a pasted right-to-left name)."""
    label = typed_label(label)
    return session.scalar(select(Tld).where(or_(Tld.a_label.in_({label, label.lower()}),
                                                Tld.u_label.in_({label, label.lower()}))))


def tlds_of(session: Session, org_id: int) -> list[Tld]:
    return list(session.scalars(select(Tld).where(Tld.manager_id == org_id, Tld.active).order_by(Tld.a_label)))


def search_tlds(session: Session, query: str, tld_type: str | None, limit: int, offset: int) -> tuple[int, list[Tld]]:
    """TLDs whose A-label, U-label or manager name contains ``query`` (case-insensitive)."""
    stmt = select(Tld).outerjoin(Organisation, Tld.manager_id == Organisation.id).where(Tld.active)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Tld.a_label).like(like),
                func.lower(Tld.u_label).like(like),
                Tld.u_label.like(f"%{query}%"),
                func.lower(Organisation.name).like(like),
            )
        )
    if tld_type:
        stmt = stmt.where(Tld.type == tld_type)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Tld.a_label).limit(limit).offset(offset)).unique()
    return total, list(rows)


def tld_counts_by_type(session: Session) -> dict[str, int]:
    rows = session.execute(select(Tld.type, func.count()).where(Tld.active).group_by(Tld.type))
    return {str(t): int(n) for t, n in rows.tuples()}


def operator_chambers(session: Session) -> dict[int, frozenset[Chamber]]:
    """Chambers of every operator, derived from the types of its active TLDs."""
    types: dict[int, set[TldType]] = defaultdict(set)
    rows = session.execute(
        select(Organisation.id, Tld.type)
        .outerjoin(Tld, (Tld.manager_id == Organisation.id) & Tld.active)
        .where(Organisation.kind == "operator")
    )
    for org_id, tld_type in rows:
        types[org_id]
        if tld_type is not None:
            types[org_id].add(TldType(tld_type))
    return {org_id: chambers_of(ts) for org_id, ts in types.items()}


def chambers_of_organisation(session: Session, org_id: int) -> frozenset[Chamber]:
    rows = session.scalars(select(Tld.type).where(Tld.manager_id == org_id, Tld.active).distinct())
    return chambers_of(TldType(t) for t in rows)
