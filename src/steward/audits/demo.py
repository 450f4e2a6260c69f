"""Demo audits: cycles 1 and 2 examined (one refining the service levels), cycle 3 reported."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.audits import service
from steward.audits.service import FindingInput
from steward.governance.demo import pass_motion
from steward.governance.domain import MotionKind

DECLARATION = (
    "Northbridge Assurance declares that it has no ownership, contractual, financial or staff "
    "ties to the IANA Functions Manager or its parent, and has not advised either in the last "
    "three years."
)


def _audit(
    session: Session,
    ctx: Any,
    cycle: int,
    commissioned: date,
    findings: list[FindingInput],
    published: date | None = None,
    closes: date | None = None,
    examined: date | None = None,
    refine: bool = False,
) -> None:
    chair: Principal = ctx.extra["dug_chair"]
    auditor = Principal.of(ctx.users["auditor@audit.example"])
    firm = ctx.orgs["Northbridge Assurance (demo audit firm)"]
    pass_motion(
        session,
        ctx,
        MotionKind.commission_audit,
        f"Commission independent audit {cycle}",
        "Commission Northbridge Assurance for the periodic audit (R-AUD-1).",
        "audit_cycle",
        cycle,
        commissioned,
    )
    audit = service.commission(
        session,
        chair,
        firm_id=firm.id,
        declaration=DECLARATION,
        scope="Performance against the agreed service levels since the last audit.",
        today=commissioned,
    )
    service.submit_report(
        session,
        auditor,
        audit.id,
        f"Independent audit {cycle} of the IFM's performance of the naming functions.",
        findings,
        today=published - timedelta(days=21) if published else commissioned,
    )
    if published is None or closes is None:
        return
    pass_motion(
        session,
        ctx,
        MotionKind.publish_findings,
        f"Publish the results of audit {cycle}",
        "Publish and seek community feedback (R-AUD-2).",
        "audit",
        audit.id,
        published,
    )
    service.publish(session, chair, audit.id, closes, today=published)
    service.add_feedback(
        session,
        Principal.anonymous(),
        audit.id,
        "A ccTLD manager",
        "The delays in NS changes match our experience.",
        today=published,
    )
    if examined is None:
        return
    if refine:
        pass_motion(
            session,
            ctx,
            MotionKind.refine_service_levels,
            f"Refine the service levels after audit {cycle}",
            "Tighten the implementation threshold as the audit recommends.",
            "audit",
            audit.id,
            examined,
        )
    toml = ""
    if refine:
        # the audit found implementation slow: the refined version measures it against 60 hours
        template = service.catalogue_template(session, audit, examined)
        head, sep, tail = template.partition('end = "published"')
        toml = head + sep + tail.replace('threshold = "3d"', 'threshold = "60h"', 1)
    service.examine(
        session,
        chair,
        audit.id,
        "The DUG examined the findings and the community feedback."
        + (
            " The implementation threshold is refined to 60 hours."
            if refine
            else " No change is needed."
        ),
        refine=refine,
        today=examined,
        catalogue_toml=toml,
    )


def load_demo(session: Session, ctx: Any) -> None:
    _audit(
        session,
        ctx,
        1,
        date(2019, 6, 3),
        [
            FindingInput(
                "Implementation times", "p95 of released→published was 80 h against 72 h.", "major"
            ),
            FindingInput("Reporting", "Monthly reports were published on time.", "observation"),
        ],
        published=date(2019, 11, 4),
        closes=date(2019, 12, 16),
        examined=date(2020, 1, 20),
        refine=True,
    )
    _audit(
        session,
        ctx,
        2,
        date(2022, 5, 2),
        [
            FindingInput(
                "All thresholds met", "62 of 65 thresholds met in the worst month.", "observation"
            )
        ],
        published=date(2022, 11, 7),
        closes=date(2022, 12, 19),
        examined=date(2023, 1, 16),
    )
    _audit(
        session,
        ctx,
        3,
        service.today_utc(),
        [FindingInput("Contact confirmation", "Occasional delays over 60 s.", "minor")],
    )
