"""Human inputs and their validators. A validator refuses before anything reaches history, so a
refused input leaves no trace; an accepted one only records what it asks for, and the runbook
(waiting on it) acts. Alerts and kill switches arrive as signals and are recorded the same way."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.trust import confirmation_matches
    from schemas import search_attributes as sa
    from schemas.alert import Alert, AlertStatus
    from schemas.incident import (
        Approval,
        ApprovalDecision,
        CommanderChange,
        HumanAction,
        InterruptedStepDecision,
        ModeChange,
        StepAction,
        StepReport,
        StepState,
    )
    from schemas.roles import IncidentRole, RoleRecord
    from schemas.trust import KillSwitch, Mode, Requirement
    from workflows import approvals
    from workflows.incident.continuation import SEEN_EVENTS_KEPT
    from workflows.incident.core import Incident, Verdict, shown

#: Alerts kept in the state (every delivery is still counted).
MAX_KEPT_ALERTS = 200


class HumanInputs:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    # ------------------------------------------------------------------------- signals

    def alert_received(self, alert: Alert) -> None:
        i = self._i
        i.state.alert_deliveries += 1
        if alert.event_id in i.seen_events:
            return
        i.seen_events[alert.event_id] = None
        if len(i.seen_events) > SEEN_EVENTS_KEPT:  # bounded: a storm must not grow memory
            del i.seen_events[next(iter(i.seen_events))]
        if len(i.state.alerts) < MAX_KEPT_ALERTS:
            i.state.alerts.append(alert)
        if i.state.status.is_closed:
            return
        key = alert.dedup_key
        first = i.inp.alert.dedup_key
        if key != first and key not in i.state.related_alerts:
            i.state.related_alerts.append(key)
            i.rec.timeline("related_alert", f"{alert.name} ({key}): {alert.title}")
            workflow.upsert_search_attributes(
                [sa.ALERT_KEYS.value_set([first, *i.state.related_alerts])]
            )
        if alert.status is AlertStatus.ACKNOWLEDGED:
            who = f"{alert.actor or 'someone'} via {alert.source.value}"
            i.acknowledge(who, names_commander=False)
            return
        if alert.status is AlertStatus.UPDATED:
            i.rec.timeline(
                "source_update",
                f"{alert.source.value}: {alert.description or alert.title}",
                alert.actor,
            )
            return
        if alert.status is AlertStatus.RESOLVED:
            i.firing_keys.discard(key)
            i.source_cleared = not i.firing_keys
            by = f" by {alert.actor}" if alert.actor else ""
            i.rec.timeline(
                "alert_resolved", f"{alert.source.value} reports {alert.name} resolved{by}"
            )
        else:
            i.firing_keys.add(key)
            i.source_cleared = False
            i.fired += 1
            i.rec.timeline("alert_repeated", f"{alert.name}: {alert.title}")

    def kill_switch(self, switch: KillSwitch) -> None:
        self._i.apply_kill_switch(switch)

    # ------------------------------------------------------------------------- approvals

    def approve_step(self, decision: ApprovalDecision) -> str:
        i = self._i
        i.acknowledge(decision.approver)
        i.engage(decision.approver)
        view = i.view(decision.step_id)
        where = f"{decision.step_id} via {decision.channel}"
        if Verdict(decision.decision) is Verdict.REJECT:
            i.approvals[decision.step_id] = decision
            i.rec.timeline("step_rejected", where, decision.approver)
            return f"step {decision.step_id} rejected by {decision.approver}"
        if decision.command is not None and decision.command != view.command:
            i.rec.diverge(
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
        still = approvals.missing(view, i.rule_for(view), i.state.commander)
        if still is None:
            i.approvals[decision.step_id] = decision
            i.rec.timeline("step_approved", where, decision.approver)
            return f"step {decision.step_id} approved by {decision.approver}"
        i.rec.timeline("step_approval_added", f"{where}; still needs {still}", decision.approver)
        return f"approval of {decision.step_id} by {decision.approver} recorded; needs {still}"

    def validate_approve_step(self, decision: ApprovalDecision) -> None:
        i = self._i
        i.refuse_if_closed()
        step = i.steps.get(decision.step_id)
        if step is None:
            raise ValueError(f"incident {i.state.id} has no step {decision.step_id!r}")
        if decision.step_id in i.approvals:
            earlier = i.approvals[decision.step_id]
            raise ValueError(f"step {decision.step_id!r} was already decided by {earlier.approver}")
        view = i.view(decision.step_id)
        if i.waiting_for != decision.step_id or view.state is not StepState.AWAITING_APPROVAL:
            current = i.waiting_for or "none"
            raise ValueError(
                f"step {decision.step_id!r} is not waiting for approval (waiting: {current})"
            )
        why = approvals.refusal(
            view, decision, i.rule_for(view), i.state.commander, approvals.card_of(view)
        )
        if why is not None:
            raise ValueError(why)
        approving = Verdict(decision.decision) is Verdict.APPROVE
        if (
            approving
            and any(r.part == "command" for r in view.refused)
            and view.edited_by is None
            and (decision.command is None or decision.command == view.command)
        ):
            raise ValueError(
                f"step {decision.step_id!r} has alert values that were not rendered into its "
                f"command ({shown(view)}): approve with an edited command, or reject"
            )
        if (
            approving
            and view.requirement is Requirement.CONFIRM
            and not confirmation_matches(decision.confirm, step)
        ):
            raise ValueError(
                f"step {decision.step_id!r} is dangerous: confirm by typing its name "
                f"({step.id!r}); rollback: {view.rollback or 'none'}"
            )

    def report_step(self, report: StepReport) -> str:
        self._i.reports[report.step_id] = report
        self._i.acknowledge(report.actor)
        self._i.engage(report.actor)
        return f"step {report.step_id} reported {report.outcome} by {report.actor}"

    def validate_report_step(self, report: StepReport) -> None:
        self._i.refuse_if_closed()
        view = self._i.find(report.step_id)
        if view is None or view.state is not StepState.AWAITING_REPORT:
            raise ValueError(f"step {report.step_id!r} is not waiting for a report")

    # ------------------------------------------------------------------------- steps

    def decide_step(self, decision: InterruptedStepDecision) -> str:
        self._i.decisions[decision.step_id] = decision
        self._i.engage(decision.actor)
        return f"{decision.action} {decision.step_id} by {decision.actor}"

    def validate_decide_step(self, decision: InterruptedStepDecision) -> None:
        self._i.refuse_if_closed(allow_rolling_back=True)
        if self._i.waiting_for_decision != decision.step_id:
            current = self._i.waiting_for_decision or "none"
            raise ValueError(f"step {decision.step_id!r} needs no decision (waiting: {current})")

    def skip_step(self, action: StepAction) -> str:
        i = self._i
        if i.waiting_for == action.step_id:
            i.approvals[action.step_id] = ApprovalDecision(
                step_id=action.step_id,
                approver=action.actor,
                decision=Verdict.REJECT.value,
                comment=action.reason or "skipped",
                channel=action.channel,
            )
        else:
            i.skips[action.step_id] = action
        return f"step {action.step_id} will be skipped ({action.actor})"

    def validate_skip_step(self, action: StepAction) -> None:
        i = self._i
        i.refuse_if_closed()
        view = i.find(action.step_id)
        if view is None:
            raise ValueError(f"incident {i.state.id} has no step {action.step_id!r}")
        if view.state not in (StepState.PENDING, StepState.AWAITING_APPROVAL):
            raise ValueError(f"step {action.step_id!r} is {view.state.value}: too late to skip")

    def undo_step(self, action: StepAction) -> str:
        self._i.undo_requests.append(action)
        self._i.rec.timeline("undo_requested", action.step_id, action.actor)
        return f"undo of {action.step_id} requested by {action.actor}"

    def validate_undo_step(self, action: StepAction) -> None:
        i = self._i
        i.refuse_if_closed()
        if action.step_id not in i.compensations:
            raise ValueError(f"step {action.step_id!r} has nothing to undo")
        if any(r.step_id == action.step_id for r in i.undo_requests):
            raise ValueError(f"undo of {action.step_id!r} is already requested")

    # ------------------------------------------------------------------------- control

    def pause(self, action: HumanAction) -> str:
        self._i.pause(action.reason or f"paused by {action.actor}", action.actor)
        return f"paused by {action.actor}"

    def validate_pause(self, action: HumanAction) -> None:
        self._i.refuse_if_closed()
        if self._i.state.paused:
            raise ValueError(f"already paused: {self._i.state.pause_reason}")

    def resume(self, action: HumanAction) -> str:
        self._i.unpause()
        self._i.rec.timeline("resumed", action.reason or "resumed", action.actor)
        return f"resumed by {action.actor}"

    def validate_resume(self, action: HumanAction) -> None:
        i = self._i
        i.refuse_if_closed()
        if not i.state.paused:
            raise ValueError("not paused")
        switch = i.covering_kill_switch()
        if switch is not None and i.paused_by_kill_switch:
            raise ValueError(f"kill switch {switch.label} is engaged: lift it, or take over")

    def take_over(self, action: HumanAction) -> str:
        self._i.set_mode(Mode.READ_ALONG, action.reason or "taken over", action.actor)
        self._i.engage(action.actor)
        self._i.unpause()
        return f"{action.actor} has manual control"

    def validate_take_over(self, action: HumanAction) -> None:
        self._i.refuse_if_closed()

    def set_mode(self, change: ModeChange) -> str:
        self._i.set_mode(change.mode, change.reason or "override by the responder", change.actor)
        return f"mode {change.mode.value} set by {change.actor}"

    def validate_set_mode(self, change: ModeChange) -> None:
        self._i.refuse_if_closed()
        switch = self._i.covering_kill_switch()
        if switch is not None and change.mode is not Mode.READ_ALONG:
            raise ValueError(f"kill switch {switch.label} is engaged: only read-along is allowed")

    def acknowledge(self, action: HumanAction) -> str:
        self._i.acknowledge(action.actor)
        return f"acknowledged by {action.actor}"

    def validate_acknowledge(self, action: HumanAction) -> None:
        self._i.refuse_if_closed()
        if self._i.state.acknowledged_by is not None:
            raise ValueError(f"already acknowledged by {self._i.state.acknowledged_by}")

    def abort(self, action: HumanAction) -> str:
        self._i.abort = action
        self._i.rec.timeline("abort_requested", action.reason or "no reason given", action.actor)
        return f"abort requested by {action.actor}"

    def validate_abort(self, action: HumanAction) -> None:
        self._i.refuse_if_closed()
        if self._i.abort is not None:
            raise ValueError(f"abort already requested by {self._i.abort.actor}")

    def resolve(self, action: HumanAction) -> str:
        self._i.resolution = action
        self._i.rec.timeline("resolve_requested", action.reason or "resolved by hand", action.actor)
        return f"resolved by {action.actor}"

    def validate_resolve(self, action: HumanAction) -> None:
        i = self._i
        i.refuse_if_closed()
        if i.resolution is not None:
            raise ValueError(f"already resolved by {i.resolution.actor}")
        pending = i.pending_decision()
        if pending is not None:
            raise ValueError(f"cannot resolve while {pending}")

    def assign_commander(self, change: CommanderChange) -> str:
        before = self._i.state.commander
        self._i.state.commander = change.commander
        self._i.state.role_changes.append(
            RoleRecord(
                role=IncidentRole.COMMANDER,
                person=change.commander,
                before=before,
                actor=change.actor,
                at=workflow.now(),
            )
        )
        self._i.engage(change.actor)
        self._i.rec.timeline("commander", f"{change.commander} is incident commander", change.actor)
        return f"{change.commander} is incident commander"

    def validate_assign_commander(self, change: CommanderChange) -> None:
        self._i.refuse_if_closed()
        if self._i.state.commander == change.commander:
            raise ValueError(f"{change.commander} is already incident commander")

    def validate_escalate(self, action: HumanAction) -> None:
        self._i.refuse_if_closed()
        if not self._i.inp.escalation.levels:
            raise ValueError("no escalation levels are configured")
