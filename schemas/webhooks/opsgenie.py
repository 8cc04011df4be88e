"""Opsgenie outgoing webhook: one alert action per POST (contracts/opsgenie).

Units differ on purpose (Opsgenie's, not ours): `createdAt` is epoch milliseconds, `updatedAt`
epoch nanoseconds. `teams` and `recipients` are ids. `description` and `details` come only with
Create and custom actions, and only when the integration is set to add them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.webhooks.times import EpochMs, EpochNs


class OpsgenieActionSource(BaseModel):
    """The channel the action came through, e.g. `{"name": "", "type": "web"}`."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    type: str | None = None


class OpsgenieAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    alertId: str = Field(min_length=1)  # noqa: N815 - wire name
    message: str = ""
    alias: str | None = None
    tinyId: str | None = None  # noqa: N815 - wire name
    createdAt: EpochMs | None = None  # noqa: N815 - wire name, epoch ms
    updatedAt: EpochNs | None = None  # noqa: N815 - wire name, epoch ns
    entity: str | None = None
    tags: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    username: str | None = None
    userId: str | None = None  # noqa: N815 - wire name
    source: str | None = None
    priority: str | None = None
    description: str | None = None
    details: dict[str, Any] | None = None
    note: str | None = None  # AddNote


class OpsgenieWebhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: str = Field(min_length=1, examples=["Create", "Acknowledge", "Close", "AddNote"])
    alert: OpsgenieAlert
    source: OpsgenieActionSource | None = None
    integrationId: str | None = None  # noqa: N815 - wire name
    integrationName: str | None = None  # noqa: N815 - wire name
