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
