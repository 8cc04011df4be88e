"""Incident roles: commander, communications lead, scribe and responders, and their changes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.acting import Acted


class IncidentRole(StrEnum):
    COMMANDER = "commander"
    COMMS_LEAD = "comms_lead"
    SCRIBE = "scribe"
    RESPONDER = "responder"


class RoleChange(Acted):
    """A person is given (or, `remove`, relieved of) a role; `actor` is who decided it."""

    role: IncidentRole
    person: str = Field(min_length=1, max_length=200)
    remove: bool = False


class RoleRecord(BaseModel):
    """One recorded change of role (handover included)."""

    model_config = ConfigDict(extra="forbid")

    role: IncidentRole
    person: str | None
    before: str | None = None
    actor: str | None
    at: datetime
