"""Opsgenie alert actions into Alerts: one Opsgenie alert (its alias) is one problem.

Create fires, Acknowledge and Close move the incident, and every other action (AddNote,
UnAcknowledge, Escalate, custom actions, …) only informs it. An action is identified by
alert id, action and `updatedAt` (nanoseconds), so a re-sent webhook counts once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.alerts.normalize.keys import digest, service_of
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.opsgenie import OpsgenieAlert, OpsgenieWebhook

_STATUS = {
    "create": AlertStatus.FIRING,
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "close": AlertStatus.RESOLVED,
}
_PRIORITY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info", "P5": "info"}
_SEVERITY_TAGS = ("critical", "error", "high", "warning", "low", "info")
# Detail keys that describe rather than identify: annotations, not labels.
_ANNOTATION_KEYS = frozenset(
    {"runbook_url", "runbook", "summary", "description", "dashboard", "dashboard_url", "url"}
)
_MAX_KEY = 255


def status_of(action: str) -> AlertStatus:
    return _STATUS.get(action.strip().lower(), AlertStatus.UPDATED)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _split_details(details: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for key, value in (details or {}).items():
        (annotations if key in _ANNOTATION_KEYS else labels)[key] = _text(value)
    return labels, annotations


def severity_of(alert: OpsgenieAlert, labels: dict[str, str]) -> str:
    if labels.get("severity"):
        return labels["severity"]
    if alert.priority:
        return _PRIORITY_SEVERITY.get(alert.priority.upper(), alert.priority.lower())
    tags = {t.lower() for t in alert.tags}
    return next((s for s in _SEVERITY_TAGS if s in tags), "unknown")


def dedup_key_of(alert: OpsgenieAlert) -> str:
    """The sender's alias (its own dedupe key), else the alert id; long aliases are folded."""
    key = alert.alias or alert.alertId
    return key if len(key) <= _MAX_KEY else f"{key[:200]}-{digest(key)[:16]}"


def event_id_of(body: OpsgenieWebhook) -> str:
    event = f"{body.alert.alertId}:{body.action}:{body.alert.updatedAt}"
    return event if len(event) <= 128 else digest("opsgenie", event)[:32]


def _actor(alert: OpsgenieAlert) -> str | None:
    # An integration acts as "System" with no userId; only a person is an actor.
    if alert.username and alert.userId:
        return alert.username[:200]
    return None


def _describe(body: OpsgenieWebhook, status: AlertStatus, actor: str | None) -> str:
    alert = body.alert
    if alert.note:
        return alert.note
    if status is AlertStatus.FIRING:
        return alert.description or ""
    if status is AlertStatus.UPDATED:
        return f"Opsgenie {body.action}" + (f" by {actor}" if actor else "")
    return ""


def _time(value: int | None, per_second: int) -> datetime | None:
    return datetime.fromtimestamp(value / per_second, UTC) if value else None


def normalize(body: OpsgenieWebhook, received_at: datetime, payload_digest: str) -> list[Alert]:
    alert = body.alert
    status = status_of(body.action)
    labels, annotations = _split_details(alert.details)
    if alert.entity:
        labels.setdefault("entity", alert.entity)
    extra = {
        "opsgenie_action": body.action,
        "opsgenie_alert_id": alert.alertId,
        "opsgenie_tiny_id": alert.tinyId,
        "opsgenie_source": alert.source,
        "tags": ", ".join(alert.tags) or None,
    }
    actor = _actor(alert)
    extra["opsgenie_actor_id"] = alert.userId if actor else None  # mapped to a person by id
    annotations.update({k: v for k, v in extra.items() if v})
    service = labels.get("service") or alert.entity or service_of(labels)
    return [
        Alert(
            source=AlertSource.OPSGENIE,
            dedup_key=dedup_key_of(alert),
            event_id=event_id_of(body),
            status=status,
            name=labels.get("alertname") or alert.message or alert.alias or alert.alertId,
            title=alert.message or alert.alias or alert.alertId,
            description=_describe(body, status, actor),
            service=service,
            severity=severity_of(alert, labels),
            labels=labels,
            annotations=annotations,
            starts_at=_time(alert.createdAt, 1_000),
            ends_at=_time(alert.updatedAt, 1_000_000_000)
            if status is AlertStatus.RESOLVED
            else None,
            received_at=received_at,
            payload_digest=payload_digest,
            actor=actor,
        )
    ]
