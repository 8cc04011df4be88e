"""Incident roles: commander, communications lead, scribe and responders, and their changes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class IncidentRole(StrEnum):
    COMMANDER = "commander"
    COMMS_LEAD = "comms_lead"
    SCRIBE = "scribe"
    RESPONDER = "responder"


class RoleChange(BaseModel):
    """A person is given (or, `remove`, relieved of) a role; `actor` is who decided it."""

    model_config = ConfigDict(extra="forbid")

    role: IncidentRole
    person: str = Field(min_length=1, max_length=200)
    remove: bool = False
    actor: str = Field(min_length=1, max_length=200)
    channel: str = Field(default="api", max_length=50)
    authenticated_by: str | None = Field(default=None, max_length=200)


class RoleRecord(BaseModel):
    """One recorded change of role (handover included)."""

    model_config = ConfigDict(extra="forbid")

    role: IncidentRole
    person: str | None
    before: str | None = None
    actor: str | None
    at: datetime
