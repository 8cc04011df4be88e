"""One alert of an Alertmanager-shaped group (Alertmanager itself, Grafana) as an Alert.

Grafana's payload is Alertmanager's plus fields, so both build their Alerts here: keyed by the
label fingerprint, titled from the usual annotations, Go's zero time read as "not set".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from domain.alerts.normalize.keys import (
    DEFAULT_SERVICE_LABELS,
    ServiceLabels,
    digest,
    labels_key,
    service_of,
)
from schemas.alert import Alert, AlertSource, AlertStatus


class PrometheusLikeAlert(Protocol):
    """The fields Alertmanager and Grafana alerts share."""

    @property
    def status(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def startsAt(self) -> datetime | None: ...  # noqa: N802 - wire name
    @property
    def endsAt(self) -> datetime | None: ...  # noqa: N802 - wire name
    @property
    def generatorURL(self) -> str | None: ...  # noqa: N802 - wire name
    @property
    def fingerprint(self) -> str | None: ...


def real_time(value: datetime | None) -> datetime | None:
    # Alertmanager and Grafana send Go's zero time (0001-01-01) as endsAt while an alert fires.
    if value is None or value.year <= 1:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def prometheus_alert(
    item: PrometheusLikeAlert,
    annotations: dict[str, str],
    *,
    source: AlertSource,
    received_at: datetime,
    payload_digest: str,
    source_url: str | None = None,
    service_labels: ServiceLabels = DEFAULT_SERVICE_LABELS,
) -> Alert:
    """The Alert for one alert of the group; `annotations` are already merged with the group's."""
    labels = dict(item.labels)
    name = labels.get("alertname", "unnamed")
    fingerprint = item.fingerprint or labels_key(labels)
    starts_at = real_time(item.startsAt)
    return Alert(
        source=source,
        dedup_key=f"{name}-{fingerprint}",
        event_id=digest(source.value, fingerprint, item.status, str(starts_at))[:32],
        status=AlertStatus(item.status),
        name=name,
        title=annotations.get("summary") or annotations.get("message") or name,
        description=annotations.get("description", ""),
        service=service_of(labels, service_labels),
        severity=labels.get("severity", "unknown"),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=real_time(item.endsAt),
        received_at=received_at,
        generator_url=item.generatorURL,
        payload_digest=payload_digest,
        source_url=source_url,
    )
