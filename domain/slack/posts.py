"""Channel posts besides the header and cards: one per notable timeline entry, and the summary.

Timeline entries are append-only, so entry `n` is posted once under its position. Entries that
the header or a card already shows (the runbook match, step progress, approval requests) are not
posted again; nor is the workflow's own note that Slack was unreachable.
"""

from __future__ import annotations

from domain.slack.kit import Block, Rendered, context, header, line_sections, message, section
from domain.slack.labels import CLOSED_EMOJI, STATE_LABEL, status_words
from domain.slack.mrkdwn import clip, duration, escape, person, when, when_plain, words
from schemas.incident import IncidentState, StepState, TimelineEntry

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "status": (":information_source:", "Status"),
    "status_changed": (":information_source:", "Status"),
    "escalated": (":mega:", "Escalated"),
    "acknowledged": (":eyes:", "Acknowledged"),
    "paused": (":double_vertical_bar:", "Paused"),
    "resumed": (":arrow_forward:", "Resumed"),
    "mode": (":gear:", "Mode"),
    "commander": (":crown:", "Incident commander"),
    "alert_resolved": (":white_check_mark:", "Alert resolved at its source"),
    "source_update": (":satellite_antenna:", "Update from the alert's source"),
    "related_alert": (":link:", "Related alert"),
    "reopened": (":repeat:", "Reopened"),
    "closed": (":checkered_flag:", "Closed"),
    "needs_human": (":sos:", "Needs a human"),
    "held_open": (":hourglass_flowing_sand:", "Runbook ended, incident stays open"),
    "human_decision": (":bust_in_silhouette:", "Decision"),
    "abort_requested": (":octagonal_sign:", "Abort requested"),
    "resolve_requested": (":white_check_mark:", "Resolve requested"),
    "undo_requested": (":leftwards_arrow_with_hook:", "Undo requested"),
    "rollback_started": (":rewind:", "Rollback started"),
    "rollback_failed": (":rotating_light:", "Rollback failed"),
    "rollback_stopped": (":raised_hand:", "Rollbacks stopped"),
    "rollback_unavailable": (":warning:", "No rollback"),
    "no_runbook": (":grey_question:", "No runbook"),
    "blast_radius": (":shield:", "Blast radius"),
    "trust": (":seedling:", "Trust"),
    "kill_switch_engaged": (":octagonal_sign:", "Kill switch engaged"),
    "kill_switch_lifted": (":large_green_circle:", "Kill switch lifted"),
    "declared": (":loudspeaker:", "Declared"),
    "role": (":busts_in_silhouette:", "Role"),
    "update_due": (":memo:", "Status update due"),
    "status_update": (":mega:", "Status update"),
    "status_published": (":globe_with_meridians:", "Published on the status page"),
    "soak_started": (":hourglass_flowing_sand:", "Soaking before resolving"),
    "soak_interrupted": (":rotating_light:", "Fired again during the soak"),
    "soak_clean": (":white_check_mark:", "Clean soak"),
    "soak_verification_failed": (":x:", "Verification failed after the soak"),
    "severity": (":triangular_flag_on_post:", "Severity"),
    "sla_breach": (":alarm_clock:", "Response SLA missed"),
    "false_positive": (":no_bell:", "False positive"),
    "linked_to_parent": (":link:", "Duplicate of"),
}
_PREFIXES: dict[str, tuple[str, str]] = {
    "kill_switch_": (":octagonal_sign:", "Kill switch"),
    "divergence_": (":twisted_rightwards_arrows:", "Divergence"),
}


def event_label(kind: str) -> tuple[str, str] | None:
    """Emoji and label of a timeline kind that is posted to the channel; None: not posted."""
    if kind in EVENT_LABELS:
        return EVENT_LABELS[kind]
    for prefix, (emoji, label) in _PREFIXES.items():
        if kind.startswith(prefix):
            return emoji, f"{label}: {words(kind.removeprefix(prefix))}"
    return None


