"""Grafana Alerting (webhook v1): like Alertmanager, every alert is its own Alert, keyed by its
label fingerprint; Grafana's links (rule, dashboard, panel, silence, image) become annotations
without overwriting any the rule already has."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.alerts.normalize.keys import digest, labels_key, service_of
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.grafana import GrafanaAlert, GrafanaWebhook


def _real_time(value: datetime | None) -> datetime | None:
    # Grafana, like Alertmanager, sends Go's zero time (0001-01-01) as endsAt while firing.
    if value is None or value.year <= 1:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


def _one(item: GrafanaAlert, body: GrafanaWebhook, received_at: datetime, raw: str) -> Alert:
    labels = dict(item.labels)
    annotations = _annotations(item, body)
    name = labels.get("alertname", "unnamed")
    fingerprint = item.fingerprint or labels_key(labels)
    starts_at = _real_time(item.startsAt)
    return Alert(
        source=AlertSource.GRAFANA,
        dedup_key=f"{name}-{fingerprint}",
        event_id=digest("grafana", fingerprint, item.status, str(starts_at))[:32],
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
        source_url=item.generatorURL,
    )


def normalize(body: GrafanaWebhook, received_at: datetime, payload_digest: str) -> list[Alert]:
    """One Alert per alert in the group, each with its own status."""
    return [_one(item, body, received_at, payload_digest) for item in body.alerts]
