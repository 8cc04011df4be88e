"""The handoff document for an incident that spans shifts: where it stands, what was done,
what is still open, what comes next and who is who. Read from the incident's state alone."""

from __future__ import annotations

from schemas.incident import IncidentState, StepState

_DONE = {StepState.SUCCEEDED, StepState.SKIPPED, StepState.ROLLED_BACK, StepState.FAILED}
_WAITING = {StepState.PENDING, StepState.AWAITING_APPROVAL, StepState.AWAITING_REPORT}
#: Timeline kinds that are a person's or the product's action (not chatter about the channel).
_ACTIONS = (
    "step_",
    "divergence_",
    "severity",
    "escalated",
    "acknowledged",
    "commander",
    "role",
    "mode",
    "paused",
    "resumed",
    "sla_breach",
    "undo_requested",
    "rollback_",
)


def _line(text: str) -> str:
    return " ".join(text.split())


def handoff_document(state: IncidentState) -> str:
    level = state.severity_level.value if state.severity_level else state.severity
    lines = [
        f"# Handoff: {state.id}",
        "",
        "## Status",
        f"- {level} · {state.status.value} · {state.service}: {_line(state.title)}",
        f"- opened {state.opened_at:%Y-%m-%d %H:%M} UTC"
        + (f", acknowledged by {state.acknowledged_by}" if state.acknowledged_by else "")
        + (f", runbook {state.runbook}" if state.runbook else ", no runbook"),
    ]
    firing = [a.name for a in state.alerts if a.status.value == "firing"]
    if state.status.is_closed:
        lines.append(f"- closed: {_line(state.outcome)}")
    elif firing:
        lines.append(f"- alerts received: {', '.join(sorted(set(firing)))}")
    lines += ["", "## Actions taken"]
    actions = [e for e in state.timeline if e.kind.startswith(_ACTIONS)]
    lines += [
        f"- {e.at:%H:%M} {e.kind}: {_line(e.message)}" + (f" ({e.actor})" if e.actor else "")
        for e in actions
    ] or ["- none yet"]
    lines += ["", "## Open hypotheses"]
    open_ = [
        f"- {v.id}: {_line(v.title)} ({v.state.value}"
        + (f": {_line(v.error)}" if v.error else "")
        + ")"
        for v in state.steps
        if v.state is StepState.FAILED or (v.state is StepState.SUCCEEDED and v.condition)
    ]
    if state.related_alerts:
        open_.append(f"- related alerts still in play: {', '.join(state.related_alerts)}")
    lines += open_ or ["- none recorded"]
    lines += ["", "## Next steps"]
    nxt = [
        f"- {v.id}: {_line(v.title)} ({v.state.value.replace('_', ' ')}, {v.risk.value})"
        for v in state.steps
        if v.state in _WAITING
    ]
    lines += nxt or ["- none planned by the runbook"]
    lines += ["", "## Key contacts"]
    contacts = [
        ("Incident commander", state.commander),
        ("Communications lead", state.comms_lead),
        ("Scribe", state.scribe),
        ("Responders", ", ".join(state.responders) or None),
        ("Declared by", state.declared_by),
        ("Paged", ", ".join(f"{e.target} (level {e.level})" for e in state.escalations) or None),
    ]
    lines += [f"- {who}: {name}" for who, name in contacts if name]
    done = sum(1 for v in state.steps if v.state in _DONE)
    lines += ["", f"_{done}/{len(state.steps)} runbook steps done._", ""]
    return "\n".join(lines)
