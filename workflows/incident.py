"""IncidentWorkflow: one durable workflow per incident; its event history is the audit trail.

It only decides: which step runs next, who must approve it, when to escalate, what to undo.
Every side effect (commands, database, paging) is an activity. Human input arrives as validated
updates, so a refused approval never reaches history and an accepted one records its approver.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.commands import CommandRunner
    from activities.escalation import EscalationActivities
    from activities.runbooks import RunbookActivities
    from domain.conditions import StepOutcome, evaluate
    from schemas.alert import Alert, AlertStatus
    from schemas.incident import (
        ApprovalDecision,
        Escalation,
        HumanAction,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        InterruptedStepDecision,
        RenderedStep,
        RunCommandInput,
        RunCommandResult,
        SelectedRunbook,
        SelectRunbookInput,
        StepState,
        StepView,
        TimelineEntry,
    )
    from schemas.runbook import Step, StepRisk
    from workflows import options
    from workflows import search_attributes as sa

_MAX_KEPT_ALERTS = 200


class _Aborted(Exception):
    """A human aborted the incident: undo what was done."""


class _StepFailed(Exception):
    """A step failed for good: undo what was done."""


class _Resolved(Exception):
    """The problem is gone (alert cleared at its source, or a human resolved it): stop here."""


@workflow.defn
class IncidentWorkflow:
    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        alert = inp.alert
        self._inp = inp
        self._state = IncidentState(
            id=inp.incident_id,
            status=IncidentStatus.TRIGGERED,
            service=alert.service,
            severity=alert.severity,
            title=alert.title,
            opened_at=workflow.now(),
            alerts=[alert],
            alert_deliveries=0,  # every delivery, the first included, arrives as a signal
        )
        self._seen_events: set[str] = {alert.event_id}
        self._steps: dict[str, Step] = {}
        self._rendered: dict[str, RenderedStep] = {}
        self._approvals: dict[str, ApprovalDecision] = {}
        self._interruption_decisions: dict[str, InterruptedStepDecision] = {}
        self._waiting_for_approval: str | None = None
        self._waiting_for_decision: str | None = None
        self._abort: HumanAction | None = None
        self._resolution: HumanAction | None = None
        self._source_cleared = alert.status is AlertStatus.RESOLVED
        self._compensations: list[str] = []
        self._compensating = False
        self._automated = False
        self._timeline("opened", f"{alert.source.value} alert {alert.name}: {alert.title}")

    # ----------------------------------------------------------------------------- main flow

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        try:
            # Normally chosen by the API before start (decided once, replayed as input); a
            # client that did not choose gets it from a local activity (a short database read).
            selected = inp.selected
            if selected is None:
                selected = await workflow.execute_local_activity_method(
                    RunbookActivities.select_runbook,
                    SelectRunbookInput(incident_id=inp.incident_id, alert=inp.alert),
                    start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
                    retry_policy=options.CONTROL_PLANE_RETRY,
                    summary="select runbook",
                )
            self._adopt(selected)
            if selected.runbook is None:
                await self._wait_for_human_resolution()
            else:
                await self._run_steps()
                self._close(IncidentStatus.RESOLVED, "runbook completed")
        except _Resolved as resolved:
            self._close(IncidentStatus.RESOLVED, str(resolved))
        except _Aborted:
            reason = self._abort.reason if self._abort else ""
            await self._compensate()
            self._close(IncidentStatus.ABORTED, f"aborted by {self._abort_actor()}: {reason}")
        except _StepFailed as failed:
            await self._compensate()
            self._close(IncidentStatus.ROLLED_BACK, str(failed))
        except asyncio.CancelledError:
            # Workflow cancellation (e.g. from the Temporal UI): undo, then end as CANCELED.
            await self._compensate()
            self._close(IncidentStatus.ABORTED, "workflow cancelled")
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _adopt(self, selected: SelectedRunbook) -> None:
        self._state.match_reason = selected.reason
        runbook = selected.runbook
        if runbook is None:
            self._timeline("no_runbook", selected.reason)
            workflow.set_current_details(f"No runbook matched. {selected.reason}")
            return
        self._state.runbook = runbook.id
        self._state.runbook_title = runbook.title
        self._state.runbook_version = runbook.version
        self._state.variables = dict(selected.variables)
        self._state.missing_variables = list(selected.missing_variables)
        rendered = {r.step_id: r for r in selected.rendered}
        for step in runbook.steps:
            self._steps[step.id] = step
            self._rendered[step.id] = rendered.get(
                step.id, RenderedStep(step_id=step.id, command=None, rollback=None)
            )
            self._state.steps.append(
                StepView(
                    id=step.id,
                    title=step.title,
                    risk=step.risk,
                    command=self._rendered[step.id].command,
                    rollback=self._rendered[step.id].rollback,
                    condition=step.condition,
                    instructions=step.instructions,
                )
            )
        if not self._inp.selected:  # chosen by the client before start: already set at start
            workflow.upsert_search_attributes(
                [sa.RUNBOOK_ID.value_set(runbook.id), sa.RUNBOOK_VERSION.value_set(runbook.version)]
            )
        self._timeline("runbook_matched", f"{runbook.id} v{runbook.version}: {selected.reason}")
        if selected.missing_variables:
            self._timeline(
                "variables_missing",
                "no value for "
                + ", ".join(selected.missing_variables)
                + "; steps that need them become manual",
            )

    async def _run_steps(self) -> None:
        for view in self._state.steps:
            self._check_interrupts()
            step = self._steps[view.id]
            command = self._rendered[view.id].command
            needs_judgement = False
            if step.condition:
                verdict = evaluate(step.condition, self._outcomes())
                if verdict is False:
                    self._finish_step(
                        view, StepState.SKIPPED, note=f"condition not met: {step.condition}"
                    )
                    continue
                needs_judgement = verdict is None
            automatic = not (step.risk.needs_approval or needs_judgement or command is None)
            if not automatic:
                decision = await self._await_approval(view, step)
                if decision.decision == "reject":
                    self._finish_step(
                        view, StepState.SKIPPED, note=f"rejected by {decision.approver}"
                    )
                    continue
                if command is None:
                    self._finish_step(
                        view, StepState.SUCCEEDED, note=f"done by hand ({decision.approver})"
                    )
                    continue
            if command is not None:
                if automatic and not self._automated:
                    self._automated = True
                    workflow.upsert_search_attributes([sa.AUTOMATED.value_set(True)])
                await self._execute(view, step, command)

    async def _wait_for_human_resolution(self) -> None:
        await workflow.wait_condition(
            lambda: self._resolution is not None or self._abort is not None or self._source_cleared
        )
        self._check_interrupts()

    def _check_interrupts(self) -> None:
        if self._abort is not None:
            raise _Aborted()
        if self._resolution is not None:
            reason = f": {self._resolution.reason}" if self._resolution.reason else ""
            raise _Resolved(f"resolved by {self._resolution.actor}{reason}")
        if self._source_cleared and (self._inp.resolve_on_alert_clear or not self._steps):
            raise _Resolved("alert resolved at its source")

    # ----------------------------------------------------------------------------- approvals

    async def _await_approval(self, view: StepView, step: Step) -> ApprovalDecision:
        self._waiting_for_approval = view.id
        view.state = StepState.AWAITING_APPROVAL
        self._state.current_step = view.id
        if self._state.status is not IncidentStatus.ESCALATED:
            self._set_status(IncidentStatus.AWAITING_APPROVAL)
        workflow.set_current_details(
            f"Step '{view.title}' ({view.risk.value}) awaits approval: {view.command or 'manual'}"
        )
        self._timeline("approval_requested", f"{view.id}: {view.title} ({view.risk.value})")
        levels = self._inp.escalation.levels
        level = 0
        try:
            while True:
                timeout = (
                    timedelta(seconds=step.approval_timeout_s) if level < len(levels) else None
                )
                try:
                    await workflow.wait_condition(
                        lambda: (
                            view.id in self._approvals
                            or self._abort is not None
                            or self._resolution is not None
                            or (self._source_cleared and self._inp.resolve_on_alert_clear)
                        ),
                        timeout=timeout,
                        timeout_summary=f"approval deadline: {view.title}",
                    )
                    break
                except TimeoutError:
                    await self._escalate(
                        level,
                        levels[level],
                        f"step '{view.title}' not approved within {step.approval_timeout_s}s",
                        view.id,
                    )
                    level += 1
        finally:
            self._waiting_for_approval = None
        self._check_interrupts()
        decision = self._approvals[view.id]
        view.approved_by = decision.approver
        view.approved_at = workflow.now()
        view.approval_comment = decision.comment
        self._set_status(IncidentStatus.MITIGATING)
        return decision

    async def _escalate(self, level: int, target: str, reason: str, step_id: str | None) -> None:
        self._set_status(IncidentStatus.ESCALATED)
        workflow.upsert_search_attributes([sa.ESCALATED.value_set(True)])
        escalation = await workflow.execute_activity_method(
            EscalationActivities.record_escalation,
            Escalation(
                incident_id=self._state.id,
                level=level + 1,
                target=target,
                reason=reason,
                step_id=step_id,
                at=workflow.now(),
            ),
            start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
            retry_policy=options.CONTROL_PLANE_RETRY,
            summary=f"escalate to {target}",
        )
        self._state.escalations.append(escalation)
        self._timeline("escalated", f"level {level + 1} ({target}): {reason}")

    # ----------------------------------------------------------------------------- execution

    async def _execute(self, view: StepView, step: Step, command: str) -> None:
        while True:
            self._set_status(IncidentStatus.MITIGATING)
            view.state = StepState.RUNNING
            view.started_at = workflow.now()
            self._state.current_step = view.id
            workflow.set_current_details(f"Running step '{view.title}': {command}")
            try:
                result = await self._run_command(
                    view.id, command, step.timeout_s, step.risk, "step"
                )
            except ActivityError as err:
                outcome = self._failure_outcome(err)
                if outcome is not None:
                    self._record_result(view, outcome)
                if self._lost_agent(err) and step.risk is not StepRisk.SAFE:
                    action = await self._ask_human_about(view, "the agent was lost while it ran")
                    if action == "retry":
                        continue
                    if action == "skip":
                        self._finish_step(
                            view, StepState.SKIPPED, note="skipped after interruption"
                        )
                        return
                    raise _Aborted() from None
                self._finish_step(view, StepState.FAILED, error=_describe(err))
                if step.continue_on_failure:
                    return
                if not self._compensations:
                    # Nothing to undo: closing would leave the problem open; a human decides.
                    action = await self._ask_human_about(view, f"it failed ({_describe(err)})")
                    if action == "retry":
                        continue
                    if action == "skip":
                        view.state = StepState.SKIPPED
                        view.note = "skipped after failure"
                        return
                    raise _Aborted() from None
                raise _StepFailed(f"step {view.id} failed: {_describe(err)}") from None
            self._record_result(view, result)
            self._finish_step(view, StepState.SUCCEEDED)
            if self._rendered[view.id].rollback:
                self._compensations.append(view.id)
                self._state.compensations = list(self._compensations)
            return

    async def _run_command(
        self, step_id: str, command: str, timeout_s: int, risk: StepRisk, purpose: str
    ) -> RunCommandResult:
        """Run on the agent, racing a human's abort; an abort cancels and waits for the agent."""
        task = asyncio.ensure_future(
            workflow.execute_activity_method(
                CommandRunner.run_command,
                RunCommandInput(
                    incident_id=self._state.id,
                    step_id=step_id,
                    command=command,
                    timeout_s=timeout_s,
                    purpose="rollback" if purpose == "rollback" else "step",
                ),
                task_queue=self._inp.agent_task_queue,
                start_to_close_timeout=options.command_timeout(timeout_s),
                heartbeat_timeout=options.COMMAND_HEARTBEAT_TIMEOUT,
                retry_policy=options.command_retry(risk)
                if purpose == "step"
                else options.AT_MOST_ONCE,
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=f"{purpose} {step_id}: {self._titles().get(step_id, step_id)}",
            )
        )
        if purpose == "rollback":
            return await task
        await workflow.wait_condition(lambda: task.done() or self._abort is not None)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ActivityError):
                await task
            raise _Aborted()
        return task.result()

    async def _ask_human_about(self, view: StepView, why: str, abortable: bool = True) -> str:
        """Stop and let a person choose retry / skip / abort; nothing runs twice on its own."""
        view.state = StepState.INTERRUPTED
        view.error = why
        self._waiting_for_decision = view.id
        self._interruption_decisions.pop(view.id, None)
        self._set_status(IncidentStatus.NEEDS_HUMAN)
        message = f"Step '{view.title}' needs a human: {why}. It may or may not have taken effect."
        workflow.set_current_details(message + " Decide: retry, skip or abort.")
        self._timeline("needs_human", message)
        try:
            await workflow.wait_condition(
                lambda: (
                    view.id in self._interruption_decisions
                    or (abortable and self._abort is not None)
                )
            )
        finally:
            self._waiting_for_decision = None
        if view.id not in self._interruption_decisions:
            return "abort"
        decision = self._interruption_decisions[view.id]
        self._timeline("human_decision", f"{decision.action} {view.id}", decision.actor)
        return decision.action

    # ----------------------------------------------------------------------------- rollback

    async def _compensate(self) -> None:
        """Undo completed steps in reverse order; a failed undo stops and asks a human."""
        views = {v.id: v for v in self._state.steps}
        self._compensating = bool(self._compensations)
        while self._compensations:
            self._set_status(IncidentStatus.ROLLING_BACK)
            step_id = self._compensations[-1]
            view = views[step_id]
            rollback = self._rendered[step_id].rollback or ""
            self._timeline("rollback_started", f"{step_id}: {rollback}")
            try:
                result = await self._run_command(
                    step_id, rollback, self._steps[step_id].timeout_s, view.risk, "rollback"
                )
            except ActivityError as err:
                outcome = self._failure_outcome(err)
                view.rollback_exit_code = outcome.exit_code if outcome else None
                view.rollback_output = (outcome.stdout + outcome.stderr) if outcome else ""
                view.state = StepState.ROLLBACK_FAILED
                self._timeline("rollback_failed", f"{step_id}: {_describe(err)}")
                action = await self._ask_human_about(
                    view, f"its rollback failed ({_describe(err)})", abortable=False
                )
                if action == "retry":
                    continue
                if action == "abort":
                    self._timeline("rollback_stopped", "remaining rollbacks left to humans")
                    return
                self._compensations.pop()
                continue
            view.rollback_exit_code = result.exit_code
            view.rollback_output = result.stdout + result.stderr
            view.state = StepState.ROLLED_BACK
            self._compensations.pop()
            self._state.compensations = list(self._compensations)
            self._timeline("rolled_back", step_id)

    # ----------------------------------------------------------------------------- handlers

    @workflow.signal(description="An alert (or a repeat of it) for this incident")
    def alert_received(self, alert: Alert) -> None:
        self._state.alert_deliveries += 1
        if alert.event_id in self._seen_events:
            return
        self._seen_events.add(alert.event_id)
        if len(self._state.alerts) < _MAX_KEPT_ALERTS:
            self._state.alerts.append(alert)
        if alert.status is AlertStatus.RESOLVED:
            self._source_cleared = True
            self._timeline("alert_resolved", f"{alert.source.value} reports {alert.name} resolved")
        else:
            self._source_cleared = False
            self._timeline("alert_repeated", f"{alert.name}: {alert.title}")

    @workflow.update(description="Approve or reject the step that is waiting for approval")
    def approve_step(self, decision: ApprovalDecision) -> str:
        self._approvals[decision.step_id] = decision
        self._acknowledge_implicitly(decision.approver)
        verb = "approved" if decision.decision == "approve" else "rejected"
        self._timeline(
            f"step_{verb}", f"{decision.step_id} via {decision.channel}", decision.approver
        )
        return f"step {decision.step_id} {verb} by {decision.approver}"

    @approve_step.validator
    def _validate_approve_step(self, decision: ApprovalDecision) -> None:
        self._refuse_if_closed()
        if decision.step_id not in self._steps:
            raise ValueError(f"incident {self._state.id} has no step {decision.step_id!r}")
        if decision.step_id in self._approvals:
            earlier = self._approvals[decision.step_id]
            raise ValueError(f"step {decision.step_id!r} was already decided by {earlier.approver}")
        if self._waiting_for_approval != decision.step_id:
            current = self._waiting_for_approval or "none"
            raise ValueError(
                f"step {decision.step_id!r} is not waiting for approval (waiting: {current})"
            )

    @workflow.update(description="Decide about an interrupted step or failed rollback")
    def decide_step(self, decision: InterruptedStepDecision) -> str:
        self._interruption_decisions[decision.step_id] = decision
        return f"{decision.action} {decision.step_id} by {decision.actor}"

    @decide_step.validator
    def _validate_decide_step(self, decision: InterruptedStepDecision) -> None:
        self._refuse_if_closed(allow_rolling_back=True)
        if self._waiting_for_decision != decision.step_id:
            current = self._waiting_for_decision or "none"
            raise ValueError(f"step {decision.step_id!r} needs no decision (waiting: {current})")

    @workflow.update(description="Acknowledge the incident: a human is on it")
    def acknowledge(self, action: HumanAction) -> str:
        self._acknowledge_implicitly(action.actor)
        return f"acknowledged by {action.actor}"

    @acknowledge.validator
    def _validate_acknowledge(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if self._state.acknowledged_by is not None:
            raise ValueError(f"already acknowledged by {self._state.acknowledged_by}")

    @workflow.update(description="Abort: stop the running step and roll back what was done")
    def abort(self, action: HumanAction) -> str:
        self._abort = action
        self._timeline("abort_requested", action.reason or "no reason given", action.actor)
        return f"abort requested by {action.actor}"

    @abort.validator
    def _validate_abort(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if self._abort is not None:
            raise ValueError(f"abort already requested by {self._abort.actor}")

    @workflow.update(description="Resolve by hand: the problem is fixed, stop the runbook")
    def resolve(self, action: HumanAction) -> str:
        self._resolution = action
        self._timeline("resolve_requested", action.reason or "resolved by hand", action.actor)
        return f"resolved by {action.actor}"

    @resolve.validator
    def _validate_resolve(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if self._resolution is not None:
            raise ValueError(f"already resolved by {self._resolution.actor}")

    @workflow.query(description="The full current state of the incident")
    def state(self) -> IncidentState:
        return self._state

    # ----------------------------------------------------------------------------- helpers

    def _refuse_if_closed(self, allow_rolling_back: bool = False) -> None:
        status = self._state.status
        if status.is_closed or (self._compensating and not allow_rolling_back):
            raise ValueError(f"incident {self._state.id} is {status.value}")

    def _acknowledge_implicitly(self, actor: str) -> None:
        if self._state.acknowledged_by is None:
            self._state.acknowledged_by = actor
            self._state.acknowledged_at = workflow.now()
            self._timeline("acknowledged", f"by {actor}", actor)
            if self._state.status is IncidentStatus.TRIGGERED:
                self._set_status(IncidentStatus.ACKNOWLEDGED)

    def _set_status(self, status: IncidentStatus) -> None:
        if self._state.status is status:
            return
        self._state.status = status
        workflow.upsert_search_attributes([sa.STATUS.value_set(status.value)])

    def _close(self, status: IncidentStatus, outcome: str) -> None:
        self._set_status(status)
        self._state.outcome = outcome
        self._state.closed_at = workflow.now()
        self._state.current_step = None
        workflow.set_current_details(f"{status.value}: {outcome}")
        self._timeline("closed", f"{status.value}: {outcome}")

    def _timeline(self, kind: str, message: str, actor: str | None = None) -> None:
        self._state.timeline.append(
            TimelineEntry(at=workflow.now(), kind=kind, message=message, actor=actor)
        )

    def _titles(self) -> dict[str, str]:
        return {v.id: v.title for v in self._state.steps}

    def _outcomes(self) -> dict[str, StepOutcome]:
        return {
            v.id: StepOutcome(state=v.state.value, exit_code=v.exit_code, output=v.stdout)
            for v in self._state.steps
        }

    def _abort_actor(self) -> str:
        return self._abort.actor if self._abort else "unknown"

    def _finish_step(
        self, view: StepView, state: StepState, note: str = "", error: str | None = None
    ) -> None:
        view.state = state
        view.finished_at = workflow.now()
        if note:
            view.note = note
        if error is not None:
            view.error = error
        self._timeline(f"step_{state.value}", f"{view.id}: {note or error or view.title}")

    @staticmethod
    def _record_result(view: StepView, result: RunCommandResult) -> None:
        view.exit_code = result.exit_code
        view.stdout = result.stdout
        view.stderr = result.stderr
        view.attempts = result.attempt

    @staticmethod
    def _failure_outcome(err: ActivityError) -> RunCommandResult | None:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.details:
            detail = cause.details[0]
            if isinstance(detail, dict):
                return RunCommandResult.model_validate(detail)
        return None

    @staticmethod
    def _lost_agent(err: ActivityError) -> bool:
        cause = err.cause
        return isinstance(cause, ActivityTimeoutError) and cause.type in {
            TimeoutType.HEARTBEAT,
            TimeoutType.START_TO_CLOSE,
        }


def _describe(err: ActivityError) -> str:
    cause = err.cause
    return str(cause) if cause is not None else str(err)