def event_post(state: IncidentState, entry: TimelineEntry) -> Rendered | None:
    found = event_label(entry.kind)
    if found is None:
        return None
    emoji, label = found
    by = f" by {person(entry.actor)}" if entry.actor else ""
    detail = f": {escape(entry.message)}" if entry.message else ""
    return message(
        f"{label}{detail}",
        [
            section(f"{emoji} *{label}*{by}{detail}", block_id="event"),
            context([f"{when(entry.at)} · `{escape(state.id)}`"], block_id="event-context"),
        ],
    )


def summary_message(state: IncidentState) -> Rendered:
    """Posted when the incident closes: MTTR, what ran, who approved, divergences, outcome."""
    closed_at = state.closed_at or (state.timeline[-1].at if state.timeline else state.opened_at)
    mttr = duration(closed_at - state.opened_at)
    emoji = CLOSED_EMOJI.get(state.status, ":checkered_flag:")
    ran = [s for s in state.steps if s.state is not StepState.PENDING]
    fields = [
        f"*MTTR*\n{mttr}",
        f"*Steps*\n{sum(1 for s in ran if s.state is StepState.SUCCEEDED)} of "
        f"{len(state.steps)} succeeded",
        f"*Mode*\n{state.mode.value}",
        f"*Escalations*\n{len(state.escalations)}",
    ]
    if state.acknowledged_at is not None:
        fields.insert(1, f"*MTTA*\n{duration(state.acknowledged_at - state.opened_at)}")
    if state.runbook:
        version = f" v{state.runbook_version}" if state.runbook_version is not None else ""
        fields.append(f"*Runbook*\n`{escape(state.runbook)}`{version}")
    outcome = escape(state.outcome) if state.outcome else words(state.status.value)
    blocks: list[Block | None] = [
        header(f"{emoji} {status_words(state).capitalize()}: {state.title}"),
        section(f"*Outcome:* {outcome}", block_id="outcome", fields=fields),
        *line_sections("*What ran*", _ran_lines(state), block_id="ran"),
        *line_sections("*Approvals*", _approval_lines(state), block_id="approvals"),
        *line_sections("*Divergences from the runbook*", _divergences(state), block_id="div"),
        *line_sections("*Escalations*", _escalations(state), block_id="esc"),
        context(
            [f"Opened {when_plain(state.opened_at)} · closed {when_plain(closed_at)}"],
            block_id="times",
        ),
    ]
    return message(
        f"{words(state.status.value).capitalize()} after {mttr}: {escape(state.title)}", blocks
    )


def _ran_lines(state: IncidentState) -> list[str]:
    lines = []
    for step in state.steps:
        if step.state is StepState.PENDING:
            lines.append(f":white_circle: `{escape(step.id)}` {escape(step.title)}: not reached")
            continue
        facts = [words(step.state.value)]
        if step.exit_code is not None:
            facts.append(f"exit {step.exit_code}")
        if step.edited_from is not None:
            facts.append("edited")
        emoji = STATE_LABEL[step.state].split(" ", 1)[0]
        lines.append(f"{emoji} `{escape(step.id)}` {escape(step.title)}: {', '.join(facts)}")
    return lines or ["_No steps._"]


def _approval_lines(state: IncidentState) -> list[str]:
    lines = []
    for step in state.steps:
        if step.approvals:
            who = ", ".join(f"{person(a.approver, a.approver_name)}" for a in step.approvals)
        elif step.approved_by:
            who = person(step.approved_by)
        else:
            continue
        lines.append(f"• `{escape(step.id)}`: {who}")
    return lines


def _divergences(state: IncidentState) -> list[str]:
    return [
        f"• `{escape(d.step_id)}` {words(d.kind)}"
        + (f" by {person(d.actor)}" if d.actor else "")
        + f": {clip(escape(d.detail), 500)}"
        for d in state.divergences
    ]


def _escalations(state: IncidentState) -> list[str]:
    return [
        f"• level {e.level + 1} → {escape(e.target)} {when(e.at)}"
        + (" (paged)" if e.paged else "")
        + f": {clip(escape(e.reason), 300)}"
        for e in state.escalations
    ]
