"""The generic JSON webhook, as documented in schemas/webhooks/generic.py."""

from __future__ import annotations

from datetime import datetime

from domain.alerts.normalize.keys import digest, labels_key
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.generic import GenericAlertBody


def normalize(body: GenericAlertBody, received_at: datetime, payload_digest: str) -> list[Alert]:
    labels = {"alertname": body.name, **body.labels}
    service = body.service or labels.get("service") or "unknown"
    dedup_key = body.dedup_key or f"{body.name}-{labels_key({**labels, 'service': service})}"
    event_id = body.event_id or digest("generic", dedup_key, body.status, str(body.starts_at))[:32]
    annotations = dict(body.annotations)
    if body.url and "url" not in annotations:
        annotations["url"] = body.url
    return [
        Alert(
            source=AlertSource.GENERIC,
            dedup_key=dedup_key,
            event_id=event_id,
            status=AlertStatus(body.status),
            name=body.name,
            title=body.title or body.name,
            description=body.description,
            service=service,
            severity=body.severity or labels.get("severity", "unknown"),
            labels=labels,
            annotations=annotations,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            received_at=received_at,
            generator_url=body.url,
            payload_digest=payload_digest,
        )
    ]
