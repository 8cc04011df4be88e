"""An email the product sends (executive notifications), as an activity's input."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EmailMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[str] = Field(min_length=1, max_length=50)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(max_length=20_000)
    incident_id: str
