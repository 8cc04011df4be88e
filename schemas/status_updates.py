"""Status updates on a cadence, and what the public status page may show of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.acting import Acted


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


class StatusUpdateIn(Acted):
    """A status update a person posts to the war room; `public` asks to publish it."""

    phase: UpdatePhase
    impact: str = Field(min_length=1, max_length=2000)
    root_cause: str = Field(default="", max_length=2000)
    next_steps: str = Field(default="", max_length=2000)
    eta: str = Field(default="", max_length=200)
    public: bool = False


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


class PublishApproval(Acted):
    """The communications lead approves publishing update `number` to the status page."""

    number: int = Field(ge=1)
