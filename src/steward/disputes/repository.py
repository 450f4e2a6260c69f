"""Every query of the disputes context.

Reads shown to people start from :func:`readable_statement`, which expresses R-DSP-7 and
R-DUG-3 in SQL (the same rule as ``domain.relations``; a test checks they agree).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    event,
    exists,
    func,
    null,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import BindParameter

from steward.accounts.models import User, UserRole
from steward.accounts.principal import Principal
from steward.disputes.domain import (
    CLOSED_STAGES,
    DUG_ROLES,
    OPEN_STAGES,
    CaseParties,
    CaseRole,
    Stage,
)
from steward.disputes.models import (
    DisputeAttachment,
    DisputeCase,
    DisputeDisclosureConsent,
    DisputeDocument,
    DisputeParticipant,
    DisputeRemedialAction,
    DisputeTimelineEntry,
)
from steward.events import AuditEvent
from steward.registry.models import Organisation

T = TypeVar("T")

_IFM_ORGS = select(Organisation.id).where(Organisation.kind == "ifm")  # built once: read by every case read


def ifm_org_ids(session: Session) -> frozenset[int]:
    """Organisations of kind ``ifm`` (parties to every dispute, for recusal)."""
    return _remembered(session, "ifm_orgs", Organisation, lambda: frozenset(session.scalars(_IFM_ORGS)))


def facts_read(session: Session) -> dict[object, Any]:
    """What this transaction has read of the facts kept below (forgotten at its end)."""
    return dict(session.info.get(_MEMO, {}))


def assume_facts(session: Session, facts: dict[object, Any]) -> None:
    """Take facts as another transaction of this request read them: an action's answer, made just
    after the action committed, describes the case as the action left it."""
    session.info.setdefault(_MEMO, {}).update(facts)


# Facts an action reads several times (its visibility check, the parties it notifies, its answer:
# the IFM's organisations ~5 times, a case's consents ~4 times) are read once per transaction.
# Forgotten when the transaction ends, when a flush writes what they are read from, and while the
# session holds such a change not yet flushed (the query would have flushed it first). Both are
# only ever written through the ORM (``session.add``), which is what the flush sees.
_MEMO = "steward.disputes.remembered"
_SOURCES = (Organisation, DisputeDisclosureConsent)


def _remembered(session: Session, key: object, source: type, read: Callable[[], T]) -> T:
    memo: dict[object, Any] = session.info.setdefault(_MEMO, {})
    if _touches(session, source):
        memo.clear()
    elif key in memo:
        return memo[key]  # type: ignore[no-any-return]
    value = memo[key] = read()
    return value


def _touches(session: Session, source: type | tuple[type, ...]) -> bool:
    return any(isinstance(o, source) for o in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _forget_written(session: Session, _context: Any, _instances: Any) -> None:
    if _MEMO in session.info and _touches(session, _SOURCES):
        session.info.pop(_MEMO)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None or transaction.nested:  # the transaction or a savepoint, not a flush
        session.info.pop(_MEMO, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous: Any) -> None:
    session.info.pop(_MEMO, None)


def _disclosed() -> object:
    both = (
        select(func.count(DisputeDisclosureConsent.id))
        .where(DisputeDisclosureConsent.case_id == DisputeCase.id)
        .scalar_subquery()
    )
    return both >= 2


def _participant(user_id: int, role: str) -> object:
    return exists().where(
        DisputeParticipant.case_id == DisputeCase.id,
        DisputeParticipant.user_id == user_id,
        DisputeParticipant.role == role,
    )


def visibility_clause(principal: Principal) -> object:
    """SQL for "this principal may see the case" (R-DSP-7, R-DUG-3)."""
    return _visibility(_who(principal))


def _who(principal: Principal) -> tuple[frozenset[str], int | None, int | None]:
    """What a case's visibility depends on of the principal (``_visibility``): roles; the
    organisation only for its operator's staff and the DUG (recusal); the user only for mediators
    and panelists (engaged per case). The kept statements are one per such kind of viewer."""
    roles = frozenset(r.value for r in principal.roles)
    org = principal.organisation_id if "operator_staff" in roles or roles & DUG_ROLES else None
    user = principal.user_id if roles & {"mediator", "iap_panelist"} else None
    return roles, org, user


def _visibility(who: tuple[frozenset[str], int | None, int | None]) -> object:
    roles, org, uid = who
    clauses: list[object] = []
    if "operator_staff" in roles and org is not None:
        clauses.append(DisputeCase.complainant_org_id == org)
    if "ifm_staff" in roles:
        clauses.append(true())
    if roles & DUG_ROLES:
        dug: ColumnElement[bool] = DisputeCase.lodged_at.is_not(None)
        if org is not None:
            # a DUG member of the complainant or of the IFM (a party to every dispute) is recused;
            # the IFM's side asked of the database in the statement itself (one lookup, run once;
            # never correlated with the complainant's organisation the board joins) rather than by
            # a query of its own before it
            ifm_side = exists().where(Organisation.id == org, Organisation.kind == "ifm").correlate(None)
            dug = and_(dug, DisputeCase.complainant_org_id != org, ~ifm_side)
        clauses.append(dug)
    if uid is not None and "mediator" in roles:
        clauses.append(_participant(uid, CaseRole.MEDIATOR.value))
    if uid is not None and "iap_panelist" in roles:
        clauses.append(_participant(uid, CaseRole.PANELIST.value))
    clauses.append(_disclosed())  # last: the costliest test, skipped for a case already visible
    return or_(*clauses)  # type: ignore[arg-type]


def readable_statement(session: Session, principal: Principal) -> Select[DisputeCase]:
    """The one statement every person-facing read of cases starts from."""
    return select(DisputeCase).where(visibility_clause(principal))  # type: ignore[arg-type]


def readable_case(session: Session, principal: Principal, case_id: int) -> DisputeCase | None:
    """A case the principal may see, or None (callers answer 404)."""
    result = session.execute(_readable_case_statement(_who(principal)), {"case_id": case_id})
    return result.unique().scalar_one_or_none()


@functools.lru_cache(maxsize=256)
def _readable_case_statement(who: tuple[frozenset[str], int | None, int | None]) -> Select[DisputeCase]:
    # every action and case page reads its case through this: one statement per kind of viewer,
    # kept (see _board_statement), its people and remedial actions (a few rows) joined in
    return select(DisputeCase).where(
        _visibility(who), DisputeCase.id == bindparam("case_id"),  # type: ignore[arg-type]
    ).options(joinedload(DisputeCase.participants), joinedload(DisputeCase.remedial_actions))


# most urgent first: soonest next deadline (overdue ones before all), then no running deadline, newest first
_URGENCY = (DisputeCase.next_due_at.is_(None), DisputeCase.next_due_at, DisputeCase.id.desc())


def readable_cases(
    session: Session,
    principal: Principal,
    *,
    stages: Sequence[Stage] | None = None,
    open_only: bool = False,
    query: str = "",
    limit: int = 500,
) -> list[DisputeCase]:
    stmt = readable_statement(session, principal)
    if stages:
        stmt = stmt.where(DisputeCase.stage.in_([s.value for s in stages]))
    if open_only:
        stmt = stmt.where(DisputeCase.stage.in_([s.value for s in OPEN_STAGES]))
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(DisputeCase.title).like(like),
                func.lower(DisputeCase.reference).like(like),
            )
        )
    stmt = stmt.order_by(*_URGENCY)
    return list(session.scalars(stmt.limit(limit)))


def _urgency(row: Row[Any]) -> tuple[bool, Any, int]:
    """``_URGENCY`` in Python: soonest next deadline first (overdue ones before all), then the
    cases with no running deadline, newest first."""
    return row.next_due_at is None, row.next_due_at, -row.id


def board_cases(session: Session, principal: Principal, per_stage: int) -> tuple[list[Row[Any]], dict[str, int]]:
    """The DUG board's open cases: the ``per_stage`` most urgent of each stage (soonest next
    deadline first, overdue ones before all), most urgent first, and how many open cases each
    stage has.

    One statement of plain rows (the board shows a few columns of up to a hundred cases, on every
    visit of every DUG member), each part reading the ``ix_dispute_case_board`` index (stage,
    next_due_at, id) rather than every open case: per stage, its first ``per_stage`` cases with a
    deadline and its newest ``per_stage`` without one; and, as rows of their own (no ``id``, the
    count in ``n``), the number of each stage's cases.
    """
    counts: dict[str, int] = {}
    kept: dict[str, list[Row[Any]]] = {}
    rows = session.execute(_board_statement(_who(principal), per_stage, session.get_bind().dialect)).all()
    for row in sorted((r for r in rows if r.id is not None), key=_urgency):
        stage = kept.setdefault(row.stage, [])
        if len(stage) < per_stage:
            stage.append(row)
    for row in rows:
        if row.id is None:
            counts[row.stage] = int(row.n)
    return sorted((r for shown in kept.values() for r in shown), key=_urgency), counts


# The board's statement is built once per kind of viewer and kept (building and keying one took
# longer than running it), as SQL with its values written in, typed columns declared: it has no
# parameters, so PostgreSQL plans it once per connection (psycopg prepares a statement sent five
# times) where, with parameters, it planned it again at every visit (1.4 ms of its 3).
@functools.lru_cache(maxsize=256)
def _board_statement(who: tuple[frozenset[str], int | None, int | None], per_stage: int, dialect: Dialect) -> Any:
    board = _board_union(who, per_stage)
    sql = str(board.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    # the values written in are integers and this module's constants; none may read as a
    # parameter (":name") once the SQL is text again
    assert not re.search(r"(?<!:):[A-Za-z_]", sql), sql
    return text(sql).columns(*board.selected_columns)


def _board_union(who: tuple[frozenset[str], int | None, int | None], per_stage: int) -> Any:
    readable = _visibility(who)
    no_count = null().cast(Integer).label("n")
    parts = []
    for stage in sorted(s.value for s in OPEN_STAGES):
        base = (select(*_BOARD_COLUMNS, Organisation.name.label("complainant"), no_count)
                .outerjoin(Organisation, Organisation.id == DisputeCase.complainant_org_id)
                .where(DisputeCase.stage == stage, readable))  # type: ignore[arg-type]
        dated = (base.where(DisputeCase.next_due_at.is_not(None))
                 .order_by(DisputeCase.next_due_at, DisputeCase.id.desc()).limit(per_stage))
        undated = base.where(DisputeCase.next_due_at.is_(None)).order_by(DisputeCase.id.desc()).limit(per_stage)
        # each limited select as a subquery: SQLite takes no ORDER BY/LIMIT on a compound's member
        parts += [select(*q.subquery().c) for q in (dated, undated)]
    # the counts, in the same round trip: a row per stage with only its stage and count
    blanks = [null().cast(c.type).label(c.key) if c.key != "stage" else c for c in _BOARD_COLUMNS]
    counts = (select(*blanks, null().cast(String).label("complainant"), func.count().label("n"))
              .where(DisputeCase.stage.in_([s.value for s in OPEN_STAGES]), readable)  # type: ignore[arg-type]
              .group_by(DisputeCase.stage))
    return union_all(*parts, select(*counts.subquery().c))


# what the board shows of a case, and what its deadline flags are computed from: of a working-day
# deadline only the moment it falls due (ISO 8601), not the days counted that prove it
_BOARD_COLUMNS = (
    DisputeCase.id, DisputeCase.reference, DisputeCase.title, DisputeCase.complainant_org_id, DisputeCase.stage,
    DisputeCase.next_due_at,
    DisputeCase.acknowledgement_due["due"].as_string().label("acknowledgement_due"), DisputeCase.acknowledged_at,
    DisputeCase.answer_due["due"].as_string().label("answer_due"), DisputeCase.answered_at,
    DisputeCase.response_due["due"].as_string().label("response_due"), DisputeCase.remedy_due,
)


def case_for_update(session: Session, case_id: int) -> DisputeCase | None:
    """Unscoped load for the service after it has checked visibility."""
    return session.get(DisputeCase, case_id, populate_existing=True)


def lock_case(session: Session, case_id: int) -> None:
    """Hold the case's row until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite's write
    transactions hold the whole database already)."""
    session.execute(select(DisputeCase.id).where(DisputeCase.id == case_id).with_for_update())


def compare_and_set(
    session: Session, case_id: int, expected_version: int, values: dict[str, object]
) -> bool:
    """UPDATE the case only if nobody changed it since ``expected_version``; True if we won.

    A closed (archived) case is never updated, whatever the caller thinks (R-DSP-9).
    """
    params = {f"v_{k}": v for k, v in values.items()}
    result = session.execute(_compare_and_set(frozenset(values)),
                             {**params, "case_id": case_id, "expected": expected_version,
                              "next_version": expected_version + 1})
    return int(getattr(result, "rowcount", 0)) == 1


@functools.cache
def _compare_and_set(columns: frozenset[str]) -> Update:
    """The UPDATE of :func:`compare_and_set` for one set of columns, built once: every action
    writes the same columns, and building the ORM's UPDATE from values at each action cost more
    than running it (1.7 ms of a 3.4 ms write transaction)."""
    t = cast(Table, DisputeCase.__table__)
    return (
        update(t)
        .where(t.c.id == bindparam("case_id"), t.c.version == bindparam("expected"),
               t.c.stage.not_in([s.value for s in CLOSED_STAGES]))
        .values({t.c[k]: bindparam(f"v_{k}", type_=t.c[k].type) for k in sorted(columns)}
                | {t.c.version: bindparam("next_version")})
    )


def now_holds(row: DisputeCase, values: dict[str, object], version: int) -> None:
    """Set on ``row`` what :func:`compare_and_set` just wrote to it, as loaded values (nothing
    pending, nothing to read again). The row has no column the database sets on update."""
    for key, value in values.items():
        set_committed_value(row, key, value)
    set_committed_value(row, "version", version)


def parties_of(session: Session, case: DisputeCase, ifm_orgs: frozenset[int] | None = None) -> CaseParties:
    """The facts the domain's visibility rule needs."""
    consents = set(consenting_parties(session, case.id))
    return CaseParties(
        complainant_org_id=case.complainant_org_id,
        ifm_org_ids=ifm_org_ids(session) if ifm_orgs is None else ifm_orgs,
        lodged=case.lodged_at is not None,
        mediator_ids=frozenset(p.user_id for p in case.participants if p.role == "mediator"),
        panelist_ids=frozenset(p.user_id for p in case.participants if p.role == "panelist"),
        disclosed={"complainant", "ifm"} <= consents,
    )


