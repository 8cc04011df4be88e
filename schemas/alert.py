"""The one canonical alert every source is normalised into before an incident sees it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.bounded_text import DEDUP_KEY_BYTES, EVENT_ID_BYTES, KEYWORD_BYTES, fit_bytes, keyword
from schemas.enums import AlertSource as AlertSource


class AlertStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"  # a human acknowledged it at the source (PagerDuty, Opsgenie)
    RESOLVED = "resolved"
    UPDATED = "updated"  # information about the alert at its source; no change of state


class Alert(BaseModel):
    """A single alert instance (one label set), as received.

    `dedup_key` identifies the problem across repeats; `event_id` identifies this delivery, so a
    re-sent webhook is recognised and counted once.
    """

    model_config = ConfigDict(extra="forbid")

    source: AlertSource
    dedup_key: str = Field(min_length=1, max_length=255)
    event_id: str = Field(min_length=1, max_length=128)
    status: AlertStatus
    name: str = Field(description="The alert's name, e.g. Alertmanager's alertname")
    title: str
    description: str = ""
    service: str = "unknown"
    severity: str = "unknown"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    received_at: datetime
    generator_url: str | None = None
    payload_digest: str = Field(description="sha256 of the raw request body this alert came from")
    actor: str | None = Field(
        default=None, max_length=200, description="Who acknowledged or resolved it at the source"
    )
    source_url: str | None = Field(
        default=None, description="The alert or incident in its source (PagerDuty, Opsgenie, …)"
    )

    @field_validator("dedup_key", mode="before")
    @classmethod
    def _fit_dedup_key(cls, value: object) -> object:
        """Becomes the incident id and a search attribute: folded, never refused."""
        return keyword(value, DEDUP_KEY_BYTES) if isinstance(value, str) else value

    @field_validator("event_id", mode="before")
    @classmethod
    def _fit_event_id(cls, value: object) -> object:
        return fit_bytes(value, EVENT_ID_BYTES) if isinstance(value, str) else value

    @field_validator("service", "severity", mode="before")
    @classmethod
    def _fit_keyword(cls, value: object) -> object:
        """Search attributes (IncidentService, IncidentSeverity): folded to a keyword's size."""
        return keyword(value, KEYWORD_BYTES) if isinstance(value, str) else value
