"""merge the context branches into one head

Revision ID: 0999
Revises: 0601, arch1, sla1
Create Date: 2026-11-28 07:51:24.672353
"""
from __future__ import annotations

revision = '0999'
down_revision = ('0601', 'arch1', 'sla1')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
