"""dispute board index: per stage, the cases in order of their next deadline

Revision ID: 1000
Revises: 0999
Create Date: 2026-11-28 13:10:00
"""
from __future__ import annotations

from alembic import op

revision = '1000'
down_revision = '0999'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.create_index('ix_dispute_case_board', ['stage', 'next_due_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index('ix_dispute_case_board')
