"""Alertmanager v4: every alert of a group becomes its own Alert, keyed by its label fingerprint."""

from __future__ import annotations

from datetime import datetime

from domain.alerts.normalize.keys import DEFAULT_SERVICE_LABELS, ServiceLabels
from domain.alerts.normalize.prometheus_like import prometheus_alert
from schemas.alert import Alert, AlertSource
from schemas.webhooks.alertmanager import AlertmanagerWebhook


def normalize(
    body: AlertmanagerWebhook,
    received_at: datetime,
    payload_digest: str,
    service_labels: ServiceLabels = DEFAULT_SERVICE_LABELS,
) -> list[Alert]:
    """One Alert per alert in the group; the group's own status is ignored (each alert has one)."""
    return [
        prometheus_alert(
            item,
            {**body.commonAnnotations, **item.annotations},
            source=AlertSource.ALERTMANAGER,
            received_at=received_at,
            payload_digest=payload_digest,
            service_labels=service_labels,
        )
        for item in body.alerts
    ]
