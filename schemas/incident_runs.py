"""What a closing incident tells the intake's claims (db/incident_claims.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class IncidentClosed(BaseModel):
    """An incident run ended: its group is free, and a repeat within the window reopens it."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    run_id: str
    status: str
    closed_at: datetime
