"""What `ddrun incidents show` prints: where the incident stands and the exact next command.

A responder paged at 3am reads one screen: the header (status, mode, paused, who acknowledged),
a "waiting for / next" line derived from the state (the same state the workflow's validators
check, so the command it suggests is one they accept), the steps with full ids, the manual
steps' instructions and command templates, and the timeline. Pure functions of the state, so
the wording is tested without a stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from schemas.incident import (
    LOST_AGENT,
    IncidentState,
    IncidentStatus,
    IncidentSummary,
    StepState,
    StepView,
)
from schemas.runbook import Runbook
from schemas.trust import Requirement

#: Timeline entries shown unless --timeline asks for all of them.
TIMELINE_TAIL = 10


@dataclass(frozen=True)
class Next:
    """What the incident waits for, and the command that gives it (None: nothing to type)."""

    waiting_for: str
    command: str | None = None


def step_state(step: StepView) -> str:
    """The step's state as a person should read it: a command that exited non-zero "failed";
    only a lost agent leaves a step "interrupted" (it may or may not have taken effect)."""
    if step.state is StepState.INTERRUPTED and not (step.error or "").startswith(LOST_AGENT):
        return "failed"
    return step.state.value


def is_manual(step: StepView) -> bool:
    """A human does this step and reports it: read-along, marked manual, or nothing to run."""
    return (
        step.requirement is Requirement.REPORT
        or step.state is StepState.AWAITING_REPORT
        or step.command is None
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def next_action(state: IncidentState) -> Next:
    """The one thing the incident waits for, from its state, with the command to give it."""
    iid = state.id
    if state.status.is_closed:
        outcome = f" ({state.outcome})" if state.outcome else ""
        return Next(f"nothing: {state.status.value}{outcome}")
    for step in state.steps:
        if step.state in (StepState.INTERRUPTED, StepState.ROLLBACK_FAILED):
            what = "its rollback failed" if step.state is StepState.ROLLBACK_FAILED else ""
            why = what or step.error or step_state(step)
            return Next(
                f"a decision on step {step.id} ({why})",
                f"ddrun decide {iid} {step.id} retry|skip|rollback|abort",
            )
        if step.state is StepState.AWAITING_REPORT:
            return Next(
                f"a report of step {step.id}, done by hand (this step is manual: run it yourself)",
                f"ddrun report {iid} {step.id} done|skipped|changed",
            )
        if step.state is StepState.AWAITING_APPROVAL:
            rule = step.approval_rule
            have = len(step.approvals)
            count = (
                f" ({have} of {rule.approvals} approvals)" if rule and rule.approvals > 1 else ""
            )
            command = f"ddrun approve {iid} {step.id}"
            if step.requirement is Requirement.CONFIRM:
                command += f" --confirm {_quote(step.id)}"
            if any(r.part == "command" for r in step.refused) and step.edited_by is None:
                command += ' --edit "COMMAND"'
            return Next(f"approval of step {step.id} ({step.risk.value}){count}", command)
    if state.paused:
        if state.kill_switches:
            switch = state.kill_switches[0]
            return Next(
                f"a kill switch to be lifted ({switch.reason or 'engaged'}), or a take-over",
                f"ddrun takeover {iid}",
            )
        return Next(
            f"a resume (paused: {state.pause_reason or 'no reason given'})", f"ddrun resume {iid}"
        )
    running = next((s for s in state.steps if s.state is StepState.RUNNING), None)
    if running is not None:
        return Next(f"step {running.id} to finish on the agent")
    if state.runbook is None:
        return Next(
            "a human: no runbook matched; fix it by hand, then resolve", f"ddrun resolve {iid}"
        )
    if state.acknowledged_by is None:
        return Next("an acknowledgement", f"ddrun ack {iid}")
    if state.status is IncidentStatus.MITIGATING:
        return Next("the runbook's next step")
    return Next("the alert to clear, or a human to resolve", f"ddrun resolve {iid}")


def header(state: IncidentState) -> list[str]:
    """Who, what, how automated, paused or not, acknowledged by whom."""
    lines = [
        f"[bold]{escape(state.id)}[/bold]  {state.status.value}  "
        f"{escape(f'[{state.severity}]')} {escape(state.service)}",
        f"  {escape(state.title)}",
        f"  mode: {state.mode.value}"
        + (f" ({escape(state.mode_reason)})" if state.mode_reason else "")
        + "  paused: "
        + (f"yes ({escape(state.pause_reason or 'no reason given')})" if state.paused else "no"),
    ]
    ack = (
        f"{escape(state.acknowledged_by)}"
        + (f" at {state.acknowledged_at:%Y-%m-%d %H:%M:%S}" if state.acknowledged_at else "")
        if state.acknowledged_by
        else "nobody yet"
    )
    commander = f"  commander: {escape(state.commander)}" if state.commander else ""
    lines.append(f"  acknowledged by: {ack}{commander}")
    for switch in state.kill_switches:
        lines.append(f"  [red]kill switch {escape(switch.label)}:[/red] {escape(switch.reason)}")
    return lines


def next_lines(state: IncidentState) -> list[str]:
    todo = next_action(state)
    lines = [f"  [bold]waiting for:[/bold] {escape(todo.waiting_for)}"]
    if todo.command:
        lines.append(f"  [bold]next:[/bold] `{escape(todo.command)}`")
    return lines


def incidents_table(rows: list[IncidentSummary]) -> Table:
    """`incidents list`: ids are what people copy into the next command, so they are never
    cut or folded whatever the terminal's width; the other columns give way."""
    table = Table("id", "status", "service", "severity", "runbook", "started")
    table.columns[0].no_wrap = True
    table.columns[0].min_width = max((len(r.id) for r in rows), default=2)
    for r in rows:
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else ""
        table.add_row(
            escape(r.id),
            r.status,
            escape(r.service or ""),
            escape(r.severity or ""),
            escape(r.runbook or ""),
            started,
        )
    return table


