"""The pinned first message: the alert, what matched and how sure, the variables, the steps."""

from __future__ import annotations

from collections import Counter

from domain.slack.actions import Action
from domain.slack.buttons import NO_BUTTONS, control_buttons, step_value
from domain.slack.kit import Block, Rendered, actions, button, context, header, message, section
from domain.slack.labels import CLOSED_EMOJI, is_open, status_words
from domain.slack.mrkdwn import clip, escape, person, when
from schemas.incident import IncidentState, StepState
from schemas.runbook import StepRisk


def header_message(state: IncidentState) -> Rendered:
    """The pinned first message: the alert, what matched, the variables, the steps by risk."""
    emoji = CLOSED_EMOJI.get(state.status, ":rotating_light:")
    title = f"{emoji} [{state.severity.upper()}] {state.title}"
    value = step_value(state)
    buttons: list[Block] = []
    if is_open(state) and value is not None:
        if state.runbook:
            buttons += [
                button("Start copilot", Action.START_COPILOT, value, style="primary"),
                button("View steps", Action.VIEW_STEPS, value),
                button("Skip", Action.SKIP_RUNBOOK, value),
            ]
        if state.acknowledged_by is None:
            buttons.append(button("Acknowledge", Action.ACKNOWLEDGE, value))
        buttons += control_buttons(state, value)
    return message(
        f"[{state.severity.upper()}] {escape(state.title)} · {status_words(state)} · "
        f"{escape(state.service)}",
        [
            header(title),
            _alert_section(state),
            _runbook_section(state),
            _variables_section(state),
            context([_step_counts(state)], block_id="steps"),
            actions(buttons, block_id="incident"),
            context(
                [*_footer(state), NO_BUTTONS if value is None and is_open(state) else ""],
                block_id="footer",
            ),
        ],
    )


def _alert_section(state: IncidentState) -> Block:
    alert = state.alerts[0] if state.alerts else None
    lines = []
    if alert is not None:
        lines.append(f"*{escape(alert.name)}* from {alert.source.value}")
        if alert.description:
            lines.append(escape(alert.description))
        if alert.generator_url:
            lines.append(f"<{alert.generator_url}|Source>")
    else:
        lines.append(f"*{escape(state.title)}*")
    if not is_open(state) and state.outcome:
        lines.append(f"*Outcome:* {escape(state.outcome)}")
    fields = [
        f"*Status*\n{status_words(state)}",
        f"*Severity*\n{escape(state.severity)}",
        f"*Service*\n{escape(state.service)}",
        f"*Opened*\n{when(state.opened_at)}",
        f"*Mode*\n{state.mode.value}",
    ]
    if state.commander:
        fields.append(f"*Commander*\n{person(state.commander)}")
    if state.acknowledged_by:
        at = f" at {when(state.acknowledged_at)}" if state.acknowledged_at else ""
        fields.append(f"*Acknowledged*\n{person(state.acknowledged_by)}{at}")
    return section("\n".join(lines), block_id="alert", fields=fields)


def _runbook_section(state: IncidentState) -> Block:
    if state.runbook:
        version = f" v{state.runbook_version}" if state.runbook_version is not None else ""
        name = f" · {escape(state.runbook_title)}" if state.runbook_title else ""
        lines = [f"*Runbook* `{escape(state.runbook)}`{version}{name}"]
        how = []
        if state.match_confidence is not None:
            how.append(f"{state.match_confidence:.0%} confidence")
        if state.match_method:
            how.append(f"matched by {escape(state.match_method)}")
        if how:
            lines.append(" · ".join(how))
        if state.match_reason:
            lines.append(f"_{escape(state.match_reason)}_")
        return section("\n".join(lines), block_id="runbook")
    lines = [":grey_question: *No runbook matched*"]
    if state.match_reason:
        lines.append(escape(state.match_reason))
    top = sorted(state.match_candidates, key=lambda c: c.score, reverse=True)[:3]
    if top:
        lines.append("Closest candidates:")
        for cand in top:
            why = f": {escape('; '.join(cand.reasons))}" if cand.reasons else ""
            lines.append(f"• `{escape(cand.runbook)}` score {cand.score:.2f}{why}")
    return section("\n".join(lines), block_id="runbook")


def _variables_section(state: IncidentState) -> Block | None:
    if not state.variables and not state.missing_variables:
        return None
    lines = []
    if state.variables:
        pairs = [
            f"`{escape(k)}` = `{clip(escape(v), 200)}`" for k, v in sorted(state.variables.items())
        ]
        lines.append("*Variables from the alert:* " + ", ".join(pairs))
    if state.missing_variables:
        missing = ", ".join(f"`{escape(v)}`" for v in state.missing_variables)
        lines.append(f":warning: *Missing:* {missing}")
    return section("\n".join(lines), block_id="variables")


def _step_counts(state: IncidentState) -> str:
    if not state.steps:
        return "No steps"
    risks = Counter(s.risk for s in state.steps)
    by_risk = " · ".join(f"{risks[r]} {r.value}" for r in StepRisk if risks[r])
    done = sum(1 for s in state.steps if s.state is StepState.SUCCEEDED)
    return f"{len(state.steps)} steps: {by_risk} · {done} done"


def _footer(state: IncidentState) -> list[str]:
    out = [f"Incident `{escape(state.id)}`"]
    if state.related_alerts:
        out.append(f"{len(state.related_alerts)} related alerts")
    if state.reopens is not None:
        out.append(f"reopens `{escape(state.reopens.incident_id)}`")
    engaged = [k for k in state.kill_switches if k.engaged]
    if engaged:
        out.append(f":octagonal_sign: {len(engaged)} kill switch(es) engaged")
    return out
