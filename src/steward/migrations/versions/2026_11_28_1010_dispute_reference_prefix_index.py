"""dispute numbering reads a year's references through an index; the stage-only index goes

The next ``D-<year>-NNNN`` counts the year's references under the numbering lock: a scan of
every dispute until now (5 ms at 10,000 disputes on PostgreSQL, growing with the history).
PostgreSQL reads a ``LIKE 'D-2026-%'`` prefix only from a ``text_pattern_ops`` index; SQLite
reads the prefix as a range of the unique index it already has. ``ix_dispute_case_stage`` is
covered by ``ix_dispute_case_board`` (stage first): one index fewer to write on every action.

Revision ID: 1010
Revises: 1000
Create Date: 2026-11-28 19:00:00
"""
from __future__ import annotations

from alembic import op

revision = '1010'
down_revision = '1000'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index('ix_dispute_case_stage')
    if op.get_bind().dialect.name == "postgresql":
        op.create_index('ix_dispute_case_reference_prefix', 'dispute_case', ['reference'],
                        postgresql_ops={'reference': 'text_pattern_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_dispute_case_reference_prefix', table_name='dispute_case')
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.create_index('ix_dispute_case_stage', ['stage'], unique=False)
