"""alert_rules: imported Prometheus alerting rules (the matcher reads their words)

Revision ID: 0005_alert_rules
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_alert_rules"
# The brief names "0001_baseline"; the baseline's revision id in this tree is "0001". The lead
# chains this migration after the others at merge.
down_revision = "0004_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made by create_all before this revision already has the table.
    if "alert_rules" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("alertname", sa.String(length=200), nullable=False),
        sa.Column("expr", sa.Text(), nullable=False),
        sa.Column("annotations", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("alert_rules_pkey")),
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rules_alertname"), ["alertname"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rules_source"), ["source"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rules_source"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_alertname"))
    op.drop_table("alert_rules")
