"""Technical changes: the pure rules (R-TCH-1, R-TCH-2).

The IFM drafts an implementation plan for a technical or operational change,
publishes it for public comment (the RFC process), answers every comment in a
statement, and — for operational/technical changes only — obtains the DUG's
agreement on behalf of the operators before implementing it. Policy-driven
changes are outside the DUG's scope: they are recorded and published, and skip
the agreement step (R-TCH-1).

Nothing here touches a database or the clock: ``now`` is always passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# ---------------------------------------------------------------------------
# Classifications
# ---------------------------------------------------------------------------


class Origin(StrEnum):
    """Where a change comes from; decides whether the DUG must agree (R-TCH-1)."""

    POLICY = "policy"
    OPERATIONAL = "operational"

    @property
    def label(self) -> str:
        """Human wording used on pages and in the CLI."""
        return _ORIGIN_LABELS[self]

    @property
    def needs_dug_agreement(self) -> bool:
        """Only operational/technical changes go to the DUG (R-TCH-1)."""
        return self is Origin.OPERATIONAL


_ORIGIN_LABELS = {
    Origin.POLICY: "Policy-driven (outside the DUG's scope)",
    Origin.OPERATIONAL: "Operational / technical (DUG agreement required)",
}


class Significance(StrEnum):
    """How far a change reaches; significant and major changes need an RFC (R-TCH-2)."""

    MINOR = "minor"
    SIGNIFICANT = "significant"
    MAJOR = "major"


class PlanState(StrEnum):
    """Lifecycle of an implementation plan."""

    DRAFT = "draft"
    OPEN_FOR_COMMENT = "open_for_comment"
    COMMENTS_CLOSED = "comments_closed"
    STATEMENT_ISSUED = "statement_issued"
    AGREED = "agreed"
    IMPLEMENTED = "implemented"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """Human wording used on pages and in the CLI."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    PlanState.DRAFT: "Draft",
    PlanState.OPEN_FOR_COMMENT: "Open for comment",
    PlanState.COMMENTS_CLOSED: "Comment period closed",
    PlanState.STATEMENT_ISSUED: "Statement issued",
    PlanState.AGREED: "Agreed by the DUG",
    PlanState.IMPLEMENTED: "Implemented",
    PlanState.WITHDRAWN: "Withdrawn",
}


class Action(StrEnum):
    """Things that can happen to a plan."""

    REVISE = "revise"
    PUBLISH = "publish"
    CLOSE_COMMENTS = "close_comments"
    ISSUE_STATEMENT = "issue_statement"
    RECORD_AGREEMENT = "record_agreement"
    MARK_IMPLEMENTED = "mark_implemented"
    WITHDRAW = "withdraw"


class Disposition(StrEnum):
    """How the IFM's statement disposes of one comment (R-TCH-2)."""

    ACCEPTED = "accepted"
    PARTLY_ACCEPTED = "partly_accepted"
    NOT_ACCEPTED = "not_accepted"
    OUT_OF_SCOPE = "out_of_scope"

    @property
    def label(self) -> str:
        """Human wording used in the statement's disposition table."""
        return _DISPOSITION_LABELS[self]


_DISPOSITION_LABELS = {
    Disposition.ACCEPTED: "Accepted",
    Disposition.PARTLY_ACCEPTED: "Partly accepted",
    Disposition.NOT_ACCEPTED: "Not accepted",
    Disposition.OUT_OF_SCOPE: "Out of scope",
}


class CommentStatus(StrEnum):
    """A public commenter's comment waits for the email address to be confirmed."""

    PENDING_CONFIRMATION = "pending_confirmation"
    PUBLISHED = "published"


class TransitionRefused(Exception):
    """An action is not allowed in the plan's current state, or its guard failed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ValueError):
    """Input that breaks a rule; names the field and, for multi-line input, the line."""

    def __init__(self, message: str, *, field: str, line: int | None = None) -> None:
        where = f"{field}, line {line}" if line is not None else field
        super().__init__(f"{where}: {message}")
        self.message = message
        self.field = field
        self.line = line


# ---------------------------------------------------------------------------
# Lifecycle: an explicit transition table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One row of the lifecycle table.

    ``permission`` is the ``resource:action`` string the actor needs; the
    service maps it onto ``steward.authz.Permission``.
    """

    action: Action
    source: PlanState
    target: PlanState
    permission: str