# a case's file, read by every case page and every action's answer: statements built once
_CASE_ID: BindParameter[int] = bindparam("case_id")
_CONSENTING_PARTIES = select(DisputeDisclosureConsent.party).where(
    DisputeDisclosureConsent.case_id == _CASE_ID).order_by(DisputeDisclosureConsent.id)
_DOCUMENTS = (select(DisputeDocument).where(DisputeDocument.case_id == _CASE_ID).order_by(DisputeDocument.id)
              .options(joinedload(DisputeDocument.attachments)))  # with their files' rows: one statement
_TIMELINE = select(DisputeTimelineEntry).where(DisputeTimelineEntry.case_id == _CASE_ID).order_by(
    DisputeTimelineEntry.id)
_ORGANISATION_NAMES = select(Organisation.id, Organisation.name).where(
    Organisation.id.in_(bindparam("ids", expanding=True)))


def consenting_parties(session: Session, case_id: int) -> tuple[str, ...]:
    """The parties that consented to a case's disclosure (R-DSP-7), in the order they did; read
    once per transaction (see _remembered). Plain values, not rows: an action's answer is made in
    another session from what the action read."""
    return _remembered(session, ("consents", case_id), DisputeDisclosureConsent,
                       lambda: tuple(session.scalars(_CONSENTING_PARTIES, {"case_id": case_id})))


