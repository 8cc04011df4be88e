"""The trust gradient: how much a runbook (or one incident) may run without a human."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.enums import Mode as Mode


class Requirement(StrEnum):
    """What a step needs before it runs, under the mode in force."""

    AUTO = "auto"  # runs on its own
    APPROVE = "approve"  # one approval
    CONFIRM = "confirm"  # explicit confirmation naming the step (dangerous)
    REPORT = "report"  # nothing runs: a human does it and reports what happened


class RunbookTrust(BaseModel):
    """A runbook's current mode and why; every change is kept as a TrustChange."""

    model_config = ConfigDict(extra="forbid")

    runbook_id: str
    mode: Mode = Mode.COPILOT
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str = "default for a new runbook"
    suggestion: str | None = Field(
        default=None, description="An open promotion suggestion, if any (figures included)"
    )


class TrustChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runbook_id: str
    kind: Literal["promoted", "demoted", "downgraded", "suggested", "declined", "set"]
    mode: Mode
    actor: str
    reason: str
    at: datetime


class KillSwitchScope(StrEnum):
    GLOBAL = "global"
    SERVICE = "service"
    RUNBOOK = "runbook"


class KillSwitch(BaseModel):
    """Stops automatic execution everywhere, or for one service or one runbook."""

    model_config = ConfigDict(extra="forbid")

    scope: KillSwitchScope
    value: str | None = None
    engaged: bool
    actor: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)
    at: datetime | None = None

    def covers(self, service: str, runbook_id: str | None) -> bool:
        if self.scope is KillSwitchScope.GLOBAL:
            return True
        if self.scope is KillSwitchScope.SERVICE:
            return self.value == service
        return runbook_id is not None and self.value == runbook_id

    @property
    def label(self) -> str:
        return "global" if self.scope is KillSwitchScope.GLOBAL else f"{self.scope}={self.value}"


class SlotRequest(BaseModel):
    """Blast radius: ask for one of the K automation slots of a runbook and of a service."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    runbook_id: str
    service: str
    limit: int


class SlotGrant(BaseModel):
    """The answer to an automation check: a slot (or not), and the kill switches in force now."""

    model_config = ConfigDict(extra="forbid")

    granted: bool
    reason: str = ""
    kill_switches: list[KillSwitch] = Field(default_factory=list)


class IntakeCheck(BaseModel):
    """The automation check an alert's intake took with its claim (services/intake_opening.py):
    the kill switches then, and whether a blast-radius slot was taken for the incident. The
    workflow counts it as its first automatic step's check only while fresh
    (workflows/incident/gate.py); the slot is the incident's either way."""

    model_config = ConfigDict(extra="forbid")

    checked_at: datetime
    fresh_s: float = Field(
        ge=0, description="How far from `checked_at` the first workflow task may begin to use it"
    )
    kill_switches: list[KillSwitch] = Field(default_factory=list)
    slot: bool = False


class RunOutcome(BaseModel):
    """What a closed incident tells the trust bookkeeping (all derived from its own history)."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    run_id: str
    runbook_id: str
    mode: Mode
    status: str
    clean: bool
    failed: bool
