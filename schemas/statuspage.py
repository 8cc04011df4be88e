"""Pushing approved status updates to an Atlassian Statuspage-compatible API: what the workflow
is configured with (no secret: the API key stays with the worker), the push an activity makes,
and what the page answered."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.severity import Severity
from schemas.status_updates import UpdatePhase


class StatuspageStatus(StrEnum):
    """Statuspage's incident statuses (realtime incidents)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @classmethod
    def of(cls, phase: UpdatePhase) -> StatuspageStatus:
        """Our phases on Statuspage's: mitigating shows as identified (the cause is known)."""
        if phase is UpdatePhase.MITIGATING:
            return cls.IDENTIFIED
        return cls(phase.value)


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @classmethod
    def of(cls, level: Severity | None, status: StatuspageStatus) -> ComponentStatus:
        """A resolved incident gives its components back; else the level says how bad."""
        if status is StatuspageStatus.RESOLVED:
            return cls.OPERATIONAL
        if level is Severity.P0:
            return cls.MAJOR_OUTAGE
        if level is Severity.P1:
            return cls.PARTIAL_OUTAGE
        return cls.DEGRADED_PERFORMANCE


class StatuspageTarget(BaseModel):
    """Where an incident's published updates go (decided at start from settings)."""

    model_config = ConfigDict(extra="forbid")

    page_id: str = Field(min_length=1, max_length=200)
    component_ids: list[str] = Field(
        default_factory=list, description="The page's components for this incident's service"
    )


class StatuspagePush(BaseModel):
    """One published update: creates the page's incident (no `statuspage_incident_id` yet) or
    updates it."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    number: int = Field(ge=1, description="Our status update's number")
    page_id: str
    statuspage_incident_id: str | None = None
    name: str = Field(max_length=300)
    status: StatuspageStatus
    body: str = Field(max_length=20_000)
    component_ids: list[str] = Field(default_factory=list)
    component_status: ComponentStatus


class StatuspagePushed(BaseModel):
    """What the page answered: its incident's id and public link."""

    model_config = ConfigDict(extra="forbid")

    statuspage_incident_id: str
    shortlink: str | None = None
    status: str = ""
    created: bool = False


class StatuspageRecord(BaseModel):
    """One push as the incident keeps it (pushed or refused)."""

    model_config = ConfigDict(extra="forbid")

    number: int
    ok: bool
    detail: str