_WITHDRAWABLE = (
    PlanState.DRAFT,
    PlanState.OPEN_FOR_COMMENT,
    PlanState.COMMENTS_CLOSED,
    PlanState.STATEMENT_ISSUED,
    PlanState.AGREED,
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.REVISE, PlanState.DRAFT, PlanState.DRAFT, "change:draft"),
    # After the comments the IFM may revise the plan; the revision is published with
    # the statement, so the public sees what changed because of the comments.
    Transition(Action.REVISE, PlanState.COMMENTS_CLOSED, PlanState.COMMENTS_CLOSED, "change:draft"),
    Transition(Action.PUBLISH, PlanState.DRAFT, PlanState.OPEN_FOR_COMMENT, "change:publish"),
    Transition(
        Action.CLOSE_COMMENTS,
        PlanState.OPEN_FOR_COMMENT,
        PlanState.COMMENTS_CLOSED,
        "change:publish",
    ),
    Transition(
        Action.ISSUE_STATEMENT,
        PlanState.COMMENTS_CLOSED,
        PlanState.STATEMENT_ISSUED,
        "change:publish",
    ),
    Transition(
        Action.RECORD_AGREEMENT, PlanState.STATEMENT_ISSUED, PlanState.AGREED, "change:agree"
    ),
    Transition(Action.MARK_IMPLEMENTED, PlanState.AGREED, PlanState.IMPLEMENTED, "change:publish"),
    Transition(
        Action.MARK_IMPLEMENTED,
        PlanState.STATEMENT_ISSUED,
        PlanState.IMPLEMENTED,
        "change:publish",
    ),
    *(
        Transition(Action.WITHDRAW, state, PlanState.WITHDRAWN, "change:publish")
        for state in _WITHDRAWABLE
    ),
)


def find_transition(state: PlanState, action: Action) -> Transition:
    """Return the table row for ``action`` from ``state`` or refuse with the reason."""
    for row in TRANSITIONS:
        if row.source is state and row.action is action:
            return row
    raise TransitionRefused(
        f"cannot {action.value.replace('_', ' ')} a plan that is {state.label.lower()}"
    )


@dataclass(frozen=True)
class PlanFacts:
    """What the guards need to know about a plan at the moment of an action."""

    state: PlanState
    origin: Origin
    comment_closes_at: datetime | None = None
    unanswered_comments: tuple[int, ...] = ()
    pending_comments: int = 0


def next_state(facts: PlanFacts, action: Action, *, now: datetime) -> PlanState:
    """Apply ``action`` to a plan; return the new state or raise :class:`TransitionRefused`.

    Guards:
    - closing the comment period only once it has run its course (R-TCH-2);
    - the statement only when every comment has a disposition and a response (R-TCH-2);
    - the DUG's agreement only for operational/technical changes (R-TCH-1);
    - an operational/technical change is implemented only after the DUG agreed (R-TCH-1);
      a policy-driven one straight after the statement.
    """
    row = find_transition(facts.state, action)
    if action is Action.CLOSE_COMMENTS:
        if facts.comment_closes_at is None or now < facts.comment_closes_at:
            raise TransitionRefused("the comment period has not ended yet")
    elif action is Action.ISSUE_STATEMENT:
        check_statement_ready(facts.unanswered_comments)
    elif action is Action.RECORD_AGREEMENT:
        if not facts.origin.needs_dug_agreement:
            raise TransitionRefused(
                "a policy-driven change is outside the DUG's scope: there is no DUG "
                "agreement step (R-TCH-1)"
            )
    elif (
        action is Action.MARK_IMPLEMENTED
        and facts.state is PlanState.STATEMENT_ISSUED
        and facts.origin.needs_dug_agreement
    ):
        raise TransitionRefused(
            "an operational/technical change needs the DUG's agreement before it is "
            "implemented (R-TCH-1)"
        )
    return row.target


