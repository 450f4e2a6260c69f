"""Demo data for service levels: a year of simulated IFM events, eleven published reports (misses
explained), DUG comments and reviews; the latest month is left for the IFM to publish. (The
audits demo adds a catalogue version that cites its audit.)"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Role
from steward.db import utcnow
from steward.sla import domain, repository, service
from steward.sla.simulate import format_row, simulate

EXPLANATIONS = {
    "ticketing": "The ticketing system was degraded for part of the month; confirmations queued.",
    "cat1-tech-check": "A technical-check worker pool was misconfigured after an upgrade; fixed the same week.",
    "cat1-publication": "A root zone publication window was postponed for a signing-key maintenance.",
    "cat1-notification": "The notification service lost its mail relay for a day; notices were re-sent.",
}


def load_demo(session: Session, ctx: Any) -> None:
    now = utcnow()
    ifm = Principal.of(ctx.user(Role.IFM_STAFF))
    chair = Principal.of(ctx.user(Role.DUG_CHAIR))
    member = Principal.of(ctx.user(Role.DUG_MEMBER))
    tlds = sorted(repository.known_tlds(session)) or ["com"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["request_id", "tld", "category", "channel", "event", "occurred_at"])
    for row in simulate(12, 2026, now=now, tlds=tlds):
        writer.writerow(format_row(row))
    service.ingest_file(session, ifm, out.getvalue(), source="demo-year.csv", now=now, fmt="csv")

    last = domain.Month.of(now).plus(-1)
    months = domain.month_range(
        last.plus(-11), last.plus(-1)
    )  # the latest month is left to publish
    reports = service.compute(session, months[0], months[-1], now=now)
    for report in reports:
        explanations = {
            m.metric.id: EXPLANATIONS.get(m.metric.id, EXPLANATIONS["ticketing"])
            for m in report.misses
        }
        service.publish(session, ifm, report.month, now=now, explanations=explanations)
    for report in reports[:-1]:
        misses = [m.metric.id for m in report.misses]
        service.add_comment(
            session,
            member,
            report.month,
            "Misses are explained; the trend is stable." if misses else "All met.",
        )
        service.record_review(
            session,
            chair,
            report.month,
            overall="concerns" if misses else "satisfactory",
            findings=[(m, "concern", "Explained by the IFM; watch next month.") for m in misses],
            summary=f"{report.summary.text}." + (" The IFM explained each miss." if misses else ""),
            advice=""
            if misses
            else "Keep the monthly format; add the number of retests per request.",
        )
    service.add_comment(
        session,
        member,
        reports[-1].month,
        "Could the IFM show the emergency changes separately next time?",
    )
