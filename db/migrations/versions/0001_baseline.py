"""baseline: the schema as create_all made it

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Databases made by create_all before migrations existed already have some of these
    # tables: the baseline creates only what is missing, so they upgrade like new ones.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "automation_slots" not in existing:
        op.create_table(
            "automation_slots",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("scope", sa.String(length=300), nullable=False),
            sa.Column("slot", sa.Integer(), nullable=False),
            sa.Column("incident_id", sa.String(length=300), nullable=False),
            sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("automation_slots_pkey")),
            sa.UniqueConstraint(
                "scope", "incident_id", name=op.f("automation_slots_scope_incident_id_key")
            ),
            sa.UniqueConstraint("scope", "slot", name=op.f("automation_slots_scope_slot_key")),
        )
        with op.batch_alter_table("automation_slots", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_automation_slots_incident_id"), ["incident_id"], unique=False
            )

    if "deliveries" not in existing:
        op.create_table(
            "deliveries",
            sa.Column("source", sa.String(length=32), nullable=False),
            sa.Column("delivery_id", sa.String(length=64), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("source", "delivery_id", name=op.f("deliveries_pkey")),
        )
        with op.batch_alter_table("deliveries", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_deliveries_received_at"), ["received_at"], unique=False
            )

    if "escalations" not in existing:
        op.create_table(
            "escalations",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("incident_id", sa.String(length=300), nullable=False),
            sa.Column("level", sa.Integer(), nullable=False),
            sa.Column("target", sa.String(length=200), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("step_id", sa.String(length=100), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("escalations_pkey")),
            sa.UniqueConstraint(
                "incident_id",
                "level",
                "step_id",
                "at",
                name=op.f("escalations_incident_id_level_step_id_at_key"),
            ),
        )
        with op.batch_alter_table("escalations", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_escalations_incident_id"), ["incident_id"], unique=False
            )

    if "kill_switches" not in existing:
        op.create_table(
            "kill_switches",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("scope", sa.String(length=20), nullable=False),
            sa.Column("value", sa.String(length=200), nullable=False),
            sa.Column("engaged", sa.Boolean(), nullable=False),
            sa.Column("actor", sa.String(length=200), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("kill_switches_pkey")),
        )
        op.create_table(
            "llm_cache",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("model", sa.String(length=200), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("key", name=op.f("llm_cache_pkey")),
        )
        op.create_table(
            "people",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("handle", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("email", sa.String(length=320), nullable=True),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("roles", sa.String(length=200), nullable=False),
            sa.Column("slack_user_id", sa.String(length=40), nullable=True),
            sa.Column("pagerduty_user_id", sa.String(length=100), nullable=True),
            sa.Column("opsgenie_user_id", sa.String(length=200), nullable=True),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("people_pkey")),
            sa.UniqueConstraint("email", name=op.f("people_email_key")),
            sa.UniqueConstraint("slack_user_id", name=op.f("people_slack_user_id_key")),
        )
        with op.batch_alter_table("people", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_people_handle"), ["handle"], unique=True)

    if "runbook_mappings" not in existing:
        op.create_table(
            "runbook_mappings",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("selector_key", sa.String(length=64), nullable=False),
            sa.Column("alertname", sa.String(length=200), nullable=True),
            sa.Column("service", sa.String(length=200), nullable=True),
            sa.Column("labels", sa.Text(), nullable=False),
            sa.Column("runbook_id", sa.String(length=100), nullable=False),
            sa.Column("created_by", sa.String(length=200), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("runbook_mappings_pkey")),
            sa.UniqueConstraint("selector_key", name=op.f("runbook_mappings_selector_key_key")),
        )
        with op.batch_alter_table("runbook_mappings", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_runbook_mappings_runbook_id"), ["runbook_id"], unique=False
            )

    if "runbook_sources" not in existing:
        op.create_table(
            "runbook_sources",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("runbook_id", sa.String(length=100), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("source_path", sa.String(length=1000), nullable=False),
            sa.Column("source_sha256", sa.String(length=64), nullable=False),
            sa.Column("source_text", sa.Text(), nullable=False),
            sa.Column("diff", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("runbook_sources_pkey")),
            sa.UniqueConstraint(
                "runbook_id", "version", name=op.f("runbook_sources_runbook_id_version_key")
            ),
        )
        with op.batch_alter_table("runbook_sources", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_runbook_sources_runbook_id"), ["runbook_id"], unique=False
            )

    if "runbook_trust" not in existing:
        op.create_table(
            "runbook_trust",
            sa.Column("runbook_id", sa.String(length=100), nullable=False),
            sa.Column("mode", sa.String(length=20), nullable=False),
            sa.Column("changed_by", sa.String(length=200), nullable=True),
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("suggestion", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("runbook_id", name=op.f("runbook_trust_pkey")),
        )
        op.create_table(
            "runbook_versions",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("runbook_id", sa.String(length=100), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("title", sa.String(length=500), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("document", sa.Text(), nullable=False),
            sa.Column("source_path", sa.String(length=1000), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("runbook_versions_pkey")),
            sa.UniqueConstraint(
                "runbook_id", "version", name=op.f("runbook_versions_runbook_id_version_key")
            ),
        )
        with op.batch_alter_table("runbook_versions", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_runbook_versions_runbook_id"), ["runbook_id"], unique=False
            )

    if "slack_channels" not in existing:
        op.create_table(
            "slack_channels",
            sa.Column("incident_id", sa.String(length=300), nullable=False),
            sa.Column("channel_id", sa.String(length=40), nullable=False),
            sa.Column("name", sa.String(length=80), nullable=False),
            sa.Column("reused", sa.Boolean(), nullable=False),
            sa.Column("topic", sa.Text(), nullable=False),
            sa.Column("invited", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("incident_id", name=op.f("slack_channels_pkey")),
        )
        op.create_table(
            "slack_messages",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("incident_id", sa.String(length=300), nullable=False),
            sa.Column("run", sa.String(length=64), nullable=False),
            sa.Column("key", sa.String(length=200), nullable=False),
            sa.Column("channel_id", sa.String(length=40), nullable=False),
            sa.Column("ts", sa.String(length=40), nullable=False),
            sa.Column("digest", sa.String(length=64), nullable=False),
            sa.Column("pinned", sa.Boolean(), nullable=False),
            sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("slack_messages_pkey")),
            sa.UniqueConstraint(
                "incident_id", "run", "key", name=op.f("slack_messages_incident_id_run_key_key")
            ),
        )
        with op.batch_alter_table("slack_messages", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_slack_messages_incident_id"), ["incident_id"], unique=False
            )

    if "trust_changes" not in existing:
        op.create_table(
            "trust_changes",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("runbook_id", sa.String(length=100), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("mode", sa.String(length=20), nullable=False),
            sa.Column("actor", sa.String(length=200), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("trust_changes_pkey")),
        )
        with op.batch_alter_table("trust_changes", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_trust_changes_runbook_id"), ["runbook_id"], unique=False
            )

    if "api_tokens" not in existing:
        op.create_table(
            "api_tokens",
            sa.Column("id", sa.String(length=32), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.Column("scopes", sa.String(length=200), nullable=False),
            sa.Column("secret_sha256", sa.String(length=64), nullable=False),
            sa.Column("created_by", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("note", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["person_id"],
                ["people.id"],
            ),
            sa.PrimaryKeyConstraint("id", name=op.f("api_tokens_pkey")),
        )
        with op.batch_alter_table("api_tokens", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_api_tokens_person_id"), ["person_id"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_person_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("trust_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_changes_runbook_id"))

    op.drop_table("trust_changes")
    with op.batch_alter_table("slack_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_messages_incident_id"))

    op.drop_table("slack_messages")
    op.drop_table("slack_channels")
    with op.batch_alter_table("runbook_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_versions_runbook_id"))

    op.drop_table("runbook_versions")
    op.drop_table("runbook_trust")
    with op.batch_alter_table("runbook_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_sources_runbook_id"))

    op.drop_table("runbook_sources")
    with op.batch_alter_table("runbook_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_mappings_runbook_id"))

    op.drop_table("runbook_mappings")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_handle"))

    op.drop_table("people")
    op.drop_table("llm_cache")
    op.drop_table("kill_switches")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_incident_id"))

    op.drop_table("escalations")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_received_at"))

    op.drop_table("deliveries")
    with op.batch_alter_table("automation_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_slots_incident_id"))

    op.drop_table("automation_slots")
