"""The bounded contexts of Steward, in dependency order.

Each entry is a package ``steward.<name>`` that may provide any of:
``api.router`` (JSON routes), ``views.router`` (HTML routes) and ``views.NAV`` (navigation items),
``cli.app`` (a Typer sub-app, named ``cli.NAME`` or the context name) and ``cli.COMMANDS``
(top-level commands), ``demo.load_demo(session, ctx)`` (demo data).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

CONTEXTS: list[str] = [
    "accounts",
    "registry",
    "sla",
    "pages",
    "governance",
    "audits",
    "reviews",
    "changes",
    "disputes",
    "systemic",
    "ballots",
    "archive",
    "portal",
]


@dataclass(frozen=True)
class PeriodicTask:
    """A job the worker runs every ``every_seconds``; exactly one worker runs each due run.

    ``target`` is ``"module:function"``; the function takes ``(session, now)``, returns a short
    summary string, and must be idempotent.
    """

    name: str
    target: str
    every_seconds: int


PERIODIC_TASKS: list[PeriodicTask] = [
    PeriodicTask("sessions-purge", "steward.accounts.service:purge_expired_sessions", 3600),
    PeriodicTask("governance-terms-ending", "steward.governance.service:remind_terms_ending", 86400),
    PeriodicTask("audits-next-due", "steward.audits.service:remind_next_audit", 86400),
    PeriodicTask("reviews-next-due", "steward.reviews.service:remind_next_review", 86400),
    PeriodicTask("changes-periodic", "steward.changes.service:periodic", 300),
    PeriodicTask("disputes-deadlines", "steward.disputes.service:run_deadlines", 900),
    PeriodicTask("systemic-detect", "steward.systemic.service:detect", 3600),
    PeriodicTask("systemic-overdue", "steward.systemic.service:remind_due", 86400),
    PeriodicTask("ballots-close", "steward.ballots.service:close_due", 60),
    PeriodicTask("ballots-remind", "steward.ballots.service:remind_closing", 3600),
    # last, so that a run's checkpoint covers what the tasks above recorded
    PeriodicTask("archive-checkpoint", "steward.archive.service:checkpoint_task", 600),
]


def context_module(context: str, module: str) -> ModuleType | None:
    name = f"steward.{context}.{module}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


@functools.cache
def modules(module: str) -> list[tuple[str, ModuleType]]:
    """Every context's ``module`` (``api``, ``views``, ``models``…), in CONTEXTS order; looked up
    once per process (pages ask for the navigation on every request)."""
    found = []
    for context in CONTEXTS:
        mod = context_module(context, module)
        if mod is not None:
            found.append((context, mod))
    return found


def load_models() -> None:
    """Import every context's ORM models so that ``Base.metadata`` is complete."""
    import steward.events
    import steward.outbox
    import steward.worker  # noqa: F401

    modules("models")


# Checks ``steward archive verify`` runs besides the log's own: each ``"module:function"`` takes
# ``(session, events)`` (every audit event by id) and returns the problems it names, for records
# a context keeps in its own tables and commits to through its audit events (R-DSP-9).
ARCHIVE_CHECKS: list[str] = [
    "steward.disputes.archiving:verify_archived",
]
