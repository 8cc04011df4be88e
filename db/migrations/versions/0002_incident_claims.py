"""incident claims: correlation decided by one atomic claim per alert (db/incident_claims.py)

Revision ID: 0002_incident_claims
Revises: 0001 (the baseline)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_incident_claims"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "correlation_claims",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.String(length=300), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("correlation_claims_pkey")),
    )
    with op.batch_alter_table("correlation_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_correlation_claims_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_runs",
        sa.Column("incident_id", sa.String(length=300), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("incident_runs_pkey")),
    )


def downgrade() -> None:
    op.drop_table("incident_runs")
    with op.batch_alter_table("correlation_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correlation_claims_incident_id"))

    op.drop_table("correlation_claims")
