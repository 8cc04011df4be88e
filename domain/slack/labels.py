"""Words and emoji for an incident's states, and the one-line views of it (topic, subject)."""

from __future__ import annotations

from domain.slack.mrkdwn import clip, words
from schemas.incident import IncidentState, IncidentStatus, StepState
from schemas.runbook import StepRisk

TOPIC_MAX = 250

RISK_LABEL: dict[StepRisk, str] = {
    StepRisk.SAFE: ":large_green_circle: safe",
    StepRisk.CAUTION: ":large_yellow_circle: caution",
    StepRisk.DANGEROUS: ":red_circle: dangerous",
}
STATE_LABEL: dict[StepState, str] = {
    StepState.PENDING: ":white_circle: not reached",
    StepState.AWAITING_APPROVAL: ":raised_hand: waiting for approval",
    StepState.AWAITING_REPORT: ":memo: waiting for a human to do it and report",
    StepState.PLANNED: ":clipboard: planned (dry run)",
    StepState.RUNNING: ":arrows_counterclockwise: running",
    StepState.SUCCEEDED: ":white_check_mark: succeeded",
    StepState.FAILED: ":x: failed",
    StepState.INTERRUPTED: ":warning: stopped: a person decides (retry, skip, rollback, abort)",
    StepState.SKIPPED: ":fast_forward: skipped",
    StepState.ROLLED_BACK: ":rewind: rolled back",
    StepState.ROLLBACK_FAILED: ":rotating_light: rollback failed",
}
CLOSED_EMOJI: dict[IncidentStatus, str] = {
    IncidentStatus.RESOLVED: ":white_check_mark:",
    IncidentStatus.ROLLED_BACK: ":rewind:",
    IncidentStatus.ABORTED: ":octagonal_sign:",
}


def is_open(state: IncidentState) -> bool:
    return not state.status.is_closed


def status_words(state: IncidentState) -> str:
    paused = " (paused)" if state.paused and is_open(state) else ""
    return f"{words(state.status.value)}{paused}"


def topic(state: IncidentState) -> str:
    """`[SEV] status · service` (SEV: the P0-P3 level when it has one), within Slack's 250
    characters; the sync keeps it current as the level and status change."""
    level = state.severity_level.value if state.severity_level else state.severity.upper()
    return clip(f"[{level}] {status_words(state)} · {state.service}", TOPIC_MAX)


def channel_subject(state: IncidentState) -> str:
    """What the channel name should say fired: the alert's name, else the incident title."""
    return state.alerts[0].name if state.alerts else state.title
