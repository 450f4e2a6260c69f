"""audits published while an IPRT review runs inform it

From 1040 on, an audit published while a review is not closed is linked to that review when it is
published (``reviews.service.link_published_audit``, R-AUD-2, R-IPRT-3); before, only the audits
published by a review's convening were linked, so one published later informed no review. Reviews
still running get the audits published since they were convened that no review has considered.

Revision ID: 1040
Revises: 1030
Create Date: 2026-11-28 23:05:00
"""
from __future__ import annotations

from alembic import op

revision = '1040'
down_revision = '1030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO reviews_audit_link (review_id, audit_id) "
        "SELECT r.id, a.id FROM reviews_review r, audits_audit a "
        "WHERE r.stage <> 'closed' AND a.published_on IS NOT NULL AND a.published_on >= r.convened_on "
        "AND NOT EXISTS (SELECT 1 FROM reviews_audit_link l WHERE l.audit_id = a.id)")


def downgrade() -> None:
    """The links stay: which were made here is not recorded."""