def documents_of(session: Session, case_id: int) -> list[DisputeDocument]:
    return list(session.scalars(_DOCUMENTS, {"case_id": case_id}).unique())


def attachment_of(
    session: Session, case_id: int, attachment_id: int
) -> DisputeAttachment | None:
    return session.scalar(
        select(DisputeAttachment)
        .join(DisputeDocument, DisputeAttachment.document_id == DisputeDocument.id)
        .where(DisputeDocument.case_id == case_id, DisputeAttachment.id == attachment_id)
    )


def timeline_of(session: Session, case_id: int) -> list[DisputeTimelineEntry]:
    return list(session.scalars(_TIMELINE, {"case_id": case_id}))


def remedial_actions_of(session: Session, case_id: int) -> list[DisputeRemedialAction]:
    return list(
        session.scalars(
            select(DisputeRemedialAction)
            .where(DisputeRemedialAction.case_id == case_id)
            .order_by(DisputeRemedialAction.position)
        )
    )


def next_reference(session: Session, year: int) -> str:
    """The next ``D-<year>-NNNN``. On PostgreSQL two lodgings at once would read the same count
    (found by bench/load.py: a duplicate key, a 500), so numbering is serialised by a
    transaction-scoped advisory lock; SQLite's write lock (BEGIN IMMEDIATE) already does it.

    The count reads only the year's references, through an index (it is taken under that lock):
    on PostgreSQL the prefix from ``ix_dispute_case_reference_prefix``, on SQLite as the range
    [``D-<year>-``, ``D-<year>.``) of the unique index (``.`` follows ``-`` in byte order).
    """
    prefix = f"D-{year}-"
    of_year: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _REFERENCE_LOCK})
        # the pattern written into the SQL: with a parameter, PostgreSQL moves to a generic plan
        # (prepared statements), which cannot read a prefix from an index
        of_year = DisputeCase.reference.like(bindparam("pattern", f"{prefix}%", literal_execute=True))
    else:
        of_year = and_(DisputeCase.reference >= prefix, DisputeCase.reference < f"D-{year}.")
    count = session.scalar(select(func.count()).select_from(DisputeCase).where(of_year))
    return f"{prefix}{(count or 0) + 1:04d}"


