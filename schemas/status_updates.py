"""Status updates on a cadence, and what the public status page may show of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class UpdatePhase(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MITIGATING = "mitigating"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def public(self) -> str:
        """The standard status-page phase (Investigating, Identified, Monitoring, Resolved)."""
        if self is UpdatePhase.MITIGATING:
            return "Identified"
        return self.value.title()


class StatusUpdateIn(BaseModel):
    """A status update a person posts to the war room; `public` asks to publish it."""

    model_config = ConfigDict(extra="forbid")

    phase: UpdatePhase
    impact: str = Field(min_length=1, max_length=2000)
    root_cause: str = Field(default="", max_length=2000)
    next_steps: str = Field(default="", max_length=2000)
    eta: str = Field(default="", max_length=200)
    public: bool = False
    actor: str = Field(min_length=1, max_length=200)
    channel: str = Field(default="api", max_length=50)
    authenticated_by: str | None = Field(default=None, max_length=200)


class StatusUpdate(BaseModel):
    """A posted update, with the actions taken so far (from the incident's record)."""

    model_config = ConfigDict(extra="forbid")

    number: int
    phase: UpdatePhase
    impact: str
    root_cause: str = ""
    actions: list[str] = Field(default_factory=list)
    next_steps: str = ""
    eta: str = ""
    posted_by: str
    at: datetime
    public: bool = False
    published_by: str | None = None
    published_at: datetime | None = None


class PublishApproval(BaseModel):
    """The communications lead approves publishing update `number` to the status page."""

    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1)
    actor: str = Field(min_length=1, max_length=200)
    channel: str = Field(default="api", max_length=50)
    authenticated_by: str | None = Field(default=None, max_length=200)
