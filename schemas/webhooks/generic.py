"""The generic JSON webhook: the documented schema for any source without its own receiver.

Example:
    {"name": "CheckoutLatencyHigh", "title": "p99 latency above 2s", "status": "firing",
     "service": "checkout", "severity": "critical", "dedup_key": "checkout-latency",
     "labels": {"namespace": "shop"}, "annotations": {"runbook_url": "https://..."}}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.webhooks.times import WireTime


class GenericAlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Alert name (like alertname)")
    title: str | None = Field(default=None, max_length=1024)
    description: str = Field(default="", max_length=16_384)
    status: Literal["firing", "resolved"] = "firing"
    service: str | None = Field(default=None, max_length=200)
    severity: str | None = Field(default=None, max_length=50)
    dedup_key: str | None = Field(
        default=None,
        max_length=200,
        description="Same key = same problem; default is derived from name, service and labels",
    )
    event_id: str | None = Field(
        default=None, max_length=128, description="Delivery id; repeats of one id count once"
    )
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: WireTime | None = None
    ends_at: WireTime | None = None
    url: str | None = Field(default=None, max_length=2048)