def steps_table(state: IncidentState) -> Table:
    table = Table("step", "risk", "state", "approved by", "exit", "command")
    table.columns[0].no_wrap = True
    for s in state.steps:
        table.add_row(
            escape(s.id) + "\n" + escape(s.title),
            s.risk.value,
            step_state(s),
            escape(s.approved_by or ""),
            "" if s.exit_code is None else str(s.exit_code),
            escape(s.command or "(manual)"),
        )
    return table


def manual_lines(state: IncidentState, runbook: Runbook | None) -> list[str]:
    """Each manual step's instructions and the command it stands for: rendered when every value
    was filled, else the runbook's template (its placeholders show what was missing)."""
    templates = {s.id: s.command for s in runbook.steps} if runbook else {}
    lines: list[str] = []
    for step in state.steps:
        if not is_manual(step):
            continue
        lines.append(f"  [bold]manual step {escape(step.id)}[/bold]: {escape(step.title)}")
        if step.instructions:
            for text in step.instructions.strip().splitlines():
                lines.append(f"    {escape(text)}")
        template = templates.get(step.id)
        if step.command:
            lines.append(f"    command: {escape(step.command)}")
        elif template:
            lines.append(f"    command template: {escape(template)}")
        lines.append(
            f"    when done: `ddrun report {escape(state.id)} {escape(step.id)} "
            "done|skipped|changed`"
        )
    return lines


def timeline_lines(state: IncidentState, everything: bool) -> list[str]:
    entries = state.timeline if everything else state.timeline[-TIMELINE_TAIL:]
    hidden = len(state.timeline) - len(entries)
    lines = [
        "  [bold]timeline[/bold]"
        + (f" (last {len(entries)}; --timeline for all)" if hidden else "")
    ]
    for e in entries:
        by = f" ({escape(e.actor)})" if e.actor else ""
        lines.append(f"    {e.at:%Y-%m-%d %H:%M:%S} {escape(e.kind)}: {escape(e.message)}{by}")
    return lines


def print_state(
    console: Console, state: IncidentState, runbook: Runbook | None, everything: bool
) -> None:
    """The whole `incidents show` screen. Lines are never hard-wrapped (soft wrap): a command
    or id broken across lines could not be pasted."""
    for line in header(state) + next_lines(state):
        console.print(line, soft_wrap=True)
    _print_match(console, state)
    console.print(steps_table(state))
    for s in state.steps:
        if s.stdout or s.stderr:
            console.print(f"[dim]--- {escape(s.id)} output ---[/dim]")
            console.print((s.stdout + s.stderr)[-2000:], markup=False)
    for line in manual_lines(state, runbook):
        console.print(line, soft_wrap=True)
    for e in state.escalations:
        console.print(f"  escalated L{e.level} → {escape(e.target)}: {escape(e.reason)}")
    for line in timeline_lines(state, everything):
        console.print(line, soft_wrap=True)
    if state.outcome:
        console.print(f"  outcome: {escape(state.outcome)}")


def _print_match(console: Console, state: IncidentState) -> None:
    console.print(f"  alerts: {len(state.alerts)} (deliveries {state.alert_deliveries})")
    sure = ""
    if state.match_confidence is not None:
        method = f", {state.match_method}" if state.match_method else ""
        sure = f" (confidence {state.match_confidence:.2f}{method})"
    if state.runbook:
        console.print(
            f"  runbook: {escape(state.runbook)} v{state.runbook_version}{sure} — "
            f"{escape(state.match_reason)}"
        )
        filled = ", ".join(f"{k}={v}" for k, v in state.variables.items()) or "none"
        console.print(f"  variables filled: {escape(filled)}")
    else:
        console.print(f"  runbook: none{sure} — {escape(state.match_reason)}")
    if state.missing_variables:
        missing = escape(", ".join(state.missing_variables))
        console.print(f"  [yellow]missing variables:[/yellow] {missing}")
    others = [c for c in state.match_candidates if c.runbook != state.runbook][:5]
    label = "runners-up" if state.runbook else "candidates"
    for c in others:
        why = "; ".join(c.reasons[:3])
        console.print(f"  {label}: {escape(c.runbook)} {c.score:.2f} — {escape(why)}")
        label = " " * len(label)
