"""step_outputs: the full output of each command an incident ran, outside its history

Revision ID: 0003_step_outputs
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_step_outputs"
# The brief names the baseline "0001_baseline"; its revision id in this tree is "0001".
down_revision = "0002_incident_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made by create_all (before migrations ran at start) may have it already.
    if "step_outputs" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "step_outputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=300), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("step_id", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("step_outputs_pkey")),
        sa.UniqueConstraint(
            "incident_id",
            "run_id",
            "step_id",
            "purpose",
            "attempt",
            name=op.f("step_outputs_incident_id_run_id_step_id_purpose_attempt_key"),
        ),
    )
    with op.batch_alter_table("step_outputs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_step_outputs_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("step_outputs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_step_outputs_incident_id"))
    op.drop_table("step_outputs")
