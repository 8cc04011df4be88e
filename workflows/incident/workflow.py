"""IncidentWorkflow: one durable workflow per incident; its event history is the audit trail.

It reads like the incident: open, pick the runbook, run its steps (each gated, approved or
reported, and run on the agent), hold open while the alert fires, close; an abort or a failed
step rolls back first. The collaborators do one job each: `HumanInputs` (updates and their
validators), `StepRunner`, `Compensation`, `Escalator`, `AutomationGate`, `SlackSync`,
`Closer`, and the communication lines (`StatusCadence`, `Executives`, `StatuspageSync`,
`EngineeringUpdates`). Every side effect is an activity called by name (`stubs`), so importing
this module loads no database or HTTP code. Queries only read.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.alert import Alert
    from schemas.incident import (
        ApprovalDecision,
        CommanderChange,
        HumanAction,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        InterruptedStepDecision,
        ModeChange,
        SelectRunbookInput,
        StepAction,
        StepReport,
    )
    from schemas.roles import RoleChange
    from schemas.severity import ParentLink, SeverityChange
    from schemas.status_updates import PublishApproval, StatusUpdateIn
    from schemas.trust import KillSwitch
    from workflows import approvals
    from workflows.incident import stubs
    from workflows.incident.agent import Agent
    from workflows.incident.cadence import StatusCadence
    from workflows.incident.close import Closer
    from workflows.incident.command import IncidentCommand
    from workflows.incident.compensation import Compensation
    from workflows.incident.continuation import ContinueAsNew, carry, restore, restored_state
    from workflows.incident.core import (
        Aborted,
        Incident,
        Resolved,
        StepFailed,
        Unattended,
        initial_state,
    )
    from workflows.incident.engineering import EngineeringUpdates
    from workflows.incident.escalation import Escalator
    from workflows.incident.executive import Executives
    from workflows.incident.gate import AutomationGate
    from workflows.incident.inputs import HumanInputs
    from workflows.incident.no_runbook import NoRunbook
    from workflows.incident.outputs import Outputs
    from workflows.incident.runbook import adopt
    from workflows.incident.sla import SlaWatch
    from workflows.incident.slack_sync import SlackSync
    from workflows.incident.soak import Soak
    from workflows.incident.statuspage import StatuspageSync
    from workflows.incident.steps import StepRunner
    from workflows.incident.versions import (
        PATCH_ENGINEERING_UPDATES,
        PATCH_EXECUTIVES,
        PATCH_HOLD_OPEN,
        PATCH_SLA,
        PATCH_STATUS_CADENCE,
        PATCH_STATUSPAGE,
    )
    from workflows.incident.waiting import Waits


@workflow.defn(name="IncidentWorkflow")
class IncidentWorkflow:
    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        alert = inp.alert
        state = restored_state(inp) or initial_state(inp)
        self._incident = i = Incident.open(inp, state)
        self._state = state
        self._background: list[asyncio.Task[None]] = []
        self._inputs = HumanInputs(i)
        self._agent = Agent(i)
        self._waits = Waits(i, serve_undo=lambda: self._compensation.serve_undo_requests())
        self._outputs = Outputs(i)
        self._compensation = Compensation(i, self._agent, self._waits, self._outputs)
        self._escalator = Escalator(i, self._waits)
        self._gate = AutomationGate(i, self._waits)
        self._runner = StepRunner(
            i,
            self._waits,
            self._gate,
            self._escalator,
            self._agent,
            self._compensation,
            self._outputs,
        )
        self._slack = SlackSync(i)
        self._closer = Closer(i, self._waits, self._slack)
        self._no_runbook = NoRunbook(i, self._waits, self._escalator)
        self._command = IncidentCommand(i)
        self._sla = SlaWatch(i, self._escalator)
        self._soak = Soak(i, self._agent)
        self._cadence = StatusCadence(i)
        self._executives = Executives(i)
        self._statuspage = StatuspageSync(i)
        self._engineering = EngineeringUpdates(i)
        self._selected = inp.selected
        if inp.continued is not None:
            restore(i, inp.continued, inp.selected)
            i.rec.timeline("continued", f"run {state.runs} of this incident (history bounded)")
            return
        i.rec.timeline("opened", f"{alert.source.value} alert {alert.name}: {alert.title}")
        i.rec.timeline("mode", f"{inp.mode.value}: {inp.mode_reason}")
        if inp.declared_by is not None and inp.severity_level is not None:
            level = inp.severity_level.value
            i.rec.timeline("declared", f"{level} declared by {inp.declared_by}", inp.declared_by)
        if inp.reopens is not None:
            i.rec.timeline(
                "reopened",
                f"fired again after run {inp.reopens.run_id} closed "
                f"({inp.reopens.status}) at {inp.reopens.closed_at}",
            )

    # ----------------------------------------------------------------------------- the flow

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentState:
        i = self._incident
        i.versions.decide()  # before anything else: see workflows/incident/versions.py
        self._start_background()
        try:
            if inp.continued is None:
                # Normally chosen by the API before start (decided once, replayed as input); a
                # client that did not choose gets it from a local activity (a database read).
                self._selected = inp.selected or await stubs.select_runbook(
                    SelectRunbookInput(incident_id=inp.incident_id, alert=inp.alert)
                )
                adopt(i, self._selected)
                self._gate.opening_check()
            if self._selected is None or self._selected.runbook is None:
                await self._no_runbook.wait()
            else:
                resumed = inp.continued is not None
                if not resumed:
                    await self._runner.run_steps()
                outcome = (
                    "dry run complete: nothing was executed" if inp.dry_run else "runbook completed"
                )
                if resumed or (
                    not inp.dry_run
                    and inp.hold_open_while_firing
                    and i.versions.has(PATCH_HOLD_OPEN)
                ):
                    outcome = await self._closer.hold_open(resumed=resumed)
                    outcome = await self._soak.settle(outcome)
                i.rec.close(IncidentStatus.RESOLVED, outcome, completed=True)
        except ContinueAsNew as request:
            await self._statuspage.settle()  # a push in flight would be made again by the next run
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                carry(
                    i,
                    request.phase,
                    self._selected,
                    self._escalator.ack_level,
                    self._escalator.resolve_level,
                    self._no_runbook.escalated,
                )
            )
        except Resolved as resolved:
            try:
                i.rec.close(IncidentStatus.RESOLVED, await self._soak.settle(str(resolved)))
            except Aborted:  # during the soak
                await self._aborted()
        except Unattended as unattended:
            i.rec.close(IncidentStatus.ABORTED, str(unattended))
        except Aborted:
            await self._aborted()
        except StepFailed as failed:
            await self._compensation.compensate()
            i.rec.close(IncidentStatus.ROLLED_BACK, str(failed))
        except asyncio.CancelledError:
            # Workflow cancellation (e.g. from the Temporal UI): undo, then end as CANCELED.
            await self._compensation.compensate()
            i.rec.close(IncidentStatus.ABORTED, "workflow cancelled")
            await self._after_close()
            await self._notify_close()
            raise
        await self._after_close()
        await self._notify_close()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _aborted(self) -> None:
        i = self._incident
        reason = i.abort.reason if i.abort else ""
        actor = i.abort.actor if i.abort else "unknown"
        await self._compensation.compensate()
        i.rec.close(IncidentStatus.ABORTED, f"aborted by {actor}: {reason}")

    def _start_background(self) -> None:
        """Slack sync and incident-level escalation timers, only when configured for this run."""
        i = self._incident
        has = i.versions.has
        notify = i.inp.notifications
        if notify.slack:
            self._background.append(asyncio.create_task(self._slack.loop()))
        if notify.ack_timeout_s or notify.resolve_timeout_s:
            self._background.append(asyncio.create_task(self._escalator.watch_timers()))
        if i.inp.slas and has(PATCH_SLA):
            self._background.append(asyncio.create_task(self._sla.watch()))
        if i.inp.update_cadence_s and has(PATCH_STATUS_CADENCE):
            self._background.append(asyncio.create_task(self._cadence.remind()))
        if self._executives.configured() and has(PATCH_EXECUTIVES):
            self._background.append(asyncio.create_task(self._executives.watch()))
        if i.inp.statuspage is not None and has(PATCH_STATUSPAGE):
            self._background.append(asyncio.create_task(self._statuspage.push_published()))
        if (
            i.inp.engineering_channel is not None
            and i.inp.engineering_update_s
            and has(PATCH_ENGINEERING_UPDATES)
        ):
            self._background.append(asyncio.create_task(self._engineering.post_on_cadence()))

    async def _after_close(self) -> None:
        await self._closer.after_close()
        await self._executives.on_close()
        await self._statuspage.settle()

    async def _notify_close(self) -> None:
        await self._closer.notify_close(self._background)

    # ----------------------------------------------------------------------------- signals

    @workflow.signal(description="An alert (or a repeat of it) for this incident")
    def alert_received(self, alert: Alert) -> None:
        self._inputs.alert_received(alert)

    @workflow.signal(description="Alerts (or repeats) for this incident, delivered together")
    def alerts_received(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self._inputs.alert_received(alert)

    @workflow.signal(description="A kill switch was engaged or lifted")
    def kill_switch(self, switch: KillSwitch) -> None:
        self._inputs.kill_switch(switch)

    # ----------------------------------------------------------------------------- updates

    @workflow.update(description="Approve or reject the step that is waiting for approval")
    def approve_step(self, decision: ApprovalDecision) -> str:
        return self._inputs.approve_step(decision)

    @approve_step.validator
    def _validate_approve_step(self, decision: ApprovalDecision) -> None:
        self._inputs.validate_approve_step(decision)

    @workflow.update(description="Read-along: report what you did for the presented step")
    def report_step(self, report: StepReport) -> str:
        return self._inputs.report_step(report)

    @report_step.validator
    def _validate_report_step(self, report: StepReport) -> None:
        self._inputs.validate_report_step(report)

    @workflow.update(description="Decide about an interrupted or failed step, or a failed rollback")
    def decide_step(self, decision: InterruptedStepDecision) -> str:
        return self._inputs.decide_step(decision)

    @decide_step.validator
    def _validate_decide_step(self, decision: InterruptedStepDecision) -> None:
        self._inputs.validate_decide_step(decision)

    @workflow.update(description="Skip a step that has not run yet")
    def skip_step(self, action: StepAction) -> str:
        return self._inputs.skip_step(action)

    @skip_step.validator
    def _validate_skip_step(self, action: StepAction) -> None:
        self._inputs.validate_skip_step(action)

    @workflow.update(description="Undo one completed step by running its rollback now")
    def undo_step(self, action: StepAction) -> str:
        return self._inputs.undo_step(action)

    @undo_step.validator
    def _validate_undo_step(self, action: StepAction) -> None:
        self._inputs.validate_undo_step(action)

    @workflow.update(description="Pause: the current step finishes, nothing new starts")
    def pause(self, action: HumanAction) -> str:
        return self._inputs.pause(action)

    @pause.validator
    def _validate_pause(self, action: HumanAction) -> None:
        self._inputs.validate_pause(action)

    @workflow.update(description="Resume after a pause")
    def resume(self, action: HumanAction) -> str:
        return self._inputs.resume(action)

    @resume.validator
    def _validate_resume(self, action: HumanAction) -> None:
        self._inputs.validate_resume(action)

    @workflow.update(description="Take manual control: the rest of the runbook becomes read-along")
    def take_over(self, action: HumanAction) -> str:
        return self._inputs.take_over(action)

    @take_over.validator
    def _validate_take_over(self, action: HumanAction) -> None:
        self._inputs.validate_take_over(action)

    @workflow.update(description="Override the mode for the rest of this incident")
    def set_mode(self, change: ModeChange) -> str:
        return self._inputs.set_mode(change)

    @set_mode.validator
    def _validate_set_mode(self, change: ModeChange) -> None:
        self._inputs.validate_set_mode(change)

    @workflow.update(description="Acknowledge the incident: a human is on it")
    def acknowledge(self, action: HumanAction) -> str:
        return self._inputs.acknowledge(action)

    @acknowledge.validator
    def _validate_acknowledge(self, action: HumanAction) -> None:
        self._inputs.validate_acknowledge(action)

    @workflow.update(description="Abort: stop the running step and roll back what was done")
    def abort(self, action: HumanAction) -> str:
        return self._inputs.abort(action)

    @abort.validator
    def _validate_abort(self, action: HumanAction) -> None:
        self._inputs.validate_abort(action)

    @workflow.update(description="Resolve by hand: the problem is fixed, stop the runbook")
    def resolve(self, action: HumanAction) -> str:
        return self._inputs.resolve(action)

    @resolve.validator
    def _validate_resolve(self, action: HumanAction) -> None:
        self._inputs.validate_resolve(action)

    @workflow.update(description="Name the incident commander")
    def assign_commander(self, change: CommanderChange) -> str:
        return self._inputs.assign_commander(change)

    @assign_commander.validator
    def _validate_assign_commander(self, change: CommanderChange) -> None:
        self._inputs.validate_assign_commander(change)

    @workflow.update(description="Escalate now: page the next level")
    async def escalate(self, action: HumanAction) -> str:
        return await self._escalator.escalate_now(action)

    @escalate.validator
    def _validate_escalate(self, action: HumanAction) -> None:
        self._inputs.validate_escalate(action)

    @workflow.update(description="Change the severity (P0-P3); a reason is required")
    def change_severity(self, change: SeverityChange) -> str:
        return self._command.change_severity(change)

    @change_severity.validator
    def _validate_change_severity(self, change: SeverityChange) -> None:
        self._command.validate_change_severity(change)

    @workflow.update(description="Close as a false positive; the reason is kept for tuning")
    def mark_false_positive(self, action: HumanAction) -> str:
        return self._command.mark_false_positive(action)

    @mark_false_positive.validator
    def _validate_mark_false_positive(self, action: HumanAction) -> None:
        self._command.validate_mark_false_positive(action)

    @workflow.update(description="Close as a duplicate of a parent incident")
    def link_parent(self, link: ParentLink) -> str:
        return self._command.link_parent(link)

    @link_parent.validator
    def _validate_link_parent(self, link: ParentLink) -> None:
        self._command.validate_link_parent(link)

    @workflow.update(description="Give a person a role (commander, comms lead, scribe, responder)")
    def assign_role(self, change: RoleChange) -> str:
        return self._command.assign_role(change)

    @assign_role.validator
    def _validate_assign_role(self, change: RoleChange) -> None:
        self._command.validate_assign_role(change)

    @workflow.update(description="Post a status update to the war room")
    def post_status_update(self, update: StatusUpdateIn) -> str:
        return self._cadence.post(update)

    @post_status_update.validator
    def _validate_post_status_update(self, update: StatusUpdateIn) -> None:
        self._cadence.validate_post(update)

    @workflow.update(description="The comms lead approves publishing an update on the status page")
    def publish_status_update(self, approval: PublishApproval) -> str:
        return self._cadence.publish(approval)

    @publish_status_update.validator
    def _validate_publish_status_update(self, approval: PublishApproval) -> None:
        self._cadence.validate_publish(approval)

    # ----------------------------------------------------------------------------- query

    @workflow.query(description="The full current state of the incident")
    def state(self) -> IncidentState:
        """A copy with each step's card (derived); the state itself is never changed here."""
        steps = [v.model_copy(update={"card": approvals.card_of(v)}) for v in self._state.steps]
        return self._state.model_copy(update={"steps": steps})
