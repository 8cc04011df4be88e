"""What every collaborator of the incident workflow shares: its state, the human inputs received
so far, and the rules read from them (who may approve, what interrupts a wait). No commands here
except search-attribute upserts and the timeline, which `IncidentRecord` keeps."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.conditions import StepOutcome
    from schemas import search_attributes as sa
    from schemas.alert import AlertStatus
    from schemas.incident import (
        ApprovalDecision,
        ApprovalRule,
        HumanAction,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        InterruptedStepDecision,
        RenderedStep,
        StepAction,
        StepReport,
        StepState,
        StepView,
    )
    from schemas.roles import IncidentRole, RoleRecord
    from schemas.runbook import Step
    from schemas.severity import Severity
    from schemas.trust import KillSwitch, Mode
    from workflows import approvals
    from workflows.incident.versions import Versions
    from workflows.incident_record import IncidentRecord, closed_message


class Aborted(Exception):
    """A human aborted the incident: undo what was done."""


class StepFailed(Exception):
    """A step failed for good (or a human chose to roll back): undo what was done."""


class Resolved(Exception):
    """The problem is gone (alert cleared at its source, or a human resolved it): stop here."""


class Unattended(Exception):
    """No runbook, nobody acted in time and nobody to page: the incident ends."""


class Choice(enum.StrEnum):
    """What a person chose about an interrupted or failed step (the `decide_step` action)."""

    RETRY = "retry"
    SKIP = "skip"
    ROLLBACK = "rollback"
    ABORT = "abort"


class Verdict(enum.StrEnum):
    """An approval decision (the `approve_step` payload's `decision`)."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass
class Incident:
    """The incident's memory: the state shown to people, and the inputs that steer the run."""

    inp: IncidentInput
    state: IncidentState
    rec: IncidentRecord
    seen_events: dict[str, None]  # an ordered set: the oldest are forgotten first
    firing_keys: set[str]
    source_cleared: bool
    steps: dict[str, Step] = field(default_factory=dict)
    rendered: dict[str, RenderedStep] = field(default_factory=dict)
    on_failure: str = "ask"
    approvals: dict[str, ApprovalDecision] = field(default_factory=dict)
    reports: dict[str, StepReport] = field(default_factory=dict)
    decisions: dict[str, InterruptedStepDecision] = field(default_factory=dict)
    skips: dict[str, StepAction] = field(default_factory=dict)
    undo_requests: list[StepAction] = field(default_factory=list)
    waiting_for: str | None = None  # step id awaiting approval or a report
    waiting_for_decision: str | None = None
    abort: HumanAction | None = None
    resolution: HumanAction | None = None
    compensations: list[str] = field(default_factory=list)
    compensating: bool = False
    automated: bool = False
    paused_by_kill_switch: bool = False
    holding: bool = False  # the runbook ended; only the hold decides what clears it
    fired: int = 0  # firing deliveries after the first: a re-fire interrupts a soak
    #: This run's full stdout per step (the state keeps an excerpt): what conditions read.
    full_output: dict[str, str] = field(default_factory=dict)
    versions: Versions = field(default_factory=Versions)

    @classmethod
    def open(cls, inp: IncidentInput, state: IncidentState) -> Incident:
        alert = inp.alert
        resolved = alert.status is AlertStatus.RESOLVED
        return cls(
            inp=inp,
            state=state,
            rec=IncidentRecord(state),
            seen_events={alert.event_id: None},
            firing_keys=set() if resolved else {alert.dedup_key},
            source_cleared=resolved,
        )

    # ------------------------------------------------------------------------- reading

    def view(self, step_id: str) -> StepView:
        return next(v for v in self.state.steps if v.id == step_id)

    def find(self, step_id: str) -> StepView | None:
        return next((v for v in self.state.steps if v.id == step_id), None)

    def rule_for(self, view: StepView) -> ApprovalRule:
        rules = self.inp.approval_rules
        rule = approvals.LEGACY_RULE if not rules else rules.get(view.risk, ApprovalRule())
        level = self.state.severity_level
        if not self.inp.ic_approvals or level not in (Severity.P0, Severity.P1):
            return rule
        # P0: the commander approves; P1: the commander and one other engineer.
        needed = max(rule.approvals, 2 if level is Severity.P1 else 1)
        return rule.model_copy(update={"approvals": needed, "commander_required": True})

    def outcomes(self) -> dict[str, StepOutcome]:
        return {
            v.id: StepOutcome(
                state=v.state.value,
                exit_code=v.exit_code,
                output=self.full_output.get(v.id, v.stdout),
            )
            for v in self.state.steps
        }

    def covering_kill_switch(self) -> KillSwitch | None:
        for switch in self.state.kill_switches:
            if switch.engaged and switch.covers(self.state.service, self.state.runbook):
                return switch
        return None

    def decider(self, step_id: str) -> str | None:
        decision = self.decisions.get(step_id)
        return decision.actor if decision else None

    def pending_decision(self) -> str | None:
        """The human decision the runbook is waiting for, and how to give it; None: none.

        A resolution would not end such a wait (a decision wait ignores it), or would silently
        drop the step a human was asked about: the decision comes first, or an abort.
        """
        if self.waiting_for_decision is not None:
            view = self.view(self.waiting_for_decision)
            return (
                f"step {view.id!r} needs a decision ({view.error or 'interrupted'}): "
                "decide retry, skip, rollback or abort"
            )
        if self.waiting_for is None:
            return None
        view = self.view(self.waiting_for)
        if view.state is StepState.AWAITING_REPORT:
            return (
                f"step {view.id!r} is waiting for a report of what was done by hand: "
                "report it (done, skipped or changed), or abort"
            )
        return f"step {view.id!r} is waiting for approval: approve or reject it, or abort"

    def refuse_if_closed(self, allow_rolling_back: bool = False) -> None:
        status = self.state.status
        if status.is_closed:
            raise ValueError(closed_message(self.state))
        if self.compensating and not allow_rolling_back:
            raise ValueError(f"incident {self.state.id} is {status.value}")

    # ------------------------------------------------------------------------- interrupts

    def clears_on_source(self) -> bool:
        return self.inp.resolve_on_alert_clear or not self.steps

    def interrupted(self) -> bool:
        return (
            self.abort is not None
            or self.resolution is not None
            or (self.source_cleared and self.clears_on_source() and not self.holding)
        )

    def check_interrupts(self) -> None:
        if self.abort is not None:
            raise Aborted()
        if self.resolution is not None:
            reason = f": {self.resolution.reason}" if self.resolution.reason else ""
            raise Resolved(f"resolved by {self.resolution.actor}{reason}")
        if self.source_cleared and self.clears_on_source() and not self.holding:
            raise Resolved("alert resolved at its source")

    # ------------------------------------------------------------------------- changing

    def set_mode(self, mode: Mode, reason: str, actor: str | None) -> None:
        self.state.mode = mode
        self.state.mode_reason = reason
        workflow.upsert_search_attributes([sa.MODE.value_set(mode.value)])
        self.rec.timeline("mode", f"{mode.value}: {reason}", actor)

    def pause(self, reason: str, actor: str | None, by_kill_switch: bool = False) -> None:
        self.state.paused = True
        self.state.pause_reason = reason
        self.paused_by_kill_switch = by_kill_switch
        self.rec.timeline("paused", reason, actor)

    def unpause(self) -> None:
        self.state.paused = False
        self.paused_by_kill_switch = False

    def acknowledge(self, actor: str, names_commander: bool = True) -> None:
        if names_commander and self.state.commander is None:
            self.state.commander = actor
            self.state.role_changes.append(
                RoleRecord(
                    role=IncidentRole.COMMANDER, person=actor, actor=actor, at=workflow.now()
                )
            )
            self.rec.timeline("commander", f"{actor} is incident commander", actor)
        if self.state.acknowledged_by is None:
            self.state.acknowledged_by = actor
            self.state.acknowledged_at = workflow.now()
            self.rec.timeline("acknowledged", f"by {actor}", actor)
            if self.state.status is IncidentStatus.TRIGGERED:
                self.rec.set_status(IncidentStatus.ACKNOWLEDGED)

    def engage(self, actor: str | None) -> None:
        """A person acted beyond acknowledging (the engage SLA is met)."""
        if actor is not None and self.state.engaged_at is None:
            self.state.engaged_at = workflow.now()

    def apply_kill_switch(self, switch: KillSwitch) -> None:
        others = [k for k in self.state.kill_switches if k.label != switch.label]
        self.state.kill_switches = [*others, switch] if switch.engaged else others
        verb = "engaged" if switch.engaged else "lifted"
        self.rec.timeline(f"kill_switch_{verb}", f"{switch.label}: {switch.reason}", switch.actor)
        if (
            not switch.engaged
            and self.paused_by_kill_switch
            and self.covering_kill_switch() is None
        ):
            self.unpause()
            self.rec.timeline("resumed", f"kill switch {switch.label} lifted", switch.actor)


def initial_state(inp: IncidentInput) -> IncidentState:
    """A new incident's state, from what was decided before it started."""
    alert = inp.alert
    return IncidentState(
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
        severity_level=inp.severity_level,
        declared_by=inp.declared_by,
    )


def shown(view: StepView) -> str:
    """The refused values, raw (repr), with why: what a human must see before deciding."""
    return "; ".join(f"{r.variable}={r.value!r} ({r.part}: {r.reason})" for r in view.refused)
