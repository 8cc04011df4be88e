"""The links a P0/P1 war room pins: the incident, its runbook, the alert's dashboard or source,
and for a P0 the video call made from the configured template."""

from __future__ import annotations

from domain.slack.kit import Rendered
from schemas.incident import IncidentState
from schemas.severity import Severity

WAR_ROOM_LEVELS = frozenset({Severity.P0, Severity.P1})


def is_war_room(state: IncidentState) -> bool:
    return state.severity_level in WAR_ROOM_LEVELS


def links_message(
    state: IncidentState, api_url: str | None, video_call_template: str | None
) -> Rendered:
    lines = [f"*Links for {state.id}*"]
    if api_url:
        lines.append(f"• Incident: {api_url.rstrip('/')}/api/incidents/{state.id}")
    if state.runbook:
        lines.append(f"• Runbook: `{state.runbook}` v{state.runbook_version or '?'}")
    alert = state.alerts[0] if state.alerts else None
    if alert is not None and alert.generator_url:
        lines.append(f"• Dashboard: {alert.generator_url}")
    if alert is not None and alert.source_url:
        lines.append(f"• Source: {alert.source_url}")
    if state.severity_level is Severity.P0 and video_call_template:
        lines.append(f"• Video call: {video_call_template.replace('{incident_id}', state.id)}")
    return Rendered(text="\n".join(lines))
