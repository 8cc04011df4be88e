"""Incident severity P0-P3 and the response deadlines (SLAs) each level carries.

The alert's own word (`critical`, `warning`, PagerDuty's priority) stays on the incident as
`severity`; the level is what the response process runs on: declared by a person, or derived
from the alert by a configurable mapping.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.acting import Acted


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


#: What each level means by default (configurable: `DDRUN_SEVERITY_MEANINGS`).
DEFAULT_MEANINGS: dict[Severity, str] = {
    Severity.P0: "critical: customer-facing outage, data loss, confirmed breach, "
    "revenue system down",
    Severity.P1: "high: >20% of requests affected, partial outage, payments delayed, "
    "SLO exceeded 3x",
    Severity.P2: "medium: <5% affected, non-critical feature down",
    Severity.P3: "low: cosmetic, trends, capacity warnings",
}

#: Alert severity words (any source's spelling, lower case) to a level.
DEFAULT_MAPPING: dict[str, Severity] = {
    "p0": Severity.P0,
    "sev0": Severity.P0,
    "emergency": Severity.P0,
    "p1": Severity.P1,
    "sev1": Severity.P1,
    "critical": Severity.P1,
    "high": Severity.P1,
    "page": Severity.P1,
    "p2": Severity.P2,
    "sev2": Severity.P2,
    "error": Severity.P2,
    "major": Severity.P2,
    "warning": Severity.P2,
    "p3": Severity.P3,
    "sev3": Severity.P3,
    "minor": Severity.P3,
    "low": Severity.P3,
    "info": Severity.P3,
}


class SlaKind(StrEnum):
    """A response deadline. Acknowledge and engage are met by people acting; all-hands and
    escalate are checkpoints: an incident still open by then pages the next level."""

    ACKNOWLEDGE = "acknowledge"
    ENGAGE = "engage"
    ALL_HANDS = "all_hands"
    ESCALATE = "escalate"


#: Seconds from the incident's opening, per level (configurable: `DDRUN_SLA_DEADLINES`).
DEFAULT_SLAS: dict[Severity, dict[SlaKind, int]] = {
    Severity.P0: {SlaKind.ACKNOWLEDGE: 60, SlaKind.ENGAGE: 300, SlaKind.ALL_HANDS: 900},
    Severity.P1: {SlaKind.ACKNOWLEDGE: 300, SlaKind.ENGAGE: 900, SlaKind.ESCALATE: 1800},
    Severity.P2: {SlaKind.ACKNOWLEDGE: 900},
    Severity.P3: {SlaKind.ACKNOWLEDGE: 3600},
}


#: Seconds of soak (monitoring) before an incident of each level is resolved.
DEFAULT_SOAK_S: dict[Severity, int] = {
    Severity.P0: 1800,
    Severity.P1: 900,
    Severity.P2: 300,
    Severity.P3: 300,
}


class SeverityPolicy(BaseModel):
    """How an alert's severity becomes a level, and the deadlines of each level."""

    model_config = ConfigDict(extra="forbid")

    default: Severity = Severity.P2
    labels: list[str] = Field(
        default_factory=lambda: ["priority", "severity"],
        description="Alert labels read first, in order; then the alert's severity",
    )
    mapping: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_MAPPING))
    meanings: dict[Severity, str] = Field(default_factory=lambda: dict(DEFAULT_MEANINGS))
    slas: dict[Severity, dict[SlaKind, int]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_SLAS.items()}
    )
    update_cadence_s: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.P0: 1800, Severity.P1: 3600},
        description="How often the commander or comms lead is reminded to post a status update",
    )
    executive_deadline_s: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.P0: 900, Severity.P1: 1800},
        description="Levels whose executives are told, and within how long of opening",
    )
    engineering_update_s: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.P0: 3600},
        description="How often an open incident of each level posts an update to the "
        "engineering-wide channel (DDRUN_ENGINEERING_CHANNEL)",
    )
    soak_s: dict[Severity, int] = Field(
        default_factory=lambda: dict(DEFAULT_SOAK_S),
        description="How long a resolved incident is watched before it is resolved",
    )


class SeverityChange(Acted):
    """A person changes the incident's level; the reason is required and kept."""

    severity: Severity
    reason: str = Field(min_length=1, max_length=2000)


class SeverityRecord(BaseModel):
    """One change of level, as the incident keeps it."""

    model_config = ConfigDict(extra="forbid")

    before: Severity | None
    after: Severity
    reason: str
    actor: str
    at: datetime


class FalsePositive(BaseModel):
    """Why a person closed the incident as a false positive (kept for tuning the alert)."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    actor: str
    at: datetime


class ParentLink(Acted):
    """Link this incident to the parent it duplicates; it closes and its alerts join the parent."""

    parent_id: str = Field(min_length=1, max_length=400)
    reason: str = Field(default="", max_length=2000)


class SlaBreach(BaseModel):
    """A response deadline that passed unmet: recorded, announced, escalated."""

    model_config = ConfigDict(extra="forbid")

    kind: SlaKind
    severity: Severity
    within_s: int
    at: datetime
