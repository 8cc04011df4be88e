"""PagerDuty v3 webhook: one `{"event": {...}}` per POST (contracts/pagerduty/webhooks-v3).

`data` is an incident for most event types, an incident_note for `incident.annotated`, an
incident_responder or incident_status_update for the others, and a ping for `pagey.ping`; one
lenient model covers them all. PagerDuty sends `null` for agent, client, priority,
incident_key, conference_bridge and resolve_reason, and adds fields over time.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.webhooks.times import WireTime


class PagerDutyReference(BaseModel):
    """Any `*_reference` object (user, service, team, escalation policy, priority, incident)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str | None = None
    summary: str | None = None
    html_url: str | None = None


class PagerDutyClient(BaseModel):
    """The monitoring tool an integration event came from (`null` for UI actions)."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    url: str | None = None


class PagerDutyConferenceBridge(BaseModel):
    model_config = ConfigDict(extra="allow")

    conference_number: str | None = None
    conference_url: str | None = None


class PagerDutyEventData(BaseModel):
    """The event's subject: incident fields, note fields (`content`, `incident`), ping fields."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str | None = None
    html_url: str | None = None
    number: int | None = None
    status: str | None = None
    incident_key: str | None = None
    created_at: WireTime | None = None
    title: str | None = None
    service: PagerDutyReference | None = None
    assignees: list[PagerDutyReference] | None = None
    escalation_policy: PagerDutyReference | None = None
    teams: list[PagerDutyReference] | None = None
    priority: PagerDutyReference | None = None
    urgency: str | None = None
    conference_bridge: PagerDutyConferenceBridge | None = None
    resolve_reason: dict[str, Any] | None = None
    # incident_note / incident_responder / incident_status_update carry a reference instead
    incident: PagerDutyReference | None = None
    content: str | None = None  # note text
    message: str | None = None  # ping text, status update text
    responder: PagerDutyReference | None = None


class PagerDutyEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    event_type: str = Field(min_length=1, examples=["incident.triggered", "pagey.ping"])
    resource_type: str | None = None
    occurred_at: WireTime | None = None
    agent: PagerDutyReference | None = None
    client: PagerDutyClient | None = None
    data: PagerDutyEventData = Field(default_factory=PagerDutyEventData)


class PagerDutyWebhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: PagerDutyEvent
