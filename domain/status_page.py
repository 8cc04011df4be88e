"""The prefilled status update (from the incident's record) and the public status page (only
what the communications lead approved for publication). Pure: state in, text out."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from schemas.incident import IncidentState, IncidentStatus, StepState
from schemas.status_updates import UpdatePhase

_PHASE_OF: dict[IncidentStatus, UpdatePhase] = {
    IncidentStatus.TRIGGERED: UpdatePhase.INVESTIGATING,
    IncidentStatus.ACKNOWLEDGED: UpdatePhase.INVESTIGATING,
    IncidentStatus.ESCALATED: UpdatePhase.INVESTIGATING,
    IncidentStatus.NEEDS_HUMAN: UpdatePhase.INVESTIGATING,
    IncidentStatus.MITIGATING: UpdatePhase.MITIGATING,
    IncidentStatus.AWAITING_APPROVAL: UpdatePhase.IDENTIFIED,
    IncidentStatus.PAUSED: UpdatePhase.IDENTIFIED,
    IncidentStatus.ROLLING_BACK: UpdatePhase.MITIGATING,
    IncidentStatus.MONITORING: UpdatePhase.MONITORING,
    IncidentStatus.RESOLVED: UpdatePhase.RESOLVED,
    IncidentStatus.ROLLED_BACK: UpdatePhase.RESOLVED,
    IncidentStatus.ABORTED: UpdatePhase.RESOLVED,
}


def draft_update(state: IncidentState) -> dict[str, Any]:
    """A status update prefilled from the record, for the comms lead to edit and post."""
    level = state.severity_level.value if state.severity_level else state.severity
    phase = _PHASE_OF.get(state.status, UpdatePhase.INVESTIGATING)
    if state.runbook and phase is UpdatePhase.INVESTIGATING and state.steps:
        phase = UpdatePhase.IDENTIFIED
    done = [v.title for v in state.steps if v.state is StepState.SUCCEEDED]
    pending = [
        v.title for v in state.steps if v.state in (StepState.PENDING, StepState.AWAITING_APPROVAL)
    ]
    return {
        "phase": phase.value,
        "impact": f"{level} {state.service}: {state.title}",
        "root_cause": state.match_reason or "not known yet",
        "actions": done,
        "next_steps": "; ".join(pending) or "monitoring",
        "eta": "",
    }


def _published(state: IncidentState) -> list[dict[str, Any]]:
    return [
        {"phase": u.phase.public, "message": u.impact, "at": u.at.isoformat()}
        for u in state.status_updates
        if u.published_at is not None
    ]


def status_page(
    states: list[IncidentState], components: list[str], now: datetime
) -> dict[str, Any]:
    """The public page: components with their status, and the incidents that have at least one
    published update (only those updates, newest first)."""
    incidents = []
    worst: dict[str, str] = dict.fromkeys(components, "operational")
    for state in states:
        updates = _published(state)
        if not updates:
            continue
        open_ = not state.status.is_closed
        incidents.append(
            {
                "id": state.id,
                "name": state.title,
                "component": state.service,
                "status": updates[-1]["phase"],
                "updates": list(reversed(updates)),
            }
        )
        if open_:
            major = state.severity_level is not None and state.severity_level.value in ("P0", "P1")
            hit = "major_outage" if major else "degraded_performance"
            if worst.get(state.service) != "major_outage":
                worst[state.service] = hit
        else:
            worst.setdefault(state.service, "operational")
    return {
        "updated_at": now.isoformat(),
        "components": [{"name": n, "status": s} for n, s in sorted(worst.items())],
        "incidents": incidents,
    }


def status_page_html(page: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Status</title></head><body>",
        "<h1>System status</h1><ul class='components'>",
    ]
    parts += [
        f"<li>{e(c['name'])}: <b>{e(c['status'].replace('_', ' '))}</b></li>"
        for c in page["components"]
    ]
    parts.append("</ul><h2>Incidents</h2>")
    if not page["incidents"]:
        parts.append("<p>No incidents reported.</p>")
    for incident in page["incidents"]:
        parts.append(f"<section><h3>{e(incident['name'])} ({e(incident['component'])})</h3><ol>")
        parts += [
            f"<li><b>{e(u['phase'])}</b> {e(u['at'])}: {e(u['message'])}</li>"
            for u in incident["updates"]
        ]
        parts.append("</ol></section>")
    parts.append(f"<footer>Updated {e(page['updated_at'])}</footer></body></html>")
    return "".join(parts)
