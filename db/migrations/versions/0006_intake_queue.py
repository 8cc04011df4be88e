"""intake queue: accepted alerts on their way to Temporal (db/intake_queue.py)

Revision ID: 0006_intake_queue
Revises: 0005_alert_rules
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_intake_queue"
down_revision = "0005_alert_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_queue",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=300), nullable=False),
        sa.Column("joins", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("intake_queue_pkey")),
    )
    with op.batch_alter_table("intake_queue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_queue_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intake_queue_lease_until"), ["lease_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intake_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_queue_lease_until"))
        batch_op.drop_index(batch_op.f("ix_intake_queue_incident_id"))
    op.drop_table("intake_queue")