def check_revision(state: PlanState, published_origin: Origin | None, proposed: Origin) -> None:
    """Refuse a revision the state does not allow, or one that reclassifies a published plan.

    The publication told the community whether the DUG's agreement is required
    (R-TCH-1); a later revision may change the plan, never its origin, or an
    operational change could be turned into a policy one and skip the DUG.
    """
    find_transition(state, Action.REVISE)
    if published_origin is not None and proposed is not published_origin:
        raise TransitionRefused(
            f"cannot change once the plan has been published: it was published as "
            f"“{published_origin.label}” (R-TCH-1); withdraw it and draft a new "
            "plan to reclassify the change",
            field="origin",
        )


def available_actions(facts: PlanFacts, *, now: datetime) -> list[Action]:
    """The actions whose guards pass right now, in table order, each listed once."""
    found: list[Action] = []
    for row in TRANSITIONS:
        if row.source is not facts.state or row.action in found:
            continue
        try:
            next_state(facts, row.action, now=now)
        except TransitionRefused:
            continue
        found.append(row.action)
    return found


def effective_state(
    state: PlanState, comment_closes_at: datetime | None, now: datetime
) -> PlanState:
    """The state a reader should see: an open period past its end reads as closed.

    The worker closes periods in the database; until it has run, pages and the
    comment form must already behave as if it had.
    """
    if (
        state is PlanState.OPEN_FOR_COMMENT
        and comment_closes_at is not None
        and now >= comment_closes_at
    ):
        return PlanState.COMMENTS_CLOSED
    return state


def plan_visible(was_published: bool, origin: Origin, *, is_ifm: bool, is_dug: bool) -> bool:
    """Who may see a plan.

    A plan that has been published for comment is public for good, whatever
    happens to it next (R-TCH-2). One never published (a draft, or a draft
    withdrawn before publication) is internal to the IFM, except that the DUG
    liaises with the IFM on operational/technical plans (R-TCH-1).
    """
    if was_published or is_ifm:
        return True
    return is_dug and origin is Origin.OPERATIONAL


# ---------------------------------------------------------------------------
# The comment period (R-TCH-2)
# ---------------------------------------------------------------------------

MIN_PERIOD_DAYS = 1
MAX_PERIOD_DAYS = 365


@dataclass(frozen=True)
class CommentPeriod:
    """The half-open interval ``[opens_at, closes_at)`` in which comments are accepted."""

    opens_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        """True while comments are accepted."""
        return self.opens_at <= now < self.closes_at

    def remaining(self, now: datetime) -> timedelta:
        """Time left to comment (zero once closed)."""
        return max(self.closes_at - now, timedelta(0))


def comment_period(opens_at: datetime, days: int) -> CommentPeriod:
    """The period that starts at publication and lasts ``days`` calendar days, UTC.

    ``days`` defaults to the setting ``change_comment_days`` (30) in the service;
    the IFM may choose a longer (or, within reason, shorter) period.
    """
    if opens_at.tzinfo is None:
        raise InvalidInput("must be timezone-aware", field="opens_at")
    if not MIN_PERIOD_DAYS <= days <= MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"must be between {MIN_PERIOD_DAYS} and {MAX_PERIOD_DAYS} days",
            field="comment_days",
        )
    return CommentPeriod(opens_at=opens_at, closes_at=opens_at + timedelta(days=days))


def check_accepts_comments(state: PlanState, period: CommentPeriod | None, now: datetime) -> None:
    """Refuse a comment unless the plan is open for comment and the period is running."""
    if state is not PlanState.OPEN_FOR_COMMENT or period is None:
        raise TransitionRefused("this plan is not open for comment", field="body")
    if now < period.opens_at:
        raise TransitionRefused("the comment period has not started", field="body")
    if not period.is_open(now):
        raise TransitionRefused(
            f"the comment period closed at {period.closes_at:%Y-%m-%d %H:%M} UTC", field="body"
        )


def check_can_confirm(
    state: PlanState,
    period: CommentPeriod | None,
    token_expires_at: datetime,
    now: datetime,
) -> None:
    """A public comment counts once its address is confirmed, inside the period.

    Confirming after the period closed would add a comment the statement never
    saw coming, so the rule is: confirm before the period closes and before the
    link expires.
    """
    if now >= token_expires_at:
        raise TransitionRefused("this confirmation link has expired", field="token")
    check_accepts_comments(state, period, now)


