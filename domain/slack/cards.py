"""One card per step reached: what it runs and why, its rollback, approvals, output, buttons.

A card shows the tail of the step's output; longer output goes once, whole, into the card's
thread (`output_thread`).
"""

from __future__ import annotations

import hashlib

from domain.slack.actions import Action
from domain.slack.buttons import NO_BUTTONS, control_buttons, step_value
from domain.slack.kit import Block, Rendered, actions, button, context, message, section
from domain.slack.labels import RISK_LABEL, STATE_LABEL, is_open
from domain.slack.mrkdwn import (
    MESSAGE_TEXT_MAX,
    SECTION_TEXT_MAX,
    clip,
    clip_head,
    escape,
    fence,
    person,
    when,
    words,
)
from schemas.incident import IncidentState, StepState, StepView

CARD_OUTPUT_CHARS = 1200  # output shown on a card; longer output goes to the card's thread
THREAD_OUTPUT_CHARS = 36_000  # the thread message (Slack keeps up to 40,000)
BLOCK_ID_MAX = 255


def block_id(kind: str, step: StepView) -> str:
    """`<kind>:<step id>`, or the id's digest when that would pass Slack's 255 characters."""
    bid = f"{kind}:{step.id}"
    if len(bid) <= BLOCK_ID_MAX:
        return bid
    return f"{kind}:#{hashlib.sha256(step.id.encode()).hexdigest()}"


def reached(state: IncidentState) -> list[StepView]:
    """Steps the incident has reached, in runbook order: the ones that get a card."""
    return [s for s in state.steps if s.state is not StepState.PENDING]


def step_card(state: IncidentState, step: StepView) -> Rendered:
    """One step: what it runs and why, its rollback, who approved it, its output, its buttons."""
    index = next((i for i, s in enumerate(state.steps) if s.id == step.id), 0) + 1
    lines = [
        f"*Step {index} of {len(state.steps)} · {escape(step.title)}*  `{escape(step.id)}`",
        f"{RISK_LABEL[step.risk]} · {STATE_LABEL[step.state]}",
    ]
    if step.condition:
        lines.append(f"_Only if_ `{clip(escape(step.condition), 300)}`")
    value = step_value(state, step)
    buttons: list[Block] = []
    if value is not None and is_open(state) and step.state is StepState.AWAITING_APPROVAL:
        buttons = [
            button("Approve & run", Action.APPROVE, value, style="primary"),
            button("Edit", Action.EDIT, value),
            button("Skip", Action.SKIP_STEP, value),
        ]
    if value is not None:
        buttons += control_buttons(state, value)
    notes = _notes(step) + ([NO_BUTTONS] if value is None and is_open(state) else [])
    blocks: list[Block | None] = [
        section("\n".join(lines), block_id=block_id("title", step)),
        _command_section(step),
        _refused_section(step),
        section(f"*Why*\n{escape(step.instructions)}", block_id=block_id("why", step))
        if step.instructions
        else None,
        _rollback_section(step),
        context(_approval_lines(step), block_id=block_id("approvals", step)),
        _output_section(step),
        context(notes, block_id=block_id("notes", step)),
        actions(buttons, block_id=block_id("step", step)),
    ]
    return message(
        f"Step {index}/{len(state.steps)} {escape(step.title)}: {words(step.state.value)}", blocks
    )


def _command_section(step: StepView) -> Block:
    if step.command is None:
        return section(
            "*Command*\n_None: a human does this step and reports it._",
            block_id=block_id("cmd", step),
        )
    title = "*Command* (edited)" if step.edited_from is not None else "*Command*"
    return section(
        f"{title}\n{fence(step.command, SECTION_TEXT_MAX - len(title) - 1)}",
        block_id=block_id("cmd", step),
    )


