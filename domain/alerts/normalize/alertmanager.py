"""Alertmanager v4: every alert of a group becomes its own Alert, keyed by its label fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.alerts.normalize.keys import digest, labels_key, service_of
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.alertmanager import AlertmanagerAlert, AlertmanagerWebhook


def _real_time(value: datetime | None) -> datetime | None:
    # Alertmanager sends Go's zero time (0001-01-01) as endsAt while an alert fires.
    if value is None or value.year <= 1:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _one(
    item: AlertmanagerAlert, body: AlertmanagerWebhook, received_at: datetime, raw: str
) -> Alert:
    labels = dict(item.labels)
    annotations = {**body.commonAnnotations, **item.annotations}
    name = labels.get("alertname", "unnamed")
    fingerprint = item.fingerprint or labels_key(labels)
    starts_at = _real_time(item.startsAt)
    return Alert(
        source=AlertSource.ALERTMANAGER,
        dedup_key=f"{name}-{fingerprint}",
        event_id=digest("alertmanager", fingerprint, item.status, str(starts_at))[:32],
        status=AlertStatus(item.status),
        name=name,
        title=annotations.get("summary") or annotations.get("message") or name,
        description=annotations.get("description", ""),
        service=service_of(labels),
        severity=labels.get("severity", "unknown"),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=_real_time(item.endsAt),
        received_at=received_at,
        generator_url=item.generatorURL,
        payload_digest=raw,
    )


def normalize(body: AlertmanagerWebhook, received_at: datetime, payload_digest: str) -> list[Alert]:
    """One Alert per alert in the group; the group's own status is ignored (each alert has one)."""
    return [_one(item, body, received_at, payload_digest) for item in body.alerts]
