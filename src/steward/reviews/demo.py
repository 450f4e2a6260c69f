"""Demo IPRT reviews: review 1 closed (with a referred finding and a completed direction),
review 2 convened with an incomplete team."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.reviews import service

CUSTOMERS = [
    "DENIC eG",
    "SIDN (Stichting Internet Domeinregistratie Nederland)",
    "Nominet UK",
    "InternetNZ",
    "VeriSign Global Registry Services",
    "Public Interest Registry (PIR)",
    "Identity Digital Limited",
    "dotBERLIN GmbH & Co. KG",
]
BODIES = [
    ("gac", "Governmental Advisory Committee"),
    ("alac", "At-Large Advisory Committee"),
    ("ssac", "Security and Stability Advisory Committee"),
    ("rssac", "Root Server System Advisory Committee"),
    ("ietf", "Internet Engineering Task Force"),
]


def _team(
    session: Session, ctx: Any, actor: Principal, review_id: int, on: date, customers: int
) -> None:
    for i, name in enumerate(CUSTOMERS[:customers]):
        service.appoint(
            session,
            actor,
            review_id,
            name=f"Customer reviewer {i + 1}",
            constituency="registry_customer",
            organisation_id=ctx.orgs[name].id,
            today=on,
        )
    for constituency, name in BODIES:
        service.appoint(
            session,
            actor,
            review_id,
            name=f"{constituency.upper()} appointee",
            constituency=constituency,
            organisation_id=ctx.orgs[name].id,
            today=on,
        )
    service.appoint(
        session, actor, review_id, name="Independent counsel", constituency="other", today=on
    )


def load_demo(session: Session, ctx: Any) -> None:
    actor = Principal.of(ctx.users["iprt@iprt.example"])
    ifm = Principal.of(ctx.users["ifm@pti.example"])
    convened = date(2019, 12, 2)
    review = service.convene(session, actor, today=convened)
    _team(session, ctx, actor, review.id, convened, 8)
    service.advance(session, actor, review.id, "terms_of_reference", today=convened)
    service.record_text(
        session,
        actor,
        review.id,
        "terms_of_reference",
        "Whether due process was followed in the IFM's handling of escalations and "
        "whether community policy guidance was adhered to, October 2016 – 2019.",
    )
    service.advance(session, actor, review.id, "evidence_gathering", today=date(2020, 1, 6))
    service.add_finding(
        session,
        actor,
        review.id,
        "due_process",
        "Two escalations were closed without a recorded reason.",
    )
    service.add_finding(
        session,
        actor,
        review.id,
        "operational_service_levels",
        "Implementation times exceeded 72 hours in several months.",
    )
    service.record_text(
        session,
        actor,
        review.id,
        "draft_report",
        "The IFM followed due process in most escalations; see the findings.",
    )
    service.advance(
        session,
        actor,
        review.id,
        "draft_report",
        comment_closes=date(2020, 4, 30),
        today=date(2020, 3, 16),
    )
    service.add_public_comment(
        session,
        Principal.anonymous(),
        review.id,
        "An ALAC member",
        "Please publish the escalation log.",
        today=date(2020, 4, 2),
    )
    direction = service.add_direction(
        session,
        actor,
        review.id,
        "ifm",
        "Record a reason whenever an escalation is closed.",
        date(2020, 12, 31),
    )
    service.record_text(
        session,
        actor,
        review.id,
        "final_report",
        "Final report: due process largely followed; one remedial direction to the IFM.",
    )
    service.advance(session, actor, review.id, "final_report", today=date(2020, 5, 11))
    service.complete_direction(
        session,
        ifm,
        direction.id,
        "Closure reasons are now mandatory in the escalation tool.",
        today=date(2020, 9, 1),
    )
    service.advance(session, actor, review.id, "closed", today=date(2020, 9, 7))

    second = service.convene(session, actor, today=date(2023, 10, 16))
    _team(session, ctx, actor, second.id, date(2023, 10, 16), 5)
