"""Prometheus Alertmanager webhook, payload version 4 (fields up to v0.34 accepted)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.webhooks.times import WireTime


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: WireTime | None = None  # noqa: N815 - wire name
    endsAt: WireTime | None = None  # noqa: N815 - wire name
    generatorURL: str | None = None  # noqa: N815 - wire name
    fingerprint: str | None = None


class AlertmanagerWebhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: str
    groupKey: str  # noqa: N815 - wire name
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[AlertmanagerAlert] = Field(min_length=1)
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815 - wire name
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815 - wire name
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815 - wire name
    externalURL: str | None = None  # noqa: N815 - wire name
    truncatedAlerts: int = 0  # noqa: N815 - wire name
