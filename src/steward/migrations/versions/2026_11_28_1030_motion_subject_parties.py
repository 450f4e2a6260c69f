"""open motions on disputes, urgent reviews and signals take their subject's parties

From 1030 on, a motion on a dispute, an urgent review or a systemic signal takes its subject's
own parties whatever its proposer named (``governance.service.subject_parties``): a dispute's
complainant and the IFM, an urgent review's operator concerned and the IFM, a signal the IFM; one
on a dispute or a review is also confidential. Motions still open get the same, so that the members those parties
employ are recused from the votes still to be cast (R-DUG-3). Decided motions stay as they were
decided.

Revision ID: 1030
Revises: 1020
Create Date: 2026-11-28 21:28:31
"""
from __future__ import annotations

from alembic import op

revision = '1030'
down_revision = '1020'
branch_labels = None
depends_on = None

# literal SQL, one statement per kind of party (both backends)
def upgrade() -> None:
    op.execute(
        "INSERT INTO governance_motion_party (motion_id, organisation_id) "
        "SELECT m.id, o.id FROM governance_motion m, registry_organisation o "
        "WHERE m.state = 'open' AND m.subject_type IN ('dispute', 'urgent_review', 'systemic-signal') AND o.kind = 'ifm' "
        "AND NOT EXISTS (SELECT 1 FROM governance_motion_party p WHERE p.motion_id = m.id AND p.organisation_id = o.id)")
    op.execute(
        "INSERT INTO governance_motion_party (motion_id, organisation_id) "
        "SELECT m.id, d.complainant_org_id FROM governance_motion m "
        "JOIN dispute_case d ON m.subject_id = CAST(d.id AS VARCHAR(20)) "
        "WHERE m.state = 'open' AND m.subject_type IN ('dispute', 'urgent_review', 'systemic-signal') AND m.subject_type = 'dispute' "
        "AND NOT EXISTS (SELECT 1 FROM governance_motion_party p WHERE p.motion_id = m.id AND p.organisation_id = d.complainant_org_id)")
    op.execute(
        "INSERT INTO governance_motion_party (motion_id, organisation_id) "
        "SELECT m.id, r.operator_org_id FROM governance_motion m "
        "JOIN systemic_review r ON m.subject_id = CAST(r.id AS VARCHAR(20)) "
        "WHERE m.state = 'open' AND m.subject_type IN ('dispute', 'urgent_review', 'systemic-signal') AND m.subject_type = 'urgent_review' AND r.operator_org_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM governance_motion_party p WHERE p.motion_id = m.id AND p.organisation_id = r.operator_org_id)")
    op.execute(
        "UPDATE governance_motion SET confidential = TRUE WHERE state = 'open' "
        "AND subject_type IN ('dispute', 'urgent_review')")


def downgrade() -> None:
    """The parties and confidentiality given stay: which were the proposer's is not recorded."""
