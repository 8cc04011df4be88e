"""What the bot shows one Slack user in answer to a click or a command: the approval dialogs
(confirm a dangerous step, edit a command), how their answers are read back, and the status and
help text of `/ddrun`.

Pure, so the dialogs' layout and the block ids their answers come back under live in one place
with the code that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from domain.slack.actions import ActionValue, Callback
from domain.slack.mrkdwn import fence
from domain.trust import confirmation_matches
from schemas.incident import IncidentState, StepState, StepView
from schemas.policy import SLACK_USER_ID
from schemas.runbook import Step, StepRisk
from schemas.trust import Requirement

CONFIRM_BLOCK, COMMAND_BLOCK, COMMENT_BLOCK, INPUT = "confirm", "command", "comment", "value"
MAX_EDIT_CHARS = 3000  # plain_text_input's limit

HELP = (
    "*dd0c/run* `/ddrun` (in an incident's channel the ID may be left out):\n"
    "• `status [ID]`: where it stands (no ID elsewhere: the open incidents)\n"
    "• `approve [ID] STEP`: approve the waiting step (dangerous steps ask you to type its id)\n"
    "• `pause [ID]` · `resume [ID]`\n"
    "• `abort [ID] [reason]`: stop and roll back\n"
    "• `escalate [ID] [reason]`: page the next level now\n"
    "• `declare P0|P1|P2|P3 [service=NAME] TITLE`: declare an incident\n"
    "• `severity [ID] P0|P1|P2|P3 REASON`: change its severity\n"
    "• `ic [ID] @user`: hand over incident command\n"
    "• `killswitch status` · `killswitch engage|lift global|service NAME|runbook ID [reason]`\n"
    "• `runbook search TEXT`\n"
    "• `help`"
)


class ModalContext(ActionValue):
    """A modal's `private_metadata`: the button's value, plus where to report afterwards."""

    response_url: str | None = Field(default=None, max_length=1000)


# ------------------------------------------------------------------------------- confirmation


def needs_confirmation(view: StepView) -> bool:
    """Whether approving the step asks its approver to type the step's id first."""
    return view.requirement is Requirement.CONFIRM or view.risk is StepRisk.DANGEROUS


def confirms(typed: str | None, view: StepView) -> bool:
    return confirmation_matches(typed, Step.model_construct(id=view.id, title=view.title))


# ------------------------------------------------------------------------------- dialogs


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": text}


def _section(block_id: str, text: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block_id, "text": _text("mrkdwn", text[:3000])}


def _input(
    block_id: str,
    label: str,
    max_length: int,
    *,
    initial: str | None = None,
    optional: bool = False,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT,
        "max_length": max_length,
    }
    if block_id != CONFIRM_BLOCK:
        element["multiline"] = True
    if initial is not None:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _text("plain_text", label[:2000]),
        "element": element,
    }


def _code(text: str, limit: int = 2500) -> str:
    # Escaped like the cards: a command holding `<!channel>` must show, not ping.
    return fence(text, limit + 6)


def _step_blocks(state: IncidentState, view: StepView) -> list[dict[str, Any]]:
    rollback = (
        f"*Rollback* (shown first: this is how it is undone)\n{_code(view.rollback, 1200)}"
        if view.rollback
        else "*No rollback*: dd0c/run cannot undo this step."
    )
    blocks = [
        _section(
            "step",
            f"*{view.title}* (`{view.id}`, {view.risk.value}) on *{state.service}*\n"
            f"{_code(view.command or '(manual step)', 1500)}",
        ),
        _section("rollback", rollback),
    ]
    rule = view.approval_rule
    if view.approvals or (rule is not None and rule.approvals > 1):
        given = ", ".join(f"<@{a.approver}>" for a in view.approvals) or "none yet"
        needed = f" of {rule.approvals}" if rule else ""
        boss = "; the incident commander must be one" if rule and rule.commander_required else ""
        blocks.append(
            _section("approvals", f"Approvals {len(view.approvals)}{needed}: {given}{boss}")
        )
    return blocks