_REFERENCE_LOCK = 0xD15_7E7E


def findings(session: Session) -> list[DisputeCase]:
    """Cases with an IAP finding: always published (R-DSP-6). Callers show no confidential file."""
    return list(
        session.scalars(
            select(DisputeCase)
            .where(DisputeCase.finding_at.is_not(None))
            .order_by(DisputeCase.finding_at.desc())
        )
    )


def organisation_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(_ORGANISATION_NAMES, {"ids": list(ids)})
    return {int(r[0]): str(r[1]) for r in rows}


def users_with_roles(session: Session, roles: Sequence[str]) -> list[User]:
    """Active users holding any of ``roles`` (candidates for notifications)."""
    return list(
        session.scalars(
            select(User)
            .where(User.active, exists().where(UserRole.user_id == User.id, UserRole.role.in_(roles)))
            .order_by(User.id)
        )
    )


@dataclass(frozen=True)
class Addressee:
    """Who a notification may go to: enough of an active user to decide and to address it."""

    id: int
    email: str
    name: str
    organisation_id: int | None
    roles: frozenset[str]


# built once: read by every notification (the roles are an expanding parameter)
_ADDRESSEES = (
    select(User.id, User.email, User.name, User.organisation_id, UserRole.role)
    .join(UserRole, UserRole.user_id == User.id)
    .where(User.active, User.id.in_(
        select(UserRole.user_id).where(UserRole.role.in_(bindparam("roles", expanding=True)))))
    .order_by(User.id)
)


