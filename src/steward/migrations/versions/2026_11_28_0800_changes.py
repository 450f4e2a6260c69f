"""changes: technical-change plans, versions, RFC comments (R-TCH-1, R-TCH-2)

Revision ID: 0800
Revises: 0700
Create Date: 2026-11-28 05:58:57.828758
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import steward.db


revision = '0800'
down_revision = '0700'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('significance', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('comment_opens_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('comment_closes_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('comments_closed_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('statement_text', sa.Text(), nullable=True),
    sa.Column('statement_issued_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('agreed_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('agreement_note', sa.Text(), nullable=True),
    sa.Column('agreement_basis', sa.String(length=80), nullable=True),
    sa.Column('implemented_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('implementation_note', sa.Text(), nullable=True),
    sa.Column('withdrawn_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', steward.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', steward.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['account_user.id'], name=op.f('fk_change_plan_created_by_id_account_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_plan'))
    )
    with op.batch_alter_table('change_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_plan_comment_closes_at'), ['comment_closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_plan_origin'), ['origin'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_plan_state'), ['state'], unique=False)

    op.create_table('change_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=80), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('author_organisation', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('client_hash', sa.String(length=64), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', steward.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('disposition', sa.String(length=24), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_at', steward.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_user_id'], ['account_user.id'], name=op.f('fk_change_comment_author_user_id_account_user')),
    sa.ForeignKeyConstraint(['plan_id'], ['change_plan.id'], name=op.f('fk_change_comment_plan_id_change_plan')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['account_user.id'], name=op.f('fk_change_comment_responded_by_id_account_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_comment')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_change_comment_plan_id_number')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_change_comment_token_hash'))
    )
    with op.batch_alter_table('change_comment', schema=None) as batch_op:
        batch_op.create_index('ix_change_comment_author_submitted', ['author_user_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_change_comment_client_submitted', ['client_hash', 'submitted_at'], unique=False)
        batch_op.create_index('ix_change_comment_email_submitted', ['email_hash', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_comment_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_comment_status'), ['status'], unique=False)

    op.create_table('change_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('significance', sa.String(length=20), nullable=False),
    sa.Column('affected_all', sa.Boolean(), nullable=False),
    sa.Column('affected_tlds', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('timeline', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', steward.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['account_user.id'], name=op.f('fk_change_plan_version_created_by_id_account_user')),
    sa.ForeignKeyConstraint(['plan_id'], ['change_plan.id'], name=op.f('fk_change_plan_version_plan_id_change_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_plan_version')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_change_plan_version_plan_id_number'))
    )
    with op.batch_alter_table('change_plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_plan_version_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('change_plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_plan_version_plan_id'))

    op.drop_table('change_plan_version')
    with op.batch_alter_table('change_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_comment_status'))
        batch_op.drop_index(batch_op.f('ix_change_comment_plan_id'))
        batch_op.drop_index('ix_change_comment_email_submitted')
        batch_op.drop_index('ix_change_comment_client_submitted')
        batch_op.drop_index('ix_change_comment_author_submitted')

    op.drop_table('change_comment')
    with op.batch_alter_table('change_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_plan_state'))
        batch_op.drop_index(batch_op.f('ix_change_plan_origin'))
        batch_op.drop_index(batch_op.f('ix_change_plan_comment_closes_at'))

    op.drop_table('change_plan')
