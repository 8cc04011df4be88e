"""An accepted firing alert on its way to Temporal: what the intake queue keeps
(db/intake_queue.py) and its dispatcher delivers (services/intake.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.incident import IncidentInput


class QueuedAlert(BaseModel):
    """Everything needed to deliver one accepted alert again after the API died.

    `incident.alert` is the alert. Without `joins` it is delivered by signal-with-start of
    `incident` (a new run, or a repeat reaching its open one); with `joins` it is signalled to
    that open incident of its correlation `group`, which claimed the group at `since`.
    `claimed` is what its intake claim decided (db/incident_claims.Claim.action).
    """

    model_config = ConfigDict(extra="forbid")

    incident: IncidentInput
    joins: str | None = None
    since: datetime | None = None
    group: str | None = None
    claimed: Literal["own", "joined", "start"] = "start"