def _refused_section(step: StepView) -> Block | None:
    """Alert values the renderer would not put into the command, raw, so a human can judge."""
    if not step.refused:
        return None
    room = max((SECTION_TEXT_MAX - 80) // len(step.refused) - 60, 40)
    lines = [
        f"`{escape(r.variable)}` ({escape(r.part)}): {escape(clip(r.reason, 200))}\n"
        f"{fence(repr(r.value), room)}"
        for r in step.refused
    ]
    return section(
        clip(
            "*Alert values not rendered: edit the command to approve*\n" + "\n".join(lines),
            SECTION_TEXT_MAX,
        ),
        block_id=block_id("refused", step),
    )


def _rollback_section(step: StepView) -> Block:
    if not step.rollback:
        return section("*Rollback:* none", block_id=block_id("rollback", step))
    return section(
        f"*Rollback*\n{fence(step.rollback, SECTION_TEXT_MAX - 20)}",
        block_id=block_id("rollback", step),
    )


def _approval_lines(step: StepView) -> list[str]:
    out = []
    if step.approvals:
        who = ", ".join(
            f"{person(a.approver, a.approver_name)} {when(a.at)}" for a in step.approvals
        )
        out.append(f":white_check_mark: Approved by {who}")
    elif step.approved_by:
        at = f" {when(step.approved_at)}" if step.approved_at else ""
        out.append(f":white_check_mark: Approved by {person(step.approved_by)}{at}")
    rule = step.approval_rule
    if rule is not None and step.state is StepState.AWAITING_APPROVAL:
        need = f"Needs {rule.approvals} approval{'s' if rule.approvals > 1 else ''}"
        if rule.commander_required:
            need += ", one of them the incident commander"
        out.append(f"{need} · {len(step.approvals)} so far")
    if step.edited_from is not None:
        out.append(
            f":pencil2: Edited by {person(step.edited_by)}; the runbook said "
            f"`{clip(escape(step.edited_from), 500)}`"
        )
    return out


def combined_output(step: StepView) -> str:
    """stdout, then stderr under a marker: what the step printed."""
    if step.stderr and step.stdout:
        return f"{step.stdout.rstrip()}\n--- stderr ---\n{step.stderr}"
    return step.stdout or step.stderr


def needs_thread(step: StepView) -> bool:
    """The card shows the tail of the output; longer output is posted in full in its thread."""
    return len(escape(combined_output(step).rstrip("\n"))) > CARD_OUTPUT_CHARS - 6


def _output_section(step: StepView) -> Block | None:
    output = combined_output(step)
    if step.exit_code is None and not output:
        return None
    facts = [f"exit {step.exit_code}"] if step.exit_code is not None else []
    if step.attempts > 1:
        facts.append(f"{step.attempts} attempts")
    head = "*Output*" + (f" ({', '.join(facts)})" if facts else "")
    text = f"{head}\n{fence(output, CARD_OUTPUT_CHARS, keep='tail')}" if output else head
    if needs_thread(step):
        text += "\n_Last lines only; the full output is in the thread._"
    if step.rollback_exit_code is not None:
        text += f"\n*Rollback output* (exit {step.rollback_exit_code})"
        if step.rollback_output:
            text += f"\n{fence(step.rollback_output, 600, keep='tail')}"
    return section(text, block_id=block_id("output", step))


def _notes(step: StepView) -> list[str]:
    out = []
    if step.error:
        out.append(f":x: {escape(step.error)}")
    if step.note:
        out.append(escape(step.note))
    if step.mode is not None:
        out.append(f"decided under {step.mode.value}")
    return out


def output_thread(step: StepView) -> Rendered:
    """The step's whole output (head and tail if huge), posted once in its card's thread."""
    output = combined_output(step).rstrip("\n")
    code = f" (exit {step.exit_code})" if step.exit_code is not None else ""
    title = f"Full output of `{escape(step.id)}`{code}:\n"
    body = escape(output).replace("```", "`\u200b``")
    room = THREAD_OUTPUT_CHARS - len(title) - 6
    if len(body) > room:
        half = (room - 1) // 2
        body = f"{clip(body, half)}\n{clip_head(body, half)}"
    return Rendered(text=clip(f"{title}```{body}```", MESSAGE_TEXT_MAX))
