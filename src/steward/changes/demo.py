"""Demo data for technical changes: plans at several stages of R-TCH-1 / R-TCH-2."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Role
from steward.changes import service
from steward.db import utcnow

ALGORITHM = (
    "The IFM proposes to roll the root zone's DNSSEC signing algorithm from RSA/SHA-256 (algorithm 8) to ECDSA P-256 with SHA-256 (algorithm 13), as the root KSK rollover of 2018 did for the key itself. This is an operational and technical change that is not the result of a policy process: the DUG agrees the plan on behalf of the TLD registry operators.\n"
    '\n'
    '## Scope\n'
    "The root zone's ZSK and KSK. TLD operators' own keys are not affected, but operators that validate the root (resolvers they run) must support algorithm 13.\n"
    '\n'
    '## Phases\n'
    "1. Publish the new algorithm's keys alongside the old ones (double signature).\n"
    '2. Sign with both algorithms for one full KSK period.\n'
    '3. Withdraw algorithm 8.\n'
    '\n'
    '## Fallback\n'
    'At any phase the IFM can return to the previous one within 24 hours.\n'
    '\n'
    '## Communication\n'
    "Each phase is announced 90 days ahead on the IFM's lists and in this system.\n"
)

HINTS = (
    'The IFM will publish the root hints file also in a signed, machine-readable format.\n'
    '\n'
    '## What changes\n'
    'A new file next to the existing named.root, with a detached signature.\n'
    '\n'
    '## What does not change\n'
    'The existing file, its location and its content stay as they are.\n'
)

EMAIL_POLICY = (
    "Following the adoption of a consensus policy by the GNSO, the IFM will require an additional technical contact confirmation for gTLD transfers. The policy and its adoption are outside the DUG's scope; this plan records how the IFM implements it.\n"
    '\n'
    '## Implementation\n'
    'The confirmation step is added to the transfer workflow.\n'
    '\n'
    '## Dates\n'
    'The step applies to requests received after the effective date.\n'
)


def _principal(ctx: Any, role: Role) -> Principal:
    return Principal.of(ctx.user(role))


def load_demo(session: Session, ctx: Any) -> None:
    """One plan open for comment (with comments), one agreed and implemented with its statement,
    one policy-driven plan whose statement is out, and one draft."""
    ifm = _principal(ctx, Role.IFM_STAFF)
    chair = _principal(ctx, Role.DUG_CHAIR)
    operator = _principal(ctx, Role.OPERATOR_STAFF)
    now = utcnow()

    # 1. Agreed and implemented, with a revision after the comments.
    done = service.create_plan(session, ifm, service.PlanInput(
        title="Signed root hints file", origin="operational", significance="significant",
        affected="all", body=HINTS, timeline="2026-03-01: signed file published"))
    service.publish_plan(session, ifm, done.id, now=now - timedelta(days=120))
    service.submit_comment(session, operator, done.id, service.CommentInput(
        body="Please document the signature format before publication.", section="what-changes"),
        now=now - timedelta(days=110))
    service.submit_comment(session, operator, done.id, service.CommentInput(
        body="Could the IFM also sign the root zone file itself?"), now=now - timedelta(days=100))
    closed_at = now - timedelta(days=90)
    service.close_comments(session, None, done.id, now=closed_at)
    service.revise_plan(session, ifm, done.id, service.PlanInput(
        title="Signed root hints file", origin="operational", significance="significant",
        affected="all", body=HINTS.replace("with a detached signature.",
                                          "with a detached signature in the format documented at its side."),
        timeline="2026-03-01: signed file published"), note="signature format documented (comment #1)")
    service.respond(session, ifm, done.id, 1, disposition="accepted",
                    response="The format is now documented; see version 2.")
    service.respond(session, ifm, done.id, 2, disposition="out_of_scope",
                    response="The root zone file is already signed with DNSSEC; this plan is about the hints file.")
    service.issue_statement(session, ifm, done.id,
                            "The IFM thanks the commenters. One comment led to a revision of the plan.",
                            now=closed_at + timedelta(days=2))
    from steward.governance.demo import pass_motion
    from steward.governance.domain import MotionKind

    pass_motion(session, ctx, MotionKind.agree_technical_plan,
                "Agree the implementation plan “Signed root hints file”",
                "The DUG agrees version 2 of the plan on behalf of the TLD registry operators.",
                service.SUBJECT, done.id, (closed_at + timedelta(days=9)).date())
    service.record_agreement(session, chair, done.id, now=closed_at + timedelta(days=10))
    service.mark_implemented(session, ifm, done.id, note="Published on schedule.",
                             now=closed_at + timedelta(days=30))

    # 2. Policy-driven: statement issued, no DUG step.
    policy = service.create_plan(session, ifm, service.PlanInput(
        title="Additional contact confirmation for gTLD transfers", origin="policy",
        significance="significant", affected="all", body=EMAIL_POLICY))
    service.publish_plan(session, ifm, policy.id, now=now - timedelta(days=45))
    service.issue_statement(session, ifm, policy.id, "No comments were received.",
                            now=now - timedelta(days=14))

    # 3. Open for comment, with comments.
    rollover = service.create_plan(session, ifm, service.PlanInput(
        title="Root zone DNSSEC algorithm rollover (8 → 13)", origin="operational",
        significance="major", affected="all", body=ALGORITHM,
        timeline="2027-01-15: phase 1 (double signature)\n2027-07-15: phase 2\n2028-01-15: phase 3"))
    service.publish_plan(session, ifm, rollover.id, now=now - timedelta(days=5))
    service.submit_comment(session, operator, rollover.id, service.CommentInput(
        body="90 days' notice per phase is tight for operators with embedded validators.",
        section="communication"), now=now - timedelta(days=3))
    service.submit_comment(session, chair, rollover.id, service.CommentInput(
        body="The DUG would like the fallback criteria to be stated in advance.", section="fallback"),
        now=now - timedelta(days=2))

    # 4. A draft (visible to the IFM, and to the DUG as an operational plan).
    service.create_plan(session, ifm, service.PlanInput(
        title="Retire the legacy zone transfer endpoint", origin="operational", significance="minor",
        affected="all", body="The old endpoint is replaced by the authenticated one.\n\n## Dates\nTo be agreed."))
    session.flush()