def _modal(
    callback: Callback, title: str, submit: str, meta: ModalContext, blocks: list[Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "title": _text("plain_text", title),
        "submit": _text("plain_text", submit),
        "close": _text("plain_text", "Cancel"),
        "private_metadata": meta.encode(),
        "blocks": blocks,
    }


def confirm_modal(state: IncidentState, view: StepView, meta: ModalContext) -> dict[str, Any]:
    """Approve a step that needs its id typed: the step, its rollback first, who approved."""
    blocks = [
        *_step_blocks(state, view),
        _input(CONFIRM_BLOCK, f"Type {view.id} to confirm", 500),
        _input(COMMENT_BLOCK, "Comment (kept in the audit trail)", 2000, optional=True),
    ]
    return _modal(
        Callback.CONFIRM_DANGEROUS, "Confirm dangerous step", "Approve & run", meta, blocks
    )


def edit_modal(state: IncidentState, view: StepView, meta: ModalContext) -> dict[str, Any]:
    """Approve a step with its command changed; the edit and its reason are audited."""
    blocks = [
        *_step_blocks(state, view),
        _input(
            COMMAND_BLOCK,
            "Command to run instead (recorded as an edit)",
            MAX_EDIT_CHARS,
            initial=view.command,
        ),
    ]
    if needs_confirmation(view):
        blocks.append(_input(CONFIRM_BLOCK, f"Type {view.id} to confirm", 500))
    blocks.append(
        _input(COMMENT_BLOCK, "Why the edit (kept in the audit trail)", 2000, optional=True)
    )
    return _modal(Callback.EDIT_COMMAND, "Edit and run", "Approve & run", meta, blocks)


def typed(values: Mapping[str, Mapping[str, Mapping[str, Any]]], block_id: str) -> str | None:
    """What the user typed into one of our dialog's inputs (a submission's `state.values`)."""
    value = values.get(block_id, {}).get(INPUT, {}).get("value")
    return value.strip() if isinstance(value, str) else None


def input_error(block_id: str, message: str) -> dict[str, Any]:
    """A submission's answer that keeps the dialog open with `message` under one input."""
    return {"response_action": "errors", "errors": {block_id: message[:300]}}


# ------------------------------------------------------------------------------- status text

_STEP_ICONS = {
    StepState.PENDING: ":white_circle:",
    StepState.PLANNED: ":white_circle:",
    StepState.AWAITING_APPROVAL: ":hourglass_flowing_sand:",
    StepState.AWAITING_REPORT: ":memo:",
    StepState.RUNNING: ":arrow_forward:",
    StepState.SUCCEEDED: ":white_check_mark:",
    StepState.FAILED: ":x:",
    StepState.INTERRUPTED: ":warning:",
    StepState.SKIPPED: ":fast_forward:",
    StepState.ROLLED_BACK: ":leftwards_arrow_with_hook:",
    StepState.ROLLBACK_FAILED: ":bangbang:",
}


def _who(actor: str | None) -> str:
    return f"<@{actor}>" if actor and SLACK_USER_ID.match(actor) else (actor or "nobody")


def status_text(state: IncidentState) -> str:
    """Where an incident stands, one line a step: `/ddrun status` and the View steps button."""
    paused = f" (paused: {state.pause_reason})" if state.paused else ""
    lines = [
        f"*{state.id}* · {state.severity} · {state.service} · *{state.status.value}*{paused}",
        state.title,
        (
            f"Runbook *{state.runbook_title or state.runbook}* v{state.runbook_version}"
            if state.runbook
            else "No runbook matched"
        )
        + f" · mode {state.mode.value} · commander {_who(state.commander)}"
        + f" · acknowledged by {_who(state.acknowledged_by)}",
    ]
    for number, step in enumerate(state.steps, start=1):
        line = f"{number}. {_STEP_ICONS[step.state]} `{step.id}` {step.title} ({step.risk.value})"
        line += f" — {step.state.value.replace('_', ' ')}"
        rule = step.approval_rule
        if step.state is StepState.AWAITING_APPROVAL and rule is not None:
            line += f", approvals {len(step.approvals)}/{rule.approvals}"
            line += ", commander required" if rule.commander_required else ""
        lines.append(line)
    return "\n".join(lines)[:3900]