def addressees_with_roles(session: Session, roles: Sequence[str]) -> list[Addressee]:
    """Active users holding any of ``roles``, with all their roles, in one statement."""
    rows = session.execute(_ADDRESSEES, {"roles": list(roles)})
    found: dict[int, tuple[str, str, int | None, set[str]]] = {}
    for uid, email, name, org, role in rows:
        found.setdefault(uid, (email, name, org, set()))[3].add(role)
    return [Addressee(uid, email, name, org, frozenset(r)) for uid, (email, name, org, r) in found.items()]


def users_by_ids(session: Session, ids: Sequence[int]) -> list[User]:
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def due_cases(session: Session) -> list[DisputeCase]:
    """Open cases with a running deadline (the worker decides which notices are due)."""
    return list(
        session.scalars(
            select(DisputeCase)
            .where(
                DisputeCase.next_due_at.is_not(None),
                DisputeCase.stage.in_([s.value for s in OPEN_STAGES]),
            )
            .order_by(DisputeCase.next_due_at)
        )
    )


def open_cases_with_deadlines(session: Session) -> list[DisputeCase]:
    return list(
        session.scalars(
            select(DisputeCase).where(
                DisputeCase.stage.in_(
                    [Stage.NEGOTIATION.value, Stage.RESPONSE_REQUESTED.value]
                )
            )
        )
    )


def sealed_events(session: Session, case_id: int) -> list[AuditEvent]:
    """A case's audit events that the archive logged sealed (every one not public), in order."""
    return list(session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "dispute", AuditEvent.subject_id == str(case_id),
               AuditEvent.public.is_(False))
        .order_by(AuditEvent.id)
    ))


def organisations_of_users(session: Session, user_ids: set[int]) -> dict[int, int | None]:
    """Each user's organisation, by user id."""
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.organisation_id).where(User.id.in_(sorted(user_ids))))
    return {int(uid): org for uid, org in rows}
