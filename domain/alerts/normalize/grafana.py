"""Grafana Alerting (webhook v1): like Alertmanager, every alert is its own Alert, keyed by its
label fingerprint; Grafana's links (rule, dashboard, panel, silence, image) become annotations
without overwriting any the rule already has."""

from __future__ import annotations

from datetime import datetime

from domain.alerts.normalize.keys import DEFAULT_SERVICE_LABELS, ServiceLabels
from domain.alerts.normalize.prometheus_like import prometheus_alert
from schemas.alert import Alert, AlertSource
from schemas.webhooks.grafana import GrafanaAlert, GrafanaWebhook


def _annotations(item: GrafanaAlert, body: GrafanaWebhook) -> dict[str, str]:
    annotations = {**body.commonAnnotations, **item.annotations}
    links = {
        "rule_uid": item.ruleUID,
        "dashboard_url": item.dashboardURL,
        "panel_url": item.panelURL,
        "silence_url": item.silenceURL,
        "image_url": item.imageURL,
        "values": item.valueString,
    }
    for key, value in links.items():
        if value:
            annotations.setdefault(key, value)
    return annotations


def normalize(
    body: GrafanaWebhook,
    received_at: datetime,
    payload_digest: str,
    service_labels: ServiceLabels = DEFAULT_SERVICE_LABELS,
) -> list[Alert]:
    """One Alert per alert in the group, each with its own status."""
    return [
        prometheus_alert(
            item,
            _annotations(item, body),
            source=AlertSource.GRAFANA,
            received_at=received_at,
            payload_digest=payload_digest,
            service_labels=service_labels,
            source_url=item.generatorURL,
        )
        for item in body.alerts
    ]
