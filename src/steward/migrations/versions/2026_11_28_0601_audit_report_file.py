"""audits: the uploaded report document (file name, type, size, SHA-256, bytes)

Revision ID: 0601
Revises: 0600
Create Date: 2026-11-28 06:55:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0601'
down_revision = '0600'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audits_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_filename', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('report_content_type', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('report_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('report_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('report_file', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audits_audit', schema=None) as batch_op:
        batch_op.drop_column('report_file')
        batch_op.drop_column('report_sha256')
        batch_op.drop_column('report_size')
        batch_op.drop_column('report_content_type')
        batch_op.drop_column('report_filename')