# ---------------------------------------------------------------------------
# Comment validation (abuse controls)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentLimits:
    """Size limits on a comment; the service fills them from settings."""

    max_body_chars: int = 10_000
    max_name_chars: int = 120
    max_links: int = 10
    max_response_chars: int = 10_000


_URL_RE = re.compile(r"https?://", re.IGNORECASE)
# Control characters other than tab, newline and carriage return have no place
# in a comment and are a favourite of people trying to break renderers.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def clean_text(value: str, *, field: str, max_chars: int, required: bool = True) -> str:
    """Normalise (NFC, newlines, trimmed) and check free text: size, emptiness, control chars."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise InvalidInput("must not be empty", field=field)
    if len(text) > max_chars:
        raise InvalidInput(f"is {len(text)} characters long; the limit is {max_chars}", field=field)
    for index, char in enumerate(text):
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            line = text.count("\n", 0, index) + 1
            raise InvalidInput(
                f"contains a control character (U+{ord(char):04X})", field=field, line=line
            )
    return text


@dataclass(frozen=True)
class CommentDraft:
    """A validated comment, ready to be stored."""

    body: str
    section: str | None
    author_name: str | None


def validate_comment(
    body: str,
    *,
    section: str | None,
    known_sections: Iterable[str],
    author_name: str | None,
    limits: CommentLimits,
) -> CommentDraft:
    """Check a comment's text, the section it points to and (for the public) the name.

    The text is stored as typed; it is escaped wherever it is shown, never
    sanitised into HTML.
    """
    text = clean_text(body, field="body", max_chars=limits.max_body_chars)
    links = len(_URL_RE.findall(text))
    if links > limits.max_links:
        raise InvalidInput(
            f"contains {links} links; at most {limits.max_links} are allowed", field="body"
        )
    chosen: str | None = (section or "").strip() or None
    if chosen is not None and chosen not in set(known_sections):
        raise InvalidInput("is not a section of this plan", field="section")
    name: str | None = None
    if author_name is not None:
        name = clean_text(author_name, field="name", max_chars=limits.max_name_chars)
        if "\n" in name:
            raise InvalidInput("must be on one line", field="name")
    return CommentDraft(body=text, section=chosen, author_name=name)


def validate_response(
    disposition: str, response: str, *, limits: CommentLimits
) -> tuple[Disposition, str]:
    """Check one row of the statement's disposition table."""
    try:
        chosen = Disposition(disposition)
    except ValueError:
        allowed = ", ".join(d.value for d in Disposition)
        raise InvalidInput(f"must be one of: {allowed}", field="disposition") from None
    text = clean_text(response, field="response", max_chars=limits.max_response_chars)
    return chosen, text


# ---------------------------------------------------------------------------
# The IFM's statement (R-TCH-2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentAnswer:
    """The part of a comment the statement cares about."""

    number: int
    disposition: Disposition | None
    response: str | None

    @property
    def answered(self) -> bool:
        """Answered means a disposition and a non-blank response."""
        return self.disposition is not None and bool((self.response or "").strip())


def unanswered(comments: Iterable[CommentAnswer]) -> tuple[int, ...]:
    """Numbers of the published comments that still lack a disposition or a response."""
    return tuple(sorted(c.number for c in comments if not c.answered))


def check_statement_ready(unanswered_numbers: Sequence[int]) -> None:
    """Refuse the statement while any comment is unanswered (R-TCH-2)."""
    if unanswered_numbers:
        listed = ", ".join(f"#{n}" for n in unanswered_numbers[:20])
        more = "" if len(unanswered_numbers) <= 20 else f" and {len(unanswered_numbers) - 20} more"
        raise TransitionRefused(
            f"every comment must have a disposition and a response before the statement is "
            f"issued (R-TCH-2); unanswered: {listed}{more}",
            field="statement",
        )


def disposition_summary(dispositions: Iterable[Disposition]) -> dict[Disposition, int]:
    """Count of comments per disposition, every disposition present, in table order."""
    counts = dict.fromkeys(Disposition, 0)
    for item in dispositions:
        counts[item] += 1
    return counts


def comment_excerpt(body: str, limit: int = 280) -> str:
    """A one-paragraph excerpt for the disposition table, cut at a word boundary."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + " …"
