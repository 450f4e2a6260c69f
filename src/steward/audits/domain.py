"""Pure rules of the periodic independent audit (DUG function 3).

* R-AUD-1 — every 3 years the DUG commissions an independent organisation with relevant
  technical expertise; its independence from the IFM is declared and recorded.
* R-AUD-2 — the DUG publishes the results and seeks community feedback, then examines
  and, if necessary, refines the agreed service levels (a new catalogue version that
  cites the audit). The results inform the IPRT.

No I/O here: callers pass ``today`` and plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from steward.reviews.domain import Cycle, periodic_schedule


class AuditError(ValueError):
    """A rule was broken; ``field`` names the input at fault and ``rule`` the rule id."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule


def audit_schedule(
    anchor: date,
    today: date,
    started: Mapping[int, tuple[int, bool]] | None = None,
    every_years: int = 3,
) -> list[Cycle]:
    """Audit cycles (R-AUD-1): every ``every_years`` years from ``anchor`` (the transition)."""
    return periodic_schedule(anchor, every_years, every_years, today, started)


class Stage(StrEnum):
    """Stages of an audit."""

    commissioned = "commissioned"
    report_submitted = "report_submitted"
    published = "published"
    examined = "examined"


STAGE_LABELS: dict[Stage, str] = {
    Stage.commissioned: "Commissioned",
    Stage.report_submitted: "Report submitted",
    Stage.published: "Published: community feedback",
    Stage.examined: "Examined by the DUG",
}


@dataclass(frozen=True)
class Declaration:
    """The audit firm's declaration of independence from the IFM (R-AUD-1)."""

    statement: str
    affiliated_organisation_ids: frozenset[int] = frozenset()


def check_independence(
    firm_id: int,
    firm_kind: str,
    declaration: Declaration,
    ifm_organisation_ids: Collection[int],
    affiliated_with_ifm: bool = False,
) -> None:
    """Refuse a firm that is not an audit firm, has no declaration, or is tied to the IFM.

    ``affiliated_with_ifm`` is the firm's own answer to the declaration's question; any
    declared affiliation with an IFM organisation, or being the IFM, refuses it too.
    """
    if firm_kind != "audit_firm":
        raise AuditError(
            "Only an organisation of kind audit firm can be commissioned (R-AUD-1).",
            field="firm",
            rule="R-AUD-1",
        )
    if not declaration.statement.strip():
        raise AuditError(
            "The firm's declaration of independence from the IFM is required (R-AUD-1).",
            field="declaration",
            rule="R-AUD-1",
        )
    ifm = set(ifm_organisation_ids)
    if affiliated_with_ifm or firm_id in ifm or declaration.affiliated_organisation_ids & ifm:
        raise AuditError(
            "The firm is affiliated with the IFM and so is not independent (R-AUD-1).",
            field="firm",
            rule="R-AUD-1",
        )


@dataclass(frozen=True)
class AuditFacts:
    """What the stage guards need to know about an audit."""

    stage: Stage
    report: str = ""
    findings: int = 0
    feedback_closes: date | None = None


def check_submit_report(facts: AuditFacts, report: str, findings: int) -> None:
    """The auditor submits once, while commissioned, with a report and at least one finding."""
    if facts.stage is not Stage.commissioned:
        raise AuditError("The report has already been submitted.", field="stage")
    if not report.strip():
        raise AuditError("The report text is required.", field="report")
    if findings < 1:
        raise AuditError("Record at least one finding with the report.", field="findings")


def check_publish(facts: AuditFacts, feedback_closes: date, today: date) -> None:
    """The DUG publishes a submitted report and opens a feedback period (R-AUD-2)."""
    if facts.stage is not Stage.report_submitted:
        raise AuditError("Only a submitted report can be published.", field="stage")
    if feedback_closes < today:
        raise AuditError(
            "The feedback period must close on or after today.", field="feedback_closes"
        )


def feedback_open(facts: AuditFacts, today: date) -> bool:
    """Community feedback is taken once published, up to the closing day inclusive."""
    return (
        facts.stage is Stage.published
        and facts.feedback_closes is not None
        and today <= facts.feedback_closes
    )


def check_examine(facts: AuditFacts, examination: str, today: date) -> None:
    """The DUG examines after the feedback period has closed (R-AUD-2)."""
    if facts.stage is not Stage.published:
        raise AuditError("Only a published audit can be examined.", field="stage")
    if facts.feedback_closes is not None and today <= facts.feedback_closes:
        raise AuditError(
            f"Community feedback is open until {facts.feedback_closes.isoformat()} (R-AUD-2).",
            field="feedback_closes",
            rule="R-AUD-2",
        )
    if not examination.strip():
        raise AuditError("Record the DUG's examination.", field="examination")
