"""Database tables. A table is not a contract: the API and workflows speak `schemas` types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class RunbookRecord(SQLModel, table=True):
    """One version of one runbook; versions are immutable, a change makes a new row."""

    __tablename__ = "runbook_versions"
    __table_args__ = (UniqueConstraint("runbook_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    runbook_id: str = Field(index=True, max_length=100)
    version: int
    title: str = Field(max_length=500)
    content_hash: str = Field(max_length=64)
    document: str = Field(sa_column=Column(Text, nullable=False))
    source_path: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EscalationRecord(SQLModel, table=True):
    """Who was (or would be) paged for an incident, and why; written by the escalation activity."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("incident_id", "level", "step_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(index=True, max_length=300)
    level: int
    target: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    step_id: str = Field(default="", max_length=100)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RunbookTrustRecord(SQLModel, table=True):
    """A runbook's current mode; autopilot is only ever written by a human's promotion."""

    __tablename__ = "runbook_trust"

    runbook_id: str = Field(primary_key=True, max_length=100)
    mode: str = Field(max_length=20)
    changed_by: str | None = Field(default=None, max_length=200)
    changed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
    suggestion: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class TrustChangeRecord(SQLModel, table=True):
    """Every promotion, demotion, automatic downgrade, suggestion and decline, with who and why."""

    __tablename__ = "trust_changes"

    id: int | None = Field(default=None, primary_key=True)
    runbook_id: str = Field(index=True, max_length=100)
    kind: str = Field(max_length=20)
    mode: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class KillSwitchRecord(SQLModel, table=True):
    """Kill switch log: each engage and lift; the newest row per scope is the current state."""

    __tablename__ = "kill_switches"

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=20)
    value: str = Field(default="", max_length=200)
    engaged: bool
    actor: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AutomationSlotRecord(SQLModel, table=True):
    """Blast radius: one row per incident executing automatically, per scope, K slots a scope.

    The unique (scope, slot) pair makes taking a slot atomic on SQLite and PostgreSQL alike.
    """

    __tablename__ = "automation_slots"
    __table_args__ = (
        UniqueConstraint("scope", "slot"),
        UniqueConstraint("scope", "incident_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=300)
    slot: int
    incident_id: str = Field(index=True, max_length=300)
    acquired_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LlmCacheRecord(SQLModel, table=True):
    """LLM answers by content hash: the same runbook text never costs a second call."""

    __tablename__ = "llm_cache"

    key: str = Field(primary_key=True, max_length=64)
    model: str = Field(max_length=200)
    value: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RunbookSourceRecord(SQLModel, table=True):
    """The file a runbook version came from, and its diff against the previous version's."""

    __tablename__ = "runbook_sources"
    __table_args__ = (UniqueConstraint("runbook_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    runbook_id: str = Field(index=True, max_length=100)
    version: int
    source_path: str = Field(max_length=1000)
    source_sha256: str = Field(max_length=64)
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    diff: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DeliveryRecord(SQLModel, table=True):
    """A signed delivery already handled, by its source's id: a replay of it changes nothing."""

    __tablename__ = "deliveries"

    source: str = Field(primary_key=True, max_length=32)
    delivery_id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the source's id
    received_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
