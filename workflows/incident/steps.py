"""The step runner: for each step, decide what it needs (its condition, the mode, the automation
gate), get that (an approval, a report), run it on the agent, and record what happened."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.conditions import evaluate
    from domain.shell import MissingVariableError, UnsafeValueError, render_checked
    from domain.trust import describe, requirement
    from schemas import search_attributes as sa
    from schemas.incident import (
        LOST_AGENT,
        ApprovalDecision,
        IncidentStatus,
        StepState,
        StepView,
    )
    from schemas.runbook import Step, StepRisk
    from schemas.trust import Requirement
    from workflows.incident.agent import Agent
    from workflows.incident.compensation import Compensation
    from workflows.incident.core import Aborted, Choice, Incident, StepFailed, Verdict, shown
    from workflows.incident.escalation import Escalator
    from workflows.incident.gate import AutomationGate
    from workflows.incident.outputs import Outputs
    from workflows.incident.versions import PATCH_ROLLBACK_REFUSES
    from workflows.incident.waiting import Waits
    from workflows.incident_record import (
        describe_failure,
        failure_result,
        lost_agent,
    )


class StepRunner:
    def __init__(
        self,
        incident: Incident,
        waits: Waits,
        gate: AutomationGate,
        escalator: Escalator,
        agent: Agent,
        compensation: Compensation,
        outputs: Outputs,
    ) -> None:
        self._i = incident
        self._waits = waits
        self._gate = gate
        self._escalator = escalator
        self._agent = agent
        self._compensation = compensation
        self._outputs = outputs

    async def run_steps(self) -> None:
        i = self._i
        for view in i.state.steps:
            await self._waits.checkpoint()
            step = i.steps[view.id]
            if view.id in i.skips:
                skip = i.skips[view.id]
                i.rec.finish_step(view, StepState.SKIPPED, note=f"skipped by {skip.actor}")
                i.rec.diverge(view.id, "skipped", skip.actor, skip.reason or "skipped ahead")
                continue
            command = i.rendered[view.id].command
            needs_judgement = False
            if step.condition:
                verdict = evaluate(step.condition, i.outcomes())
                if verdict is False:
                    note = f"condition not met: {step.condition}"
                    i.rec.finish_step(view, StepState.SKIPPED, note=note)
                    continue
                needs_judgement = verdict is None
            if step.breakpoint and not i.inp.dry_run:
                i.pause(f"breakpoint before step '{view.title}'", None)
                await self._waits.checkpoint()
            req = requirement(
                step,
                i.state.mode,
                has_command=command is not None,
                needs_judgement=needs_judgement,
            )
            if req is Requirement.AUTO and view.refused:
                req = Requirement.APPROVE  # alert values were refused: a human must decide
            if req is Requirement.AUTO and not i.inp.dry_run:
                req = await self._gate.automation_allowed(view)
            view.mode = i.state.mode
            view.requirement = req
            i.state.current_step = view.id
            if i.inp.dry_run:
                await self._plan(view, step, req, command)
                continue
            if req is Requirement.REPORT:
                await self._take_report(view)
                continue
            if req in (Requirement.APPROVE, Requirement.CONFIRM):
                decision = await self._await_approval(view, step, req)
                if Verdict(decision.decision) is Verdict.REJECT:
                    i.rec.finish_step(
                        view, StepState.SKIPPED, note=f"rejected by {decision.approver}"
                    )
                    i.rec.diverge(view.id, "rejected", decision.approver, decision.comment)
                    continue
                command = view.command  # as approved, edits included
                await self._waits.checkpoint()
            elif not i.automated:
                i.automated = True
                workflow.upsert_search_attributes([sa.AUTOMATED.value_set(True)])
            if command is not None:
                await self._execute(view, step, command)

    async def _plan(
        self, view: StepView, step: Step, req: Requirement, command: str | None
    ) -> None:
        """Dry run: say what would happen; run for real only safe reads when asked to."""
        if (
            self._i.inp.with_safe_reads
            and command is not None
            and step.risk is StepRisk.SAFE
            and req is Requirement.AUTO
        ):
            await self._execute(view, step, command)
            return
        rollback = f"; rollback: {view.rollback}" if view.rollback else "; no rollback"
        note = f"would {'run' if command else 'ask a human to do'}: {command or step.title} — "
        self._i.rec.finish_step(view, StepState.PLANNED, note=note + describe(req) + rollback)

    # ------------------------------------------------------------------------- humans

    async def _await_approval(
        self, view: StepView, step: Step, req: Requirement
    ) -> ApprovalDecision:
        i = self._i
        i.waiting_for = view.id
        view.state = StepState.AWAITING_APPROVAL
        view.approval_rule = i.rule_for(view)
        if i.state.status is not IncidentStatus.ESCALATED:
            i.rec.set_status(IncidentStatus.AWAITING_APPROVAL)
        rollback = f" Rollback: {view.rollback}" if view.rollback else " No rollback."
        confirm = f" Confirm by typing '{step.id}'." if req is Requirement.CONFIRM else ""
        refused = f" Edit before approving; not rendered: {shown(view)}." if view.refused else ""
        workflow.set_current_details(
            f"Step '{view.title}' ({view.risk.value}) awaits approval: "
            f"{view.command or 'manual'}.{rollback}{confirm}{refused}"
        )
        i.rec.timeline("approval_requested", f"{view.id}: {view.title} ({describe(req)})")
        try:
            await self._escalator.escalating_wait(view, step, lambda: view.id in i.approvals)
        finally:
            i.waiting_for = None
        decision = i.approvals[view.id]
        view.approved_by = ", ".join(a.approver for a in view.approvals) or decision.approver
        view.approved_at = workflow.now()
        view.approval_comment = decision.comment
        i.rec.set_status(IncidentStatus.MITIGATING)
        return decision

    async def _take_report(self, view: StepView) -> None:
        """Read-along: present the step; the human reports what they did, recorded like a run."""
        i = self._i
        i.waiting_for = view.id
        view.state = StepState.AWAITING_REPORT
        i.rec.set_status(IncidentStatus.AWAITING_APPROVAL)
        workflow.set_current_details(
            f"Read-along: do step '{view.title}' by hand and report: {view.command or view.title}"
        )
        i.rec.timeline("report_requested", f"{view.id}: {view.title}")
        try:
            await self._escalator.escalating_wait(
                view, i.steps[view.id], lambda: view.id in i.reports
            )
        finally:
            i.waiting_for = None
        report = i.reports[view.id]
        view.approved_by = report.actor
        view.approved_at = workflow.now()
        view.stdout = report.output
        i.rec.set_status(IncidentStatus.MITIGATING)
        if report.outcome == "skipped":
            i.rec.finish_step(view, StepState.SKIPPED, note=f"skipped by {report.actor}")
            i.rec.diverge(view.id, "skipped", report.actor, report.note or "skipped")
            return
        note = f"done by hand ({report.actor})" + (f": {report.note}" if report.note else "")
        i.rec.finish_step(view, StepState.SUCCEEDED, note=note)
        if report.outcome == "changed":
            i.rec.diverge(view.id, "reported_changed", report.actor, report.note)

    # ------------------------------------------------------------------------- running

    async def _capture(self, view: StepView, step: Step) -> None:
        """Read the values the rollback needs (e.g. the replica count) just before the step."""
        i = self._i
        rendered = i.rendered[view.id]
        for name, command in rendered.capture.items():
            result = await self._agent.run_command(
                view.id, command, 60, StepRisk.SAFE, f"capture {name}"
            )
            view.captured[name] = result.stdout.strip()
        if step.rollback and len(view.captured) == len(rendered.capture):
            values = {**i.state.variables, **view.captured}
            declared = frozenset(values)
            filled = render_checked(step.rollback, values, declared)
            rollback: str | None = filled.command
            if filled.missing:
                err = MissingVariableError(filled.missing)
                i.rec.timeline("rollback_unavailable", f"{view.id}: {err}")
                rollback = None
            elif filled.refused and self._i.versions.has(PATCH_ROLLBACK_REFUSES):
                # A captured value that cannot be placed safely: no automatic rollback.
                why = UnsafeValueError(filled.refused)
                i.rec.timeline("rollback_unavailable", f"{view.id}: {why}")
                rollback = None
            i.rendered[view.id] = rendered.model_copy(update={"rollback": rollback})
            view.rollback = rollback

    async def _execute(self, view: StepView, step: Step, command: str) -> None:
        i = self._i
        while True:
            i.rec.set_status(IncidentStatus.MITIGATING)
            view.state = StepState.RUNNING
            view.started_at = workflow.now()
            workflow.set_current_details(f"Running step '{view.title}': {command}")
            try:
                if i.rendered[view.id].capture:
                    await self._capture(view, step)
                result = await self._agent.run_command(
                    view.id, command, step.timeout_s, step.risk, "step"
                )
            except ActivityError as err:
                outcome = failure_result(err)
                if outcome is not None:
                    await self._outputs.keep_step(view, outcome)
                lost = lost_agent(err) and step.risk is not StepRisk.SAFE
                if not lost:
                    i.rec.finish_step(view, StepState.FAILED, error=describe_failure(err))
                    if step.continue_on_failure:
                        return
                    if i.on_failure == "rollback" and i.compensations:
                        raise StepFailed(
                            f"step {view.id} failed: {describe_failure(err)}"
                        ) from None
                why = (
                    f"{LOST_AGENT} while it ran" if lost else f"it failed ({describe_failure(err)})"
                )
                choice = await self._waits.ask_human_about(view, why)
                if choice is Choice.RETRY:
                    continue
                if choice is Choice.SKIP:
                    view.state = StepState.SKIPPED
                    view.note = "skipped after failure"
                    i.rec.diverge(view.id, "skipped", i.decider(view.id), view.note)
                    return
                if choice is Choice.ROLLBACK:
                    raise StepFailed(
                        f"step {view.id} failed; {i.decider(view.id)} chose to roll back"
                    ) from None
                raise Aborted() from None
            grant = await self._outputs.keep_step(view, result, self._gate.next_check())
            if grant is not None:
                self._gate.checked(grant)
            i.rec.finish_step(view, StepState.SUCCEEDED)
            if i.rendered[view.id].rollback:
                self._compensation.remember(view.id)
            return
