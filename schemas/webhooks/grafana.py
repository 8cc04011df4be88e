"""Grafana Alerting webhook contact point, payload version 1 (contracts/grafana).

The Alertmanager shape plus Grafana's fields. `title`, `state`, `message`, `dashboardURL` and
`panelURL` are marked for deprecation by Grafana, so nothing depends on them; `ruleUID`,
`orgId`, `imageURL` are left out when empty.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.webhooks.times import WireTime


class GrafanaAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: WireTime | None = None  # noqa: N815 - wire name
    endsAt: WireTime | None = None  # noqa: N815 - wire name
    generatorURL: str | None = None  # noqa: N815 - wire name
    fingerprint: str | None = None
    silenceURL: str | None = None  # noqa: N815 - wire name
    dashboardURL: str | None = None  # noqa: N815 - wire name
    panelURL: str | None = None  # noqa: N815 - wire name
    imageURL: str | None = None  # noqa: N815 - wire name
    ruleUID: str | None = None  # noqa: N815 - wire name
    values: dict[str, Any] | None = None
    valueString: str | None = None  # noqa: N815 - wire name
    orgId: int | None = None  # noqa: N815 - wire name


class GrafanaWebhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["firing", "resolved"]
    alerts: list[GrafanaAlert] = Field(min_length=1)
    receiver: str = ""
    version: str | None = None
    groupKey: str | None = None  # noqa: N815 - wire name
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815 - wire name
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815 - wire name
    commonAnnotations: dict[str, str] = Field(default_factory=dict)  # noqa: N815 - wire name
    externalURL: str | None = None  # noqa: N815 - wire name
    truncatedAlerts: int = 0  # noqa: N815 - wire name
    orgId: int | None = None  # noqa: N815 - wire name
    title: str | None = None
    state: str | None = None
    message: str | None = None
