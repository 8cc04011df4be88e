"""IncidentWorkflow: one durable workflow per incident; its event history is the audit trail.

It only decides: which step runs next, who must approve it, when to escalate, what to undo.
Every side effect (commands, database, paging) is an activity. Human input arrives as validated
updates, so a refused input never reaches history and an accepted one records who gave it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.commands import CommandRunner
    from activities.escalation import EscalationActivities
    from activities.runbooks import RunbookActivities
    from activities.trust import TrustActivities
    from domain.conditions import StepOutcome, evaluate
    from domain.shell import MissingVariableError, UnsafeValueError, render_checked
    from domain.trust import confirmation_matches, describe, requirement
    from schemas import search_attributes as sa
    from schemas.alert import Alert, AlertStatus
    from schemas.incident import (
        LOST_AGENT,
        Approval,
        ApprovalDecision,
        ApprovalRule,
        CommanderChange,
        Escalation,
        HumanAction,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        InterruptedStepDecision,
        ModeChange,
        RenderedStep,
        ResolvePages,
        RunCommandInput,
        RunCommandResult,
        SelectedRunbook,
        SelectRunbookInput,
        StepAction,
        StepReport,
        StepState,
        StepView,
    )
    from schemas.runbook import Step, StepRisk
    from schemas.slack import SlackSyncInput
    from schemas.trust import KillSwitch, Mode, Requirement, RunOutcome, SlotRequest
    from workflows import approvals, closing, options
    from workflows.incident_record import (
        IncidentRecord,
        closed_message,
        describe_failure,
        failure_result,
        lost_agent,
    )

_MAX_KEPT_ALERTS = 200
#: Runs started before the contextual renderer kept a rollback whatever its captured values;
#: on replay they still do (the refused value stays an inert `{{ name }}`, never the value).
_PATCH_ROLLBACK_REFUSES = "rollback-refuses-unsafe-captured-values"


class _Aborted(Exception):
    """A human aborted the incident: undo what was done."""


class _StepFailed(Exception):
    """A step failed for good (or a human chose to roll back): undo what was done."""


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
            mode=inp.mode,
            mode_reason=inp.mode_reason,
            kill_switches=[k for k in inp.kill_switches if k.engaged],
            dry_run=inp.dry_run,
            commander=inp.commander,
            reopens=inp.reopens,
            run_id=workflow.info().run_id,
        )
        self._rec = IncidentRecord(self._state)
        self._seen_events: set[str] = {alert.event_id}
        self._steps: dict[str, Step] = {}
        self._rendered: dict[str, RenderedStep] = {}
        self._on_failure = "ask"
        self._approvals: dict[str, ApprovalDecision] = {}
        self._reports: dict[str, StepReport] = {}
        self._decisions: dict[str, InterruptedStepDecision] = {}
        self._skips: dict[str, StepAction] = {}
        self._undo_requests: list[StepAction] = []
        self._waiting_for: str | None = None  # step id awaiting approval or a report
        self._waiting_for_decision: str | None = None
        self._abort: HumanAction | None = None
        self._resolution: HumanAction | None = None
        self._firing_keys: set[str] = (
            set() if alert.status is AlertStatus.RESOLVED else {alert.dedup_key}
        )
        self._source_cleared = alert.status is AlertStatus.RESOLVED
        self._background: list[asyncio.Task[None]] = []
        self._compensations: list[str] = []
        self._compensating = False
        self._automated = False
        self._paused_by_kill_switch = False
        self._holding = False  # the runbook ended; only the hold decides what clears it
        self._rec.timeline("opened", f"{alert.source.value} alert {alert.name}: {alert.title}")
        self._rec.timeline("mode", f"{inp.mode.value}: {inp.mode_reason}")
        if inp.reopens is not None:
            self._rec.timeline(
                "reopened",
                f"fired again after run {inp.reopens.run_id} closed "
                f"({inp.reopens.status}) at {inp.reopens.closed_at}",
            )

    # ----------------------------------------------------------------------------- main flow

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        self._start_background()
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
                await self._wait(lambda: False, what="a human to resolve")
            else:
                await self._run_steps()
                outcome = (
                    "dry run complete: nothing was executed"
                    if inp.dry_run
                    else ("runbook completed")
                )
                if (
                    not inp.dry_run
                    and inp.hold_open_while_firing
                    and workflow.patched(closing.PATCH_HOLD_OPEN)
                ):
                    outcome = await self._hold_open()
                self._rec.close(IncidentStatus.RESOLVED, outcome, completed=True)
        except _Resolved as resolved:
            self._rec.close(IncidentStatus.RESOLVED, str(resolved))
        except _Aborted:
            reason = self._abort.reason if self._abort else ""
            actor = self._abort.actor if self._abort else "unknown"
            await self._compensate()
            self._rec.close(IncidentStatus.ABORTED, f"aborted by {actor}: {reason}")
        except _StepFailed as failed:
            await self._compensate()
            self._rec.close(IncidentStatus.ROLLED_BACK, str(failed))
        except asyncio.CancelledError:
            # Workflow cancellation (e.g. from the Temporal UI): undo, then end as CANCELED.
            await self._compensate()
            self._rec.close(IncidentStatus.ABORTED, "workflow cancelled")
            await self._after_close()
            await self._notify_close()
            raise
        await self._after_close()
        await self._notify_close()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _hold_open(self) -> str:
        """The runbook ended: stay open while an alert fires or a step failed (see closing).

        Returns the outcome when the alerts cleared; a person's resolve or abort raises as in
        any other wait, and escalation timers and Slack keep running meanwhile.
        """
        firing = [a.name for a in self._state.alerts if a.dedup_key in self._firing_keys]
        tolerated = frozenset(s.id for s in self._steps.values() if s.continue_on_failure)
        hold = closing.hold_after_runbook(self._state, firing, self._source_cleared, tolerated)
        if hold is None:  # the alerts cleared while the last steps ran
            return "runbook completed; alert resolved at its source"
        self._holding = True
        self._state.current_step = None
        self._rec.set_status(hold.status)
        workflow.set_current_details(hold.details)
        self._rec.timeline("held_open", hold.details)
        # No deadline: it returns only when the alerts cleared (a person's word raises).
        await self._wait(
            lambda: self._source_cleared and not hold.needs_person,
            what="alert to resolve" if not hold.needs_person else "a human to resolve",
        )
        return "runbook completed; alert resolved at its source"

    def _adopt(self, selected: SelectedRunbook) -> None:
        self._state.match_reason = selected.reason
        self._state.match_confidence = selected.confidence
        self._state.match_method = selected.method
        self._state.match_candidates = list(selected.candidates)
        self._state.match_close = list(selected.close)
        runbook = selected.runbook
        if runbook is None:
            self._rec.timeline("no_runbook", selected.reason)
            workflow.set_current_details(f"No runbook matched. {selected.reason}")
            return
        self._on_failure = runbook.on_failure
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
                    refused=list(self._rendered[step.id].refused),
                )
            )
            if self._rendered[step.id].refused:
                self._rec.timeline("values_refused", f"{step.id}: {_shown(self._state.steps[-1])}")
        if not self._inp.selected:  # chosen by the client before start: already set at start
            workflow.upsert_search_attributes(
                [sa.RUNBOOK_ID.value_set(runbook.id), sa.RUNBOOK_VERSION.value_set(runbook.version)]
            )
        self._rec.timeline("runbook_matched", f"{runbook.id} v{runbook.version}: {selected.reason}")
        if selected.missing_variables:
            self._rec.timeline(
                "variables_missing",
                "no value for "
                + ", ".join(selected.missing_variables)
                + "; steps that need them become manual",
            )
        covering = self._covering_kill_switch()
        if covering is not None and self._state.mode is not Mode.READ_ALONG:
            self._set_mode(
                Mode.READ_ALONG,
                f"kill switch {covering.label} engaged by {covering.actor}: {covering.reason}",
                covering.actor,
            )

    async def _run_steps(self) -> None:
        for view in self._state.steps:
            await self._checkpoint()
            step = self._steps[view.id]
            if view.id in self._skips:
                skip = self._skips[view.id]
                self._rec.finish_step(view, StepState.SKIPPED, note=f"skipped by {skip.actor}")
                self._rec.diverge(view.id, "skipped", skip.actor, skip.reason or "skipped ahead")
                continue
            command = self._rendered[view.id].command
            needs_judgement = False
            if step.condition:
                verdict = evaluate(step.condition, self._outcomes())
                if verdict is False:
                    note = f"condition not met: {step.condition}"
                    self._rec.finish_step(view, StepState.SKIPPED, note=note)
                    continue
                needs_judgement = verdict is None
            if step.breakpoint and not self._inp.dry_run:
                self._pause(f"breakpoint before step '{view.title}'", None)
                await self._checkpoint()
            req = requirement(
                step,
                self._state.mode,
                has_command=command is not None,
                needs_judgement=needs_judgement,
            )
            if req is Requirement.AUTO and view.refused:
                req = Requirement.APPROVE  # alert values were refused: a human must decide
            if req is Requirement.AUTO and not self._inp.dry_run:
                req = await self._automation_allowed(view)
            view.mode = self._state.mode
            view.requirement = req
            self._state.current_step = view.id
            if self._inp.dry_run:
                await self._plan(view, step, req, command)
                continue
            if req is Requirement.REPORT:
                await self._take_report(view)
                continue
            if req in (Requirement.APPROVE, Requirement.CONFIRM):
                decision = await self._await_approval(view, step, req)
                if decision.decision == "reject":
                    self._rec.finish_step(
                        view, StepState.SKIPPED, note=f"rejected by {decision.approver}"
                    )
                    self._rec.diverge(view.id, "rejected", decision.approver, decision.comment)
                    continue
                command = view.command  # as approved, edits included
                await self._checkpoint()
            elif not self._automated:
                self._automated = True
                workflow.upsert_search_attributes([sa.AUTOMATED.value_set(True)])
            if command is not None:
                await self._execute(view, step, command)

    async def _plan(
        self, view: StepView, step: Step, req: Requirement, command: str | None
    ) -> None:
        """Dry run: say what would happen; run for real only safe reads when asked to."""
        if (
            self._inp.with_safe_reads
            and command is not None
            and step.risk is StepRisk.SAFE
            and req is Requirement.AUTO
        ):
            await self._execute(view, step, command)
            return
        rollback = f"; rollback: {view.rollback}" if view.rollback else "; no rollback"
        note = f"would {'run' if command else 'ask a human to do'}: {command or step.title} — "
        self._rec.finish_step(view, StepState.PLANNED, note=note + describe(req) + rollback)

    # ----------------------------------------------------------------------------- waiting

    async def _wait(
        self,
        done: Callable[[], bool],
        *,
        what: str,
        within: timedelta | None = None,
    ) -> bool:
        """Wait for `done`, serving undo requests meanwhile; False when `within` passed first.

        An abort, a manual resolution or the alert clearing interrupts any wait (by raising).
        """
        deadline = workflow.now() + within if within is not None else None
        while True:
            remaining = None if deadline is None else deadline - workflow.now()
            if remaining is not None and remaining <= timedelta(0):
                return False
            try:
                await workflow.wait_condition(
                    lambda: done() or bool(self._undo_requests) or self._interrupted(),
                    timeout=remaining,
                    timeout_summary=what,
                )
            except TimeoutError:
                return False
            self._check_interrupts()
            if self._undo_requests:
                await self._serve_undo_requests()
                continue
            if done():
                return True

    def _interrupted(self) -> bool:
        return (
            self._abort is not None
            or self._resolution is not None
            or (self._source_cleared and self._clears_on_source() and not self._holding)
        )

    def _clears_on_source(self) -> bool:
        return self._inp.resolve_on_alert_clear or not self._steps

    def _check_interrupts(self) -> None:
        if self._abort is not None:
            raise _Aborted()
        if self._resolution is not None:
            reason = f": {self._resolution.reason}" if self._resolution.reason else ""
            raise _Resolved(f"resolved by {self._resolution.actor}{reason}")
        if self._source_cleared and self._clears_on_source() and not self._holding:
            raise _Resolved("alert resolved at its source")

    async def _checkpoint(self) -> None:
        """Between steps: honour interrupts, undo requests and a pause (nothing new starts)."""
        self._check_interrupts()
        if self._undo_requests:
            await self._serve_undo_requests()
        if self._state.paused:
            self._rec.set_status(IncidentStatus.PAUSED)
            workflow.set_current_details(f"Paused: {self._state.pause_reason}")
            await self._wait(lambda: not self._state.paused, what="paused")
            self._rec.set_status(IncidentStatus.MITIGATING)

    def _pause(self, reason: str, actor: str | None, by_kill_switch: bool = False) -> None:
        self._state.paused = True
        self._state.pause_reason = reason
        self._paused_by_kill_switch = by_kill_switch
        self._rec.timeline("paused", reason, actor)

    async def _automation_allowed(self, view: StepView) -> Requirement:
        """Right before an automatic step: a kill switch pauses it; no blast-radius slot, and a
        human must approve it. Both are checked fresh (a local activity reading the database)."""
        while True:
            check = await workflow.execute_local_activity_method(
                TrustActivities.check_automation,
                SlotRequest(
                    incident_id=self._state.id,
                    runbook_id=self._state.runbook or "",
                    service=self._state.service,
                    limit=0 if self._state.automation_slot else self._inp.blast_radius,
                ),
                start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
                retry_policy=options.CONTROL_PLANE_RETRY,
                summary="automation check",
            )
            known = {k.label for k in self._state.kill_switches}
            current = {k.label for k in check.kill_switches}
            for switch in check.kill_switches:
                if switch.label not in known:
                    self.kill_switch(switch)
            for switch in list(self._state.kill_switches):
                if switch.label not in current:  # lifted while its signal did not reach us
                    self.kill_switch(switch.model_copy(update={"engaged": False}))
            covering = self._covering_kill_switch()
            if covering is None:
                break
            self._pause(
                f"kill switch {covering.label} ({covering.actor}: {covering.reason}); "
                f"automatic step '{view.title}' held",
                covering.actor,
                by_kill_switch=True,
            )
            await self._checkpoint()
            if self._state.mode is Mode.READ_ALONG:  # taken over while paused
                return Requirement.REPORT
        if self._inp.blast_radius and not self._state.automation_slot:
            self._state.automation_slot = check.granted
            if not check.granted:
                self._rec.timeline("blast_radius", check.reason)
                view.note = f"waits for a human: {check.reason}"
                return Requirement.APPROVE
        return Requirement.AUTO

    def _covering_kill_switch(self) -> KillSwitch | None:
        for switch in self._state.kill_switches:
            if switch.engaged and switch.covers(self._state.service, self._state.runbook):
                return switch
        return None

    # ----------------------------------------------------------------------------- approvals

    async def _await_approval(
        self, view: StepView, step: Step, req: Requirement
    ) -> ApprovalDecision:
        self._waiting_for = view.id
        view.state = StepState.AWAITING_APPROVAL
        view.approval_rule = self._rule_for(view)
        if self._state.status is not IncidentStatus.ESCALATED:
            self._rec.set_status(IncidentStatus.AWAITING_APPROVAL)
        rollback = f" Rollback: {view.rollback}" if view.rollback else " No rollback."
        confirm = f" Confirm by typing '{step.id}'." if req is Requirement.CONFIRM else ""
        refused = f" Edit before approving; not rendered: {_shown(view)}." if view.refused else ""
        workflow.set_current_details(
            f"Step '{view.title}' ({view.risk.value}) awaits approval: "
            f"{view.command or 'manual'}.{rollback}{confirm}{refused}"
        )
        self._rec.timeline("approval_requested", f"{view.id}: {view.title} ({describe(req)})")
        try:
            await self._escalating_wait(view, step, lambda: view.id in self._approvals)
        finally:
            self._waiting_for = None
        decision = self._approvals[view.id]
        view.approved_by = ", ".join(a.approver for a in view.approvals) or decision.approver
        view.approved_at = workflow.now()
        view.approval_comment = decision.comment
        self._rec.set_status(IncidentStatus.MITIGATING)
        return decision

    async def _take_report(self, view: StepView) -> None:
        """Read-along: present the step; the human reports what they did, recorded like a run."""
        self._waiting_for = view.id
        view.state = StepState.AWAITING_REPORT
        self._rec.set_status(IncidentStatus.AWAITING_APPROVAL)
        workflow.set_current_details(
            f"Read-along: do step '{view.title}' by hand and report: {view.command or view.title}"
        )
        self._rec.timeline("report_requested", f"{view.id}: {view.title}")
        try:
            await self._escalating_wait(
                view, self._steps[view.id], lambda: view.id in self._reports
            )
        finally:
            self._waiting_for = None
        report = self._reports[view.id]
        view.approved_by = report.actor
        view.approved_at = workflow.now()
        view.stdout = report.output
        self._rec.set_status(IncidentStatus.MITIGATING)
        if report.outcome == "skipped":
            self._rec.finish_step(view, StepState.SKIPPED, note=f"skipped by {report.actor}")
            self._rec.diverge(view.id, "skipped", report.actor, report.note or "skipped")
            return
        note = f"done by hand ({report.actor})" + (f": {report.note}" if report.note else "")
        self._rec.finish_step(view, StepState.SUCCEEDED, note=note)
        if report.outcome == "changed":
            self._rec.diverge(view.id, "reported_changed", report.actor, report.note)

    async def _escalating_wait(self, view: StepView, step: Step, done: Callable[[], bool]) -> None:
        levels = self._inp.escalation.levels
        level = 0
        while True:
            timeout = timedelta(seconds=step.approval_timeout_s) if level < len(levels) else None
            if await self._wait(done, what=f"approval deadline: {view.title}", within=timeout):
                return
            await self._escalate(
                level,
                levels[level],
                f"step '{view.title}' not approved within {step.approval_timeout_s}s",
                view.id,
            )
            level += 1

    async def _escalate(self, level: int, target: str, reason: str, step_id: str | None) -> None:
        """Page `level`, or the next level nobody was paged at yet: a step timeout and an
        acknowledgement timeout must not both wake the same person for one incident."""
        levels = self._inp.escalation.levels
        if self._inp.notifications.ack_timeout_s or self._inp.notifications.resolve_timeout_s:
            paged = len({e.level for e in self._state.escalations})
            level = min(max(level, paged), len(levels) - 1)
            target = levels[level]
        self._rec.set_status(IncidentStatus.ESCALATED)
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
                severity=self._state.severity,
                service=self._state.service,
                title=self._state.title,
            ),
            start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
            retry_policy=options.CONTROL_PLANE_RETRY,
            summary=f"escalate to {target}",
        )
        self._state.escalations.append(escalation)
        self._rec.timeline("escalated", f"level {level + 1} ({target}): {reason}")

    # ----------------------------------------------------------------------------- execution

    async def _capture(self, view: StepView, step: Step) -> None:
        """Read the values the rollback needs (e.g. the replica count) just before the step."""
        rendered = self._rendered[view.id]
        for name, command in rendered.capture.items():
            result = await self._run_command(view.id, command, 60, StepRisk.SAFE, f"capture {name}")
            view.captured[name] = result.stdout.strip()
        if step.rollback and len(view.captured) == len(rendered.capture):
            values = {**self._state.variables, **view.captured}
            declared = frozenset(values)
            filled = render_checked(step.rollback, values, declared)
            rollback: str | None = filled.command
            if filled.missing:
                err = MissingVariableError(filled.missing)
                self._rec.timeline("rollback_unavailable", f"{view.id}: {err}")
                rollback = None
            elif filled.refused and workflow.patched(_PATCH_ROLLBACK_REFUSES):
                # A captured value that cannot be placed safely: no automatic rollback.
                why = UnsafeValueError(filled.refused)
                self._rec.timeline("rollback_unavailable", f"{view.id}: {why}")
                rollback = None
            self._rendered[view.id] = rendered.model_copy(update={"rollback": rollback})
            view.rollback = rollback

    async def _execute(self, view: StepView, step: Step, command: str) -> None:
        while True:
            self._rec.set_status(IncidentStatus.MITIGATING)
            view.state = StepState.RUNNING
            view.started_at = workflow.now()
            workflow.set_current_details(f"Running step '{view.title}': {command}")
            try:
                if self._rendered[view.id].capture:
                    await self._capture(view, step)
                result = await self._run_command(
                    view.id, command, step.timeout_s, step.risk, "step"
                )
            except ActivityError as err:
                outcome = failure_result(err)
                if outcome is not None:
                    IncidentRecord.record_result(view, outcome)
                lost = lost_agent(err) and step.risk is not StepRisk.SAFE
                if not lost:
                    self._rec.finish_step(view, StepState.FAILED, error=describe_failure(err))
                    if step.continue_on_failure:
                        return
                    if self._on_failure == "rollback" and self._compensations:
                        raise _StepFailed(
                            f"step {view.id} failed: {describe_failure(err)}"
                        ) from None
                why = (
                    f"{LOST_AGENT} while it ran" if lost else f"it failed ({describe_failure(err)})"
                )
                action = await self._ask_human_about(view, why)
                if action == "retry":
                    continue
                if action == "skip":
                    view.state = StepState.SKIPPED
                    view.note = "skipped after failure"
                    self._rec.diverge(view.id, "skipped", self._decider(view.id), view.note)
                    return
                if action == "rollback":
                    raise _StepFailed(
                        f"step {view.id} failed; {self._decider(view.id)} chose to roll back"
                    ) from None
                raise _Aborted() from None
            IncidentRecord.record_result(view, result)
            self._rec.finish_step(view, StepState.SUCCEEDED)
            if self._rendered[view.id].rollback:
                self._compensations.append(view.id)
                self._state.compensations = list(self._compensations)
            return

    async def _run_command(
        self, step_id: str, command: str, timeout_s: int, risk: StepRisk, purpose: str
    ) -> RunCommandResult:
        """Run on the agent, racing a human's abort; an abort cancels and waits for the agent."""
        title = {v.id: v.title for v in self._state.steps}.get(step_id, step_id)
        task = asyncio.ensure_future(
            workflow.execute_activity_method(
                CommandRunner.run_command,
                RunCommandInput(
                    incident_id=self._state.id,
                    step_id=step_id,
                    command=command,
                    timeout_s=timeout_s,
                    purpose="rollback" if purpose == "rollback" else "step",
                    mode=self._state.mode,
                ),
                task_queue=self._inp.agent_task_queue,
                start_to_close_timeout=options.command_timeout(timeout_s),
                heartbeat_timeout=options.COMMAND_HEARTBEAT_TIMEOUT,
                retry_policy=options.command_retry(risk)
                if purpose != "rollback"
                else options.AT_MOST_ONCE,
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=f"{purpose} {step_id}: {title}",
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
        """Stop and let a person choose; nothing runs twice, or is undone, on its own."""
        view.state = StepState.INTERRUPTED
        view.error = why
        self._waiting_for_decision = view.id
        self._decisions.pop(view.id, None)
        self._rec.set_status(IncidentStatus.NEEDS_HUMAN)
        # Only a lost agent leaves it unknown whether the command took effect; a command that
        # exited non-zero, or a rollback that failed, is known to have failed.
        unknown = " It may or may not have taken effect." if why.startswith(LOST_AGENT) else ""
        message = f"Step '{view.title}' needs a human: {why}.{unknown}"
        workflow.set_current_details(message + " Decide: retry, skip, rollback or abort.")
        self._rec.timeline("needs_human", message)
        try:
            if abortable:
                await workflow.wait_condition(
                    lambda: view.id in self._decisions or self._abort is not None
                )
            else:
                await workflow.wait_condition(lambda: view.id in self._decisions)
        finally:
            self._waiting_for_decision = None
        if view.id not in self._decisions:
            return "abort"
        decision = self._decisions[view.id]
        self._rec.timeline("human_decision", f"{decision.action} {view.id}", decision.actor)
        return decision.action

    def _decider(self, step_id: str) -> str | None:
        decision = self._decisions.get(step_id)
        return decision.actor if decision else None

    # ----------------------------------------------------------------------------- rollback

    async def _compensate(self) -> None:
        """Undo completed steps in reverse order; a failed undo stops and asks a human."""
        self._compensating = bool(self._compensations)
        while self._compensations:
            self._rec.set_status(IncidentStatus.ROLLING_BACK)
            if not await self._undo(self._compensations[-1], "rolled_back", None):
                self._rec.timeline("rollback_stopped", "remaining rollbacks left to humans")
                return

    async def _undo(self, step_id: str, kind: str, actor: str | None) -> bool:
        """Run one step's compensation; False when a human chose to stop undoing."""
        view = next(v for v in self._state.steps if v.id == step_id)
        while True:
            rollback = self._rendered[step_id].rollback or ""
            self._rec.timeline("rollback_started", f"{step_id}: {rollback}", actor)
            try:
                result = await self._run_command(
                    step_id, rollback, self._steps[step_id].timeout_s, view.risk, "rollback"
                )
            except ActivityError as err:
                outcome = failure_result(err)
                view.rollback_exit_code = outcome.exit_code if outcome else None
                view.rollback_output = (outcome.stdout + outcome.stderr) if outcome else ""
                view.state = StepState.ROLLBACK_FAILED
                self._rec.timeline("rollback_failed", f"{step_id}: {describe_failure(err)}")
                action = await self._ask_human_about(
                    view, f"its rollback failed ({describe_failure(err)})", abortable=False
                )
                if action == "retry":
                    continue
                if action in ("abort", "rollback"):
                    return False
                self._compensations.remove(step_id)
                self._state.compensations = list(self._compensations)
                return True
            view.rollback_exit_code = result.exit_code
            view.rollback_output = result.stdout + result.stderr
            view.state = StepState.ROLLED_BACK
            self._compensations.remove(step_id)
            self._state.compensations = list(self._compensations)
            self._rec.diverge(step_id, kind, actor, f"rollback ran: {rollback}")
            return True

    async def _serve_undo_requests(self) -> None:
        while self._undo_requests:
            request = self._undo_requests.pop(0)
            if request.step_id in self._compensations:
                await self._undo(request.step_id, "undone", request.actor)

    async def _after_close(self) -> None:
        """Trust bookkeeping and the blast-radius slot; both read from this incident's record."""
        if self._state.automation_slot:
            await workflow.execute_local_activity_method(
                TrustActivities.release_automation_slot,
                self._state.id,
                start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
                retry_policy=options.CONTROL_PLANE_RETRY,
                summary="release blast-radius slot",
            )
            self._state.automation_slot = False
        if self._inp.dry_run or self._state.runbook is None:
            return
        failed = any(
            s.state in (StepState.FAILED, StepState.ROLLED_BACK, StepState.ROLLBACK_FAILED)
            for s in self._state.steps
        )
        message = await workflow.execute_activity_method(
            TrustActivities.record_run_outcome,
            RunOutcome(
                incident_id=self._state.id,
                run_id=workflow.info().run_id,
                runbook_id=self._state.runbook,
                mode=self._state.mode,
                status=self._state.status.value,
                clean=self._state.clean,
                failed=failed or self._state.status is not IncidentStatus.RESOLVED,
            ),
            start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
            retry_policy=options.CONTROL_PLANE_RETRY,
            summary="record run outcome for trust",
        )
        if message:
            self._rec.timeline("trust", message)

    # ----------------------------------------------------------------------------- notifying

    def _start_background(self) -> None:
        """Slack sync and incident-level escalation timers, only when configured for this run."""
        notify = self._inp.notifications
        if notify.slack:
            self._background.append(asyncio.create_task(self._slack_loop()))
        if notify.ack_timeout_s or notify.resolve_timeout_s:
            self._background.append(asyncio.create_task(self._watch_timers()))

    def _slack_mark(self) -> tuple[object, ...]:
        """Changes whenever anything Slack shows changes; cheap enough to evaluate every wake."""
        st = self._state
        return (
            len(st.timeline),
            st.status,
            st.paused,
            st.mode,
            st.acknowledged_by,
            st.commander,
            tuple((v.state, len(v.approvals), v.command, v.rollback) for v in st.steps),
        )

    async def _slack_loop(self) -> None:
        """Keep the incident channel in step with the state, one coalesced sync at a time.

        The sync activity reads the state itself (a query), so calls carry no payload and a
        sync that waited out a Slack outage posts the latest state, not a backlog.
        """
        synced: tuple[object, ...] | None = None
        failures = 0
        while True:
            await workflow.wait_condition(lambda s=synced: self._slack_mark() != s)  # type: ignore[misc]
            mark = self._slack_mark()
            try:
                await workflow.execute_activity(
                    "sync_slack",
                    SlackSyncInput(incident_id=self._state.id, run_id=self._state.run_id),
                    start_to_close_timeout=options.SLACK_TIMEOUT,
                    retry_policy=options.SLACK_RETRY,
                    summary="sync Slack",
                )
            except ActivityError as err:
                if isinstance(err.cause, CancelledError):  # the incident closed: not an outage
                    return
                failures += 1
                if failures == 1:  # e.g. a revoked token: say so once, keep the incident going
                    self._rec.timeline("slack_unavailable", describe_failure(err))
            synced = mark

    async def _watch_timers(self) -> None:
        """Escalate an incident nobody acknowledges, or that stays open too long, level by level."""
        notify = self._inp.notifications
        levels = self._inp.escalation.levels
        opened = self._state.opened_at
        ack_level = resolve_level = 0
        while not self._state.status.is_closed:
            deadlines: list[tuple[timedelta, str]] = []
            if (
                notify.ack_timeout_s
                and self._state.acknowledged_by is None
                and ack_level < len(levels)
            ):
                due = opened + timedelta(seconds=notify.ack_timeout_s * (ack_level + 1))
                deadlines.append((due - workflow.now(), "ack"))
            if notify.resolve_timeout_s and resolve_level < len(levels):
                due = opened + timedelta(seconds=notify.resolve_timeout_s * (resolve_level + 1))
                deadlines.append((due - workflow.now(), "resolve"))
            if not deadlines:
                return
            wait, kind = min(deadlines)
            acked = self._state.acknowledged_by
            try:
                await workflow.wait_condition(
                    lambda a=acked: (
                        self._state.status.is_closed or self._state.acknowledged_by != a
                    ),  # type: ignore[misc]
                    timeout=max(wait, timedelta(seconds=1)),
                    timeout_summary=f"{kind} deadline",
                )
                continue  # closed, or acknowledged: recompute what is still due
            except TimeoutError:
                pass
            if kind == "ack":
                level, ack_level = ack_level, ack_level + 1
                why = f"not acknowledged within {(notify.ack_timeout_s or 0) * ack_level}s"
            else:
                level, resolve_level = resolve_level, resolve_level + 1
                why = f"not resolved within {(notify.resolve_timeout_s or 0) * resolve_level}s"
            await self._escalate(level, levels[level], why, None)

    async def _notify_close(self) -> None:
        """Stop the background work; resolve the pages sent; let Slack catch up on its own."""
        for task in self._background:
            task.cancel()
        paged = sorted({e.level for e in self._state.escalations if e.paged})
        if paged:
            await workflow.execute_activity_method(
                EscalationActivities.resolve_pages,
                ResolvePages(incident_id=self._state.id, levels=paged, summary=self._state.outcome),
                start_to_close_timeout=options.CONTROL_PLANE_TIMEOUT,
                retry_policy=options.CONTROL_PLANE_RETRY,
                summary="resolve pages",
            )
        if self._inp.notifications.slack:
            # The final sync (summary, MTTR) must not keep the incident open while Slack is
            # down: an abandoned child does it, retrying until Slack answers.
            await workflow.start_child_workflow(
                "SlackCatchUpWorkflow",
                SlackSyncInput(incident_id=self._state.id, run_id=self._state.run_id, final=True),
                id=f"{self._state.id}-slack-{workflow.info().run_id}",
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"Slack catch-up for {self._state.id}",
            )

    # ----------------------------------------------------------------------------- handlers

    @workflow.signal(description="An alert (or a repeat of it) for this incident")
    def alert_received(self, alert: Alert) -> None:
        self._state.alert_deliveries += 1
        if alert.event_id in self._seen_events:
            return
        self._seen_events.add(alert.event_id)
        if len(self._state.alerts) < _MAX_KEPT_ALERTS:
            self._state.alerts.append(alert)
        if self._state.status.is_closed:
            return
        key = alert.dedup_key
        if key != self._inp.alert.dedup_key and key not in self._state.related_alerts:
            self._state.related_alerts.append(key)
            self._rec.timeline("related_alert", f"{alert.name} ({key}): {alert.title}")
            workflow.upsert_search_attributes(
                [sa.ALERT_KEYS.value_set([self._inp.alert.dedup_key, *self._state.related_alerts])]
            )
        if alert.status is AlertStatus.ACKNOWLEDGED:
            who = f"{alert.actor or 'someone'} via {alert.source.value}"
            self._acknowledge_implicitly(who, names_commander=False)
            return
        if alert.status is AlertStatus.UPDATED:
            self._rec.timeline(
                "source_update",
                f"{alert.source.value}: {alert.description or alert.title}",
                alert.actor,
            )
            return
        if alert.status is AlertStatus.RESOLVED:
            self._firing_keys.discard(key)
            self._source_cleared = not self._firing_keys
            by = f" by {alert.actor}" if alert.actor else ""
            self._rec.timeline(
                "alert_resolved", f"{alert.source.value} reports {alert.name} resolved{by}"
            )
        else:
            self._firing_keys.add(key)
            self._source_cleared = False
            self._rec.timeline("alert_repeated", f"{alert.name}: {alert.title}")

    @workflow.signal(description="A kill switch was engaged or lifted")
    def kill_switch(self, switch: KillSwitch) -> None:
        others = [k for k in self._state.kill_switches if k.label != switch.label]
        self._state.kill_switches = [*others, switch] if switch.engaged else others
        verb = "engaged" if switch.engaged else "lifted"
        self._rec.timeline(f"kill_switch_{verb}", f"{switch.label}: {switch.reason}", switch.actor)
        if (
            not switch.engaged
            and self._paused_by_kill_switch
            and self._covering_kill_switch() is None
        ):
            self._state.paused = False
            self._paused_by_kill_switch = False
            self._rec.timeline("resumed", f"kill switch {switch.label} lifted", switch.actor)

    @workflow.update(description="Approve or reject the step that is waiting for approval")
    def approve_step(self, decision: ApprovalDecision) -> str:
        self._acknowledge_implicitly(decision.approver)
        view = self._view(decision.step_id)
        where = f"{decision.step_id} via {decision.channel}"
        if decision.decision == "reject":
            self._approvals[decision.step_id] = decision
            self._rec.timeline("step_rejected", where, decision.approver)
            return f"step {decision.step_id} rejected by {decision.approver}"
        if decision.command is not None and decision.command != view.command:
            self._rec.diverge(
                view.id, "edited", decision.approver, f"{view.command!r} → {decision.command!r}"
            )
            if view.edited_from is None:
                view.edited_from = view.command
            view.command = decision.command
            view.edited_by = decision.approver
            view.approvals = []  # approvals were for the command as it was
        view.approvals.append(
            Approval(
                approver=decision.approver,
                approver_name=decision.approver_name,
                at=workflow.now(),
                channel=decision.channel,
                comment=decision.comment,
                authenticated_by=decision.authenticated_by,
                approver_ids=decision.approver_ids,
            )
        )
        still = approvals.missing(view, self._rule_for(view), self._state.commander)
        if still is None:
            self._approvals[decision.step_id] = decision
            self._rec.timeline("step_approved", where, decision.approver)
            return f"step {decision.step_id} approved by {decision.approver}"
        self._rec.timeline(
            "step_approval_added", f"{where}; still needs {still}", decision.approver
        )
        return f"approval of {decision.step_id} by {decision.approver} recorded; needs {still}"

    @approve_step.validator
    def _validate_approve_step(self, decision: ApprovalDecision) -> None:
        self._refuse_if_closed()
        step = self._steps.get(decision.step_id)
        if step is None:
            raise ValueError(f"incident {self._state.id} has no step {decision.step_id!r}")
        if decision.step_id in self._approvals:
            earlier = self._approvals[decision.step_id]
            raise ValueError(f"step {decision.step_id!r} was already decided by {earlier.approver}")
        view = self._view(decision.step_id)
        if self._waiting_for != decision.step_id or view.state is not StepState.AWAITING_APPROVAL:
            current = self._waiting_for or "none"
            raise ValueError(
                f"step {decision.step_id!r} is not waiting for approval (waiting: {current})"
            )
        why = approvals.refusal(
            view, decision, self._rule_for(view), self._state.commander, approvals.card_of(view)
        )
        if why is not None:
            raise ValueError(why)
        if (
            decision.decision == "approve"
            and any(r.part == "command" for r in view.refused)
            and view.edited_by is None
            and (decision.command is None or decision.command == view.command)
        ):
            raise ValueError(
                f"step {decision.step_id!r} has alert values that were not rendered into its "
                f"command ({_shown(view)}): approve with an edited command, or reject"
            )
        if (
            decision.decision == "approve"
            and view.requirement is Requirement.CONFIRM
            and not confirmation_matches(decision.confirm, step)
        ):
            raise ValueError(
                f"step {decision.step_id!r} is dangerous: confirm by typing its name "
                f"({step.id!r}); rollback: {view.rollback or 'none'}"
            )

    @workflow.update(description="Read-along: report what you did for the presented step")
    def report_step(self, report: StepReport) -> str:
        self._reports[report.step_id] = report
        self._acknowledge_implicitly(report.actor)
        return f"step {report.step_id} reported {report.outcome} by {report.actor}"

    @report_step.validator
    def _validate_report_step(self, report: StepReport) -> None:
        self._refuse_if_closed()
        view = next((v for v in self._state.steps if v.id == report.step_id), None)
        if view is None or view.state is not StepState.AWAITING_REPORT:
            raise ValueError(f"step {report.step_id!r} is not waiting for a report")

    @workflow.update(description="Decide about an interrupted or failed step, or a failed rollback")
    def decide_step(self, decision: InterruptedStepDecision) -> str:
        self._decisions[decision.step_id] = decision
        return f"{decision.action} {decision.step_id} by {decision.actor}"

    @decide_step.validator
    def _validate_decide_step(self, decision: InterruptedStepDecision) -> None:
        self._refuse_if_closed(allow_rolling_back=True)
        if self._waiting_for_decision != decision.step_id:
            current = self._waiting_for_decision or "none"
            raise ValueError(f"step {decision.step_id!r} needs no decision (waiting: {current})")

    @workflow.update(description="Skip a step that has not run yet")
    def skip_step(self, action: StepAction) -> str:
        if self._waiting_for == action.step_id:
            self._approvals[action.step_id] = ApprovalDecision(
                step_id=action.step_id,
                approver=action.actor,
                decision="reject",
                comment=action.reason or "skipped",
                channel=action.channel,
            )
        else:
            self._skips[action.step_id] = action
        return f"step {action.step_id} will be skipped ({action.actor})"

    @skip_step.validator
    def _validate_skip_step(self, action: StepAction) -> None:
        self._refuse_if_closed()
        view = next((v for v in self._state.steps if v.id == action.step_id), None)
        if view is None:
            raise ValueError(f"incident {self._state.id} has no step {action.step_id!r}")
        if view.state not in (StepState.PENDING, StepState.AWAITING_APPROVAL):
            raise ValueError(f"step {action.step_id!r} is {view.state.value}: too late to skip")

    @workflow.update(description="Undo one completed step by running its rollback now")
    def undo_step(self, action: StepAction) -> str:
        self._undo_requests.append(action)
        self._rec.timeline("undo_requested", action.step_id, action.actor)
        return f"undo of {action.step_id} requested by {action.actor}"

    @undo_step.validator
    def _validate_undo_step(self, action: StepAction) -> None:
        self._refuse_if_closed()
        if action.step_id not in self._compensations:
            raise ValueError(f"step {action.step_id!r} has nothing to undo")
        if any(r.step_id == action.step_id for r in self._undo_requests):
            raise ValueError(f"undo of {action.step_id!r} is already requested")

    @workflow.update(description="Pause: the current step finishes, nothing new starts")
    def pause(self, action: HumanAction) -> str:
        self._pause(action.reason or f"paused by {action.actor}", action.actor)
        return f"paused by {action.actor}"

    @pause.validator
    def _validate_pause(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if self._state.paused:
            raise ValueError(f"already paused: {self._state.pause_reason}")

    @workflow.update(description="Resume after a pause")
    def resume(self, action: HumanAction) -> str:
        self._state.paused = False
        self._paused_by_kill_switch = False
        self._rec.timeline("resumed", action.reason or "resumed", action.actor)
        return f"resumed by {action.actor}"

    @resume.validator
    def _validate_resume(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if not self._state.paused:
            raise ValueError("not paused")
        switch = self._covering_kill_switch()
        if switch is not None and self._paused_by_kill_switch:
            raise ValueError(f"kill switch {switch.label} is engaged: lift it, or take over")

    @workflow.update(description="Take manual control: the rest of the runbook becomes read-along")
    def take_over(self, action: HumanAction) -> str:
        self._set_mode(Mode.READ_ALONG, action.reason or "taken over", action.actor)
        self._state.paused = False
        self._paused_by_kill_switch = False
        return f"{action.actor} has manual control"

    @take_over.validator
    def _validate_take_over(self, action: HumanAction) -> None:
        self._refuse_if_closed()

    @workflow.update(description="Override the mode for the rest of this incident")
    def set_mode(self, change: ModeChange) -> str:
        self._set_mode(change.mode, change.reason or "override by the responder", change.actor)
        return f"mode {change.mode.value} set by {change.actor}"

    @set_mode.validator
    def _validate_set_mode(self, change: ModeChange) -> None:
        self._refuse_if_closed()
        switch = self._covering_kill_switch()
        if switch is not None and change.mode is not Mode.READ_ALONG:
            raise ValueError(f"kill switch {switch.label} is engaged: only read-along is allowed")

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
        self._rec.timeline("abort_requested", action.reason or "no reason given", action.actor)
        return f"abort requested by {action.actor}"

    @abort.validator
    def _validate_abort(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if self._abort is not None:
            raise ValueError(f"abort already requested by {self._abort.actor}")

    @workflow.update(description="Resolve by hand: the problem is fixed, stop the runbook")
    def resolve(self, action: HumanAction) -> str:
        self._resolution = action
        self._rec.timeline("resolve_requested", action.reason or "resolved by hand", action.actor)
        return f"resolved by {action.actor}"

    @resolve.validator
    def _validate_resolve(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if self._resolution is not None:
            raise ValueError(f"already resolved by {self._resolution.actor}")
        pending = self._pending_decision()
        if pending is not None:
            raise ValueError(f"cannot resolve while {pending}")

    @workflow.update(description="Name the incident commander")
    def assign_commander(self, change: CommanderChange) -> str:
        self._state.commander = change.commander
        self._rec.timeline("commander", f"{change.commander} is incident commander", change.actor)
        return f"{change.commander} is incident commander"

    @assign_commander.validator
    def _validate_assign_commander(self, change: CommanderChange) -> None:
        self._refuse_if_closed()
        if self._state.commander == change.commander:
            raise ValueError(f"{change.commander} is already incident commander")

    @workflow.update(description="Escalate now: page the next level")
    async def escalate(self, action: HumanAction) -> str:
        levels = self._inp.escalation.levels
        level = min(max((e.level for e in self._state.escalations), default=0), len(levels) - 1)
        why = f"escalated by {action.actor}" + (f": {action.reason}" if action.reason else "")
        await self._escalate(level, levels[level], why, None)
        return f"escalated to level {level + 1} ({levels[level]})"

    @escalate.validator
    def _validate_escalate(self, action: HumanAction) -> None:
        self._refuse_if_closed()
        if not self._inp.escalation.levels:
            raise ValueError("no escalation levels are configured")

    @workflow.query(description="The full current state of the incident")
    def state(self) -> IncidentState:
        for view in self._state.steps:  # derived, so computing it here is replay-safe
            view.card = approvals.card_of(view)
        return self._state

    # ----------------------------------------------------------------------------- helpers

    def _refuse_if_closed(self, allow_rolling_back: bool = False) -> None:
        status = self._state.status
        if status.is_closed:
            raise ValueError(closed_message(self._state))
        if self._compensating and not allow_rolling_back:
            raise ValueError(f"incident {self._state.id} is {status.value}")

    def _pending_decision(self) -> str | None:
        """The human decision the runbook is waiting for, and how to give it; None: none.

        A resolution would not end such a wait (a decision wait ignores it), or would silently
        drop the step a human was asked about: the decision comes first, or an abort.
        """
        if self._waiting_for_decision is not None:
            view = self._view(self._waiting_for_decision)
            return (
                f"step {view.id!r} needs a decision ({view.error or 'interrupted'}): "
                "decide retry, skip, rollback or abort"
            )
        if self._waiting_for is None:
            return None
        view = self._view(self._waiting_for)
        if view.state is StepState.AWAITING_REPORT:
            return (
                f"step {view.id!r} is waiting for a report of what was done by hand: "
                "report it (done, skipped or changed), or abort"
            )
        return f"step {view.id!r} is waiting for approval: approve or reject it, or abort"

    def _set_mode(self, mode: Mode, reason: str, actor: str | None) -> None:
        self._state.mode = mode
        self._state.mode_reason = reason
        workflow.upsert_search_attributes([sa.MODE.value_set(mode.value)])
        self._rec.timeline("mode", f"{mode.value}: {reason}", actor)

    def _acknowledge_implicitly(self, actor: str, names_commander: bool = True) -> None:
        if names_commander and self._state.commander is None:
            self._state.commander = actor
            self._rec.timeline("commander", f"{actor} is incident commander", actor)
        if self._state.acknowledged_by is None:
            self._state.acknowledged_by = actor
            self._state.acknowledged_at = workflow.now()
            self._rec.timeline("acknowledged", f"by {actor}", actor)
            if self._state.status is IncidentStatus.TRIGGERED:
                self._rec.set_status(IncidentStatus.ACKNOWLEDGED)

    def _view(self, step_id: str) -> StepView:
        return next(v for v in self._state.steps if v.id == step_id)

    def _rule_for(self, view: StepView) -> ApprovalRule:
        rules = self._inp.approval_rules
        if not rules:
            return approvals.LEGACY_RULE
        return rules.get(view.risk, ApprovalRule())

    def _outcomes(self) -> dict[str, StepOutcome]:
        return {
            v.id: StepOutcome(state=v.state.value, exit_code=v.exit_code, output=v.stdout)
            for v in self._state.steps
        }


def _shown(view: StepView) -> str:
    """The refused values, raw (repr), with why: what a human must see before deciding."""
    return "; ".join(f"{r.variable}={r.value!r} ({r.part}: {r.reason})" for r in view.refused)
