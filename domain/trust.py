"""What each step needs before it runs: mode, risk and per-step overrides, decided in one place."""

from __future__ import annotations

from collections.abc import Sequence

from domain.conditions import evaluate
from schemas.incident import SelectedRunbook
from schemas.runbook import Step, StepRisk
from schemas.trust import KillSwitch, Mode, Requirement, RunbookTrust


def requirement(
    step: Step, mode: Mode, *, has_command: bool, needs_judgement: bool = False
) -> Requirement:
    """Dangerous steps always need a person; read-along and manual steps never execute."""
    if mode is Mode.READ_ALONG or step.manual or not has_command:
        return Requirement.REPORT
    if step.risk is StepRisk.DANGEROUS:
        return Requirement.CONFIRM
    if step.require_approval or needs_judgement:
        return Requirement.APPROVE
    if mode is Mode.AUTOPILOT or step.risk is StepRisk.SAFE:
        return Requirement.AUTO
    return Requirement.APPROVE


def opens_on_its_own(selected: SelectedRunbook | None, mode: Mode) -> bool:
    """Would the first step the incident reaches run on its own, in the workflow's first task?

    The same decisions as the step runner (workflows/incident/steps.py) before any step has
    run: a step whose condition is false without outcomes is passed over; one that needs a
    judgement, has a breakpoint, has refused alert values or needs a person stops the answer.
    The intake uses it to take that step's blast-radius slot ahead (services/intake_opening.py).
    """
    if selected is None or selected.runbook is None:
        return False
    rendered = {r.step_id: r for r in selected.rendered}
    for step in selected.runbook.steps:
        needs_judgement = False
        if step.condition:
            verdict = evaluate(step.condition, {})
            if verdict is False:
                continue
            needs_judgement = verdict is None
        if step.breakpoint:
            return False
        shown = rendered.get(step.id)
        command = shown.command if shown else None
        req = requirement(
            step, mode, has_command=command is not None, needs_judgement=needs_judgement
        )
        return req is Requirement.AUTO and not (shown and shown.refused)
    return False


def slot_scopes(runbook_id: str, service: str) -> list[str]:
    """The blast-radius scopes an automatic step takes a slot in: its runbook's and service's."""
    return [f"runbook:{runbook_id}", f"service:{service}"]


def describe(req: Requirement) -> str:
    return {
        Requirement.AUTO: "runs on its own",
        Requirement.APPROVE: "waits for one approval",
        Requirement.CONFIRM: "waits for an explicit confirmation naming the step",
        Requirement.REPORT: "a human performs it and reports what happened",
    }[req]


def confirmation_matches(typed: str | None, step: Step) -> bool:
    """A dangerous step is confirmed by typing its id or its title (case and spacing ignored)."""
    if typed is None:
        return False
    norm = " ".join(typed.split()).casefold()
    return norm in {step.id.casefold(), " ".join(step.title.split()).casefold()}


def start_mode(
    trust: RunbookTrust | None,
    kill_switches: Sequence[KillSwitch],
    service: str,
    runbook_id: str | None,
) -> tuple[Mode, str]:
    """The mode a new incident starts in: the runbook's, unless a kill switch covers it."""
    for switch in kill_switches:
        if switch.engaged and switch.covers(service, runbook_id):
            return Mode.READ_ALONG, (
                f"kill switch {switch.label} engaged by {switch.actor}: {switch.reason}"
            )
    if trust is None:
        return Mode.COPILOT, "default for a new runbook"
    return trust.mode, trust.reason
