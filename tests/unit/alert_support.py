"""A firing generic Alert built in one line, for the matcher and runbook-choice unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.alert import Alert, AlertSource, AlertStatus

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def firing_alert(
    name: str, *, title: str | None = None, labels: dict[str, str] | None = None, **fields: Any
) -> Alert:
    """`name` is also its alertname label and, unless given, its title; any other Alert field
    may be passed (service, annotations, generator_url, …)."""
    return Alert(
        source=AlertSource.GENERIC,
        dedup_key=name[:200],
        event_id="e1",
        status=AlertStatus.FIRING,
        name=name,
        title=title or name,
        labels={"alertname": name, **(labels or {})},
        received_at=NOW,
        payload_digest="0" * 64,
        **fields,
    )
