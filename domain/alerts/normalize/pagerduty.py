"""PagerDuty v3 webhook events into Alerts: one PagerDuty incident is one problem.

Every event about an incident (triggered, acknowledged, annotated, escalated, resolved, …) keys
on `pagerduty-<incident id>`, so its whole lifecycle reaches the same incident here. The event
id (inside the signed body, the same on every retry) identifies the delivery; PagerDuty's
unsigned `X-Webhook-Id` header is kept as an annotation.
"""

from __future__ import annotations

import re
from datetime import datetime

from domain.alerts.normalize.keys import digest
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.pagerduty import (
    PagerDutyEvent,
    PagerDutyEventData,
    PagerDutyReference,
    PagerDutyWebhook,
)

PING = "pagey.ping"
_STATUS = {
    "incident.triggered": AlertStatus.FIRING,
    "incident.reopened": AlertStatus.FIRING,
    "incident.acknowledged": AlertStatus.ACKNOWLEDGED,
    "incident.resolved": AlertStatus.RESOLVED,
}
_PRIORITY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info", "P5": "info"}
_URGENCY_SEVERITY = {"high": "critical", "low": "warning"}
# Alertmanager's default PagerDuty description: "[FIRING:2] KubePodCrashLooping checkout (…)"
_ALERTMANAGER_TITLE = re.compile(r"^\[(?:FIRING|RESOLVED)(?::\d+)?\]\s+([A-Za-z_:][\w:]*)")


def status_of(event_type: str) -> AlertStatus:
    """Lifecycle events move the incident; every other event only informs it."""
    return _STATUS.get(event_type, AlertStatus.UPDATED)


def incident_id_of(event: PagerDutyEvent) -> str | None:
    """The PagerDuty incident an event is about: `data.id`, or `data.incident.id` for notes,
    responders and status updates; None for events about something else (pings, services)."""
    data = event.data
    if data.incident is not None and data.incident.id:
        return data.incident.id
    is_incident = data.type == "incident" or (
        data.type is None and event.resource_type == "incident"
    )
    return data.id if is_incident and data.id else None


def severity_of(data: PagerDutyEventData) -> str:
    if data.priority is not None and data.priority.summary:
        return _PRIORITY_SEVERITY.get(data.priority.summary.upper(), data.priority.summary.lower())
    return _URGENCY_SEVERITY.get(data.urgency or "", "unknown")


def _names(refs: list[PagerDutyReference] | None) -> str:
    return ", ".join(r.summary for r in refs or [] if r.summary)


def _user_ids(refs: list[PagerDutyReference] | None) -> str:
    """The PagerDuty user ids (for mapping to people: `pagerduty_user_id`), comma-separated."""
    return ",".join(r.id for r in refs or [] if r.id and r.type == "user_reference")


def _describe(event: PagerDutyEvent, actor: str | None) -> str:
    data, kind = event.data, event.event_type.removeprefix("incident.")
    by = f" by {actor}" if actor else ""
    if data.content:
        return data.content
    if kind in ("escalated", "reassigned", "delegated"):
        assignees = _names(data.assignees)
        return f"{kind}{by}" + (f"; now assigned to {assignees}" if assignees else "")
    if kind == "priority_updated":
        priority = data.priority.summary if data.priority else None
        return f"priority {'set to ' + priority if priority else 'removed'}{by}"
    if kind == "unacknowledged":
        return "acknowledgement undone or timed out; the incident is triggered again"
    if kind == "resolved" and data.resolve_reason:
        reason = data.resolve_reason.get("type", "resolve reason")
        return f"resolved ({reason}){by}"
    if data.message:
        return data.message
    if status_of(event.event_type) is AlertStatus.UPDATED:
        return f"PagerDuty {event.event_type}{by}"
    return ""


def _labels(data: PagerDutyEventData, name: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    if name:
        labels["alertname"] = name
    if data.service is not None and data.service.id:
        labels["pagerduty_service_id"] = data.service.id
    if data.urgency:
        labels["urgency"] = data.urgency
    if data.priority is not None and data.priority.summary:
        labels["priority"] = data.priority.summary
    if data.number is not None:
        labels["incident_number"] = str(data.number)
    if data.escalation_policy is not None and data.escalation_policy.summary:
        labels["escalation_policy"] = data.escalation_policy.summary
    teams = _names(data.teams)
    if teams:
        labels["team"] = teams
    return labels


def _annotations(event: PagerDutyEvent, webhook_id: str | None) -> dict[str, str]:
    data = event.data
    found = {
        "pagerduty_event_type": event.event_type,
        "pagerduty_url": data.incident.html_url if data.incident else data.html_url,
        "incident_key": data.incident_key,
        "assignees": _names(data.assignees) or None,
        "assignee_ids": _user_ids(data.assignees) or None,
        "actor_id": _user_ids([event.agent]) if event.agent else None,
        "conference_url": data.conference_bridge.conference_url if data.conference_bridge else None,
        "conference_number": (
            data.conference_bridge.conference_number if data.conference_bridge else None
        ),
        "client": event.client.name if event.client else None,
        "client_url": event.client.url if event.client else None,
        "webhook_id": webhook_id,
    }
    return {k: v for k, v in found.items() if v}


def _event_id(event: PagerDutyEvent) -> str:
    return event.id if len(event.id) <= 128 else digest("pagerduty", event.id)[:32]


def normalize(
    body: PagerDutyWebhook,
    received_at: datetime,
    payload_digest: str,
    webhook_id: str | None = None,
) -> list[Alert]:
    """The one Alert an event carries, or none for a ping or an event about no incident."""
    event = body.event
    incident = incident_id_of(event)
    if event.event_type == PING or incident is None:
        return []
    data = event.data
    status = status_of(event.event_type)
    title = data.title or (data.incident.summary if data.incident else None) or event.event_type
    found = _ALERTMANAGER_TITLE.match(title)
    alertname = found.group(1) if found else None
    agent = event.agent
    actor = agent.summary if agent is not None and agent.type == "user_reference" else None
    annotations = _annotations(event, webhook_id)
    return [
        Alert(
            source=AlertSource.PAGERDUTY,
            dedup_key=f"pagerduty-{incident}",
            event_id=_event_id(event),
            status=status,
            name=alertname or title,
            title=title,
            description=_describe(event, actor),
            service=(data.service.summary if data.service else None) or "unknown",
            severity=severity_of(data),
            labels=_labels(data, alertname),
            annotations=annotations,
            starts_at=data.created_at,
            ends_at=event.occurred_at if status is AlertStatus.RESOLVED else None,
            received_at=received_at,
            generator_url=event.client.url if event.client else None,
            payload_digest=payload_digest,
            actor=actor[:200] if actor else None,
            source_url=annotations.get("pagerduty_url"),
        )
    ]
