"""web app: password hashes, sessions, single-sign-on links, runbook edits

Revision ID: 0004_web
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_web"
down_revision = "0003_step_outputs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made by create_all (tests of pre-migration databases) already has them.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "web_passwords" not in existing:
        op.create_table(
            "web_passwords",
            sa.Column("handle", sa.String(length=64), nullable=False),
            sa.Column("password_hash", sa.String(length=200), nullable=False),
            sa.Column("changed_by", sa.String(length=64), nullable=False),
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("handle", name=op.f("web_passwords_pkey")),
        )
    if "web_sessions" not in existing:
        op.create_table(
            "web_sessions",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("handle", sa.String(length=64), nullable=False),
            sa.Column("csrf", sa.String(length=64), nullable=False),
            sa.Column("via", sa.String(length=200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("web_sessions_pkey")),
        )
        with op.batch_alter_table("web_sessions", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_web_sessions_handle"), ["handle"], unique=False)
    if "oidc_identities" not in existing:
        op.create_table(
            "oidc_identities",
            sa.Column("issuer", sa.String(length=300), nullable=False),
            sa.Column("subject", sa.String(length=300), nullable=False),
            sa.Column("handle", sa.String(length=64), nullable=False),
            sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("issuer", "subject", name=op.f("oidc_identities_pkey")),
        )
        with op.batch_alter_table("oidc_identities", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_oidc_identities_handle"), ["handle"], unique=False)
    if "runbook_edits" not in existing:
        op.create_table(
            "runbook_edits",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("runbook_id", sa.String(length=100), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("authenticated_by", sa.String(length=200), nullable=False),
            sa.Column("summary", sa.Text(), nullable=False),
            sa.Column("risk_overrides", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("runbook_edits_pkey")),
        )
        with op.batch_alter_table("runbook_edits", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_runbook_edits_runbook_id"), ["runbook_id"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("runbook_edits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_edits_runbook_id"))
    op.drop_table("runbook_edits")
    with op.batch_alter_table("oidc_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_identities_handle"))
    op.drop_table("oidc_identities")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_handle"))
    op.drop_table("web_sessions")
    op.drop_table("web_passwords")
