"""What crosses the incident workflow's boundary: its input, human inputs and visible state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.acting import Acted
from schemas.alert import Alert
from schemas.roles import RoleRecord
from schemas.runbook import Runbook, StepRisk
from schemas.severity import (
    FalsePositive,
    Severity,
    SeverityRecord,
    SlaBreach,
    SlaKind,
)
from schemas.status_updates import StatusUpdate
from schemas.statuspage import StatuspageRecord, StatuspageTarget
from schemas.trust import IntakeCheck, KillSwitch, Mode, Requirement, SlotRequest


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATING = "mitigating"
    AWAITING_APPROVAL = "awaiting_approval"
    ESCALATED = "escalated"
    NEEDS_HUMAN = "needs_human"
    PAUSED = "paused"
    ROLLING_BACK = "rolling_back"
    MONITORING = "monitoring"  # the runbook has ended; its alert still fires
    RESOLVED = "resolved"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"

    @property
    def is_closed(self) -> bool:
        return self in {IncidentStatus.RESOLVED, IncidentStatus.ROLLED_BACK, IncidentStatus.ABORTED}


#: How a step whose agent vanished is described; readers tell it from a plain failure by it
#: (only then is it unknown whether the command took effect).
LOST_AGENT = "the agent was lost"

#: The timeline an incident's state keeps: its first TIMELINE_HEAD entries (how it began) and the
#: latest ones, TIMELINE_KEPT in all; entries dropped between them are counted in
#: `IncidentState.timeline_omitted` (they remain in the workflow history).
TIMELINE_KEPT = 500
TIMELINE_HEAD = 25


def timeline_position(index: int, omitted: int) -> int:
    """Where the kept entry at `index` stands in the whole timeline (a stable key)."""
    return index if index < TIMELINE_HEAD else index + omitted


class StepState(StrEnum):
    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_REPORT = "awaiting_report"
    PLANNED = "planned"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"


class EscalationPolicy(BaseModel):
    """Who is paged, in order, when a human input does not arrive in time."""

    model_config = ConfigDict(extra="forbid")

    levels: list[str] = Field(default_factory=lambda: ["primary-oncall", "secondary-oncall"])


class RefusedValue(BaseModel):
    """An alert value the renderer would not put into a command, shown raw to the human."""

    model_config = ConfigDict(extra="forbid")

    variable: str
    value: str
    reason: str
    part: str = Field(default="command", description="command, rollback or capture:<name>")


class RenderedStep(BaseModel):
    """A runbook step with the alert's values filled in (shell-quoted), exactly as it will run."""

    model_config = ConfigDict(extra="forbid")

    step_id: str
    command: str | None
    rollback: str | None
    capture: dict[str, str] = Field(
        default_factory=dict,
        description="Rendered read-only commands whose output the rollback uses",
    )
    refused: list[RefusedValue] = Field(
        default_factory=list,
        description="Values not rendered (left as {{ name }}): the step never runs on its own "
        "and an approval must supply the command",
    )


class SelectRunbookInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: str
    alert: Alert


class MatchCandidate(BaseModel):
    """One runbook the matcher considered for an alert, with its score and why."""

    model_config = ConfigDict(extra="forbid")

    runbook: str
    score: float
    reasons: list[str] = Field(default_factory=list)
    evidence: dict[str, float] = Field(
        default_factory=dict,
        exclude=True,  # not in the stored/CLI shape ({runbook, score, reasons}); /api/match adds it
        description="The numbers behind the score (coverage, name_cover, relative_to_best, ...)",
    )


class SelectedRunbook(BaseModel):
    """The matched runbook snapshot with its variables filled, or None with the reason why not."""

    model_config = ConfigDict(extra="forbid")

    runbook: Runbook | None
    reason: str
    confidence: float | None = Field(
        default=None, ge=0.0, le=1.0, description="How sure the matcher is (None: not scored)"
    )
    method: str = Field(default="", description="mapping, selector, runbook_url, name, text, none")
    candidates: list[MatchCandidate] = Field(default_factory=list)
    close: list[MatchCandidate] = Field(
        default_factory=list,
        description="Runbooks scored nearly as high as the chosen one: a close call, not a pick",
    )
    variables: dict[str, str] = Field(default_factory=dict)
    missing_variables: list[str] = Field(default_factory=list)
    rendered: list[RenderedStep] = Field(default_factory=list)


class ApprovalRule(BaseModel):
    """How many different people must approve a step, and whether the commander must be one."""

    model_config = ConfigDict(extra="forbid")

    approvals: int = Field(default=1, ge=1, le=5)
    commander_required: bool = False
    separate_editor: bool = Field(
        default=True, description="Whoever edited the command cannot be its only approver"
    )


class PreviousRun(BaseModel):
    """The closed run of the same incident that this run reopens (the alert flapped)."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    run_id: str
    closed_at: datetime | None
    status: str


class Notifications(BaseModel):
    """Where the incident reports itself; decided at start from settings."""

    model_config = ConfigDict(extra="forbid")

    slack: bool = False
    ack_timeout_s: int | None = Field(
        default=None, ge=1, description="Escalate when nobody acknowledges within this"
    )
    resolve_timeout_s: int | None = Field(
        default=None, ge=1, description="Escalate when the incident is still open after this"
    )


class IncidentInput(BaseModel):
    """Start input of an incident workflow; everything decided before start travels here."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    alert: Alert
    agent_task_queue: str = Field(description="Where this incident's commands run (the agent)")
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    resolve_on_alert_clear: bool = True
    hold_open_while_firing: bool = Field(
        default=False,
        description="When the runbook ends, stay open while an alert still fires or a step "
        "failed, until the alerts resolve or a person resolves it (absent in older inputs)",
    )
    selected: SelectedRunbook | None = Field(
        default=None,
        description="The runbook chosen before start; when absent the workflow chooses it",
    )
    mode: Mode = Mode.COPILOT
    mode_reason: str = "default for a new runbook"
    kill_switches: list[KillSwitch] = Field(
        default_factory=list, description="Kill switches engaged when the incident started"
    )
    blast_radius: int = Field(
        default=3,
        ge=0,
        description="Incidents that may execute automatically at once, per "
        "runbook and per service (0: no limit)",
    )
    intake_check: IntakeCheck | None = Field(
        default=None,
        description="The automation check taken with the alert's intake claim, for a runbook "
        "whose first step runs on its own",
    )
    dry_run: bool = False
    with_safe_reads: bool = Field(
        default=False, description="Dry run only: safe read-only steps run for real"
    )
    approval_rules: dict[StepRisk, ApprovalRule] = Field(
        default_factory=dict,
        description="Per risk, from the approval policy for this service and severity; "
        "absent: one approval",
    )
    commander: str | None = Field(default=None, description="Incident commander named by policy")
    reopens: PreviousRun | None = None
    notifications: Notifications = Field(default_factory=Notifications)
    no_runbook_timeout_s: int | None = Field(
        default=None,
        ge=1,
        description="With no runbook matched: escalate (or, with nobody to page, close) when "
        "nobody acted within this time (absent in older inputs: wait for a person)",
    )
    continue_after_events: int | None = Field(
        default=None,
        ge=100,
        description="Continue a quiet wait as new after this many history events, besides "
        "when the server suggests it (absent: only the server's suggestion)",
    )
    continued: Continuation | None = Field(
        default=None,
        description="Set when a run continues an earlier run of this incident (continue-as-new)",
    )
    severity_level: Severity | None = Field(
        default=None, description="P0-P3, declared or derived from the alert (absent: older runs)"
    )
    declared_by: str | None = Field(
        default=None, max_length=200, description="Who declared the incident by hand"
    )
    slas: dict[Severity, dict[SlaKind, int]] = Field(
        default_factory=dict,
        description="Response deadlines (seconds from opening) per level; empty: no SLA timers",
    )
    update_cadence_s: dict[Severity, int] = Field(
        default_factory=dict,
        description="Status-update reminders per level (empty, as in older inputs: none)",
    )
    executives: list[str] = Field(
        default_factory=list, description="Executive recipients (empty, as in older inputs)"
    )
    executive_deadline_s: dict[Severity, int] = Field(default_factory=dict)
    executive_channel: str | None = Field(
        default=None,
        max_length=200,
        description="Slack channel executives are told in, besides email (absent: none)",
    )
    statuspage: StatuspageTarget | None = Field(
        default=None,
        description="Push published updates to this Statuspage (absent, as in older inputs: no)",
    )
    engineering_channel: str | None = Field(
        default=None,
        max_length=200,
        description="Engineering-wide Slack channel for periodic updates (absent: none)",
    )
    engineering_update_s: dict[Severity, int] = Field(
        default_factory=dict,
        description="Engineering-wide updates per level, every so many seconds (empty: none)",
    )
    soak_s: dict[Severity, int] = Field(
        default_factory=dict,
        description="Soak before resolving, per level (empty, as in older inputs: resolve at once)",
    )
    ic_approvals: bool = Field(
        default=False,
        description="P0 changes need the incident commander; P1 changes the commander and one "
        "other engineer (absent in older inputs: the runbook's policy alone)",
    )


class RunCommandInput(BaseModel):
    """One command for the agent. `command` is already rendered; the agent adds nothing to it."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    step_id: str
    command: str
    timeout_s: int
    purpose: Literal["step", "rollback"] = "step"
    mode: Mode | None = Field(default=None, description="The mode in force, for the record")


class RunCommandResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exit_code: int
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_ms: int
    attempt: int
    agent: str


class Escalation(BaseModel):
    """One escalation: who would be paged, why, and when (virtual workflow time)."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    level: int
    target: str
    reason: str
    step_id: str | None = None
    at: datetime
    paged: bool = Field(default=False, description="A page went out (PagerDuty Events API)")
    severity: str | None = None
    service: str | None = None
    title: str | None = None
    page_dedup_key: str | None = None


class ResolvePages(BaseModel):
    """Close the pages an incident sent (PagerDuty `resolve`), once it is over."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    levels: list[int]
    summary: str = ""


class ApprovalDecision(BaseModel):
    """A human's verdict on a step waiting for approval. `approver` is the audited identity."""

    model_config = ConfigDict(extra="forbid")

    step_id: str
    approver: str = Field(min_length=1, max_length=200)
    decision: Literal["approve", "reject"] = "approve"
    comment: str = Field(default="", max_length=2000)
    channel: str = Field(default="api", max_length=50)
    command: str | None = Field(
        default=None, max_length=16_384, description="An edited command to run instead"
    )
    confirm: str | None = Field(
        default=None, max_length=500, description="Dangerous steps: the step's id or title, typed"
    )
    approver_name: str | None = Field(default=None, max_length=200, description="Display name")
    card: str | None = Field(
        default=None,
        max_length=100,
        description="The card version the click came from (Slack); a stale card is refused",
    )
    authenticated_by: str | None = Field(
        default=None,
        max_length=200,
        description="How the actor proved who they are (api-token <id>, slack <user id>, ...)",
    )
    approver_ids: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="The approver's other names the policy may use (their Slack user id)",
    )


class InterruptedStepDecision(Acted):
    """What to do with a non-safe step whose agent died mid-run (it may or may not have applied)."""

    step_id: str
    action: Literal["retry", "skip", "rollback", "abort"]
    comment: str = Field(default="", max_length=2000)


class HumanAction(Acted):
    """Acknowledge, resolve or abort: an actor and why."""

    reason: str = Field(default="", max_length=2000)


class StepAction(Acted):
    """Skip or undo one step, by a named person."""

    step_id: str
    reason: str = Field(default="", max_length=2000)


class StepReport(Acted):
    """Read-along: what the human did for a step that the product did not execute."""

    step_id: str
    outcome: Literal["done", "skipped", "changed"]
    note: str = Field(default="", max_length=4000)
    output: str = Field(default="", max_length=65_536)


class CommanderChange(Acted):
    """Name the incident commander (who must be among the approvers of critical steps)."""

    commander: str = Field(min_length=1, max_length=200)


class ModeChange(Acted):
    """A responder overrides the mode for the rest of this incident."""

    mode: Mode
    reason: str = Field(default="", max_length=2000)


class Divergence(BaseModel):
    """Where the run departed from the runbook as written (edits, skips, undos, reports)."""

    model_config = ConfigDict(extra="forbid")

    step_id: str
    kind: Literal["edited", "skipped", "rejected", "reported_changed", "undone", "rolled_back"]
    actor: str | None
    detail: str
    at: datetime


class Approval(BaseModel):
    """One person's approval of a step (a step may need several)."""

    model_config = ConfigDict(extra="forbid")

    approver: str
    approver_name: str | None = None
    at: datetime
    channel: str = "api"
    comment: str = ""
    authenticated_by: str | None = None
    approver_ids: list[str] = Field(default_factory=list)

    @property
    def names(self) -> set[str]:
        """Every name this approver goes by (handle and Slack user id)."""
        return {self.approver, *self.approver_ids}


class StepView(BaseModel):
    """A step as the responder sees it, with what happened to it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    risk: StepRisk
    state: StepState = StepState.PENDING
    command: str | None = None
    rollback: str | None = None
    condition: str | None = None
    instructions: str = ""
    approved_by: str | None = None
    approved_at: datetime | None = None
    approval_comment: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    attempts: int = 0
    error: str | None = None
    note: str = ""
    rollback_exit_code: int | None = None
    rollback_output: str = ""
    output_digest: str = Field(
        default="", description="sha256:<hex> of the step's full output (stdout then stderr)"
    )
    rollback_output_digest: str = Field(
        default="", description="sha256:<hex> of the rollback's full output"
    )
    mode: Mode | None = Field(default=None, description="The mode in force when it was decided")
    requirement: Requirement | None = None
    edited_from: str | None = None
    edited_by: str | None = None
    captured: dict[str, str] = Field(default_factory=dict)
    refused: list[RefusedValue] = Field(
        default_factory=list,
        description="Alert values not rendered into the command, raw, with why",
    )
    approvals: list[Approval] = Field(default_factory=list)
    approval_rule: ApprovalRule | None = Field(
        default=None, description="What this step needs before it runs (when it needs approval)"
    )
    card: str = Field(
        default="", description="Changes whenever what a responder would click on changes"
    )


class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime
    kind: str
    message: str
    actor: str | None = None


class IncidentState(BaseModel):
    """The full current state of an incident, as returned by the workflow's query."""

    model_config = ConfigDict(extra="forbid")

    id: str
    status: IncidentStatus
    service: str
    severity: str
    title: str
    opened_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    alerts: list[Alert] = Field(default_factory=list)
    alert_deliveries: int = 0
    runbook: str | None = None
    runbook_title: str | None = None
    runbook_version: int | None = None
    match_reason: str = ""
    variables: dict[str, str] = Field(default_factory=dict)
    missing_variables: list[str] = Field(default_factory=list)
    current_step: str | None = None
    steps: list[StepView] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    compensations: list[str] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    outcome: str = ""
    mode: Mode = Mode.COPILOT
    mode_reason: str = ""
    paused: bool = False
    pause_reason: str = ""
    kill_switches: list[KillSwitch] = Field(default_factory=list)
    divergences: list[Divergence] = Field(default_factory=list)
    dry_run: bool = False
    automation_slot: bool = False
    clean: bool = Field(
        default=False, description="Resolved with every step as written: no edit, skip or undo"
    )
    commander: str | None = None
    match_confidence: float | None = None
    match_method: str = ""
    match_candidates: list[MatchCandidate] = Field(default_factory=list)
    match_close: list[MatchCandidate] = Field(
        default_factory=list, description="Close calls: runbooks nearly as likely as the chosen"
    )
    related_alerts: list[str] = Field(
        default_factory=list, description="Dedup keys of other alerts correlated into this one"
    )
    reopens: PreviousRun | None = None
    run_id: str | None = None
    timeline_omitted: int = Field(
        default=0, description="Timeline entries dropped from the middle to bound the state"
    )
    runs: int = Field(default=1, description="Workflow runs of this incident (continue-as-new)")
    severity_level: Severity | None = Field(default=None, description="P0-P3 (absent: none)")
    severity_changes: list[SeverityRecord] = Field(default_factory=list)
    declared_by: str | None = None
    engaged_at: datetime | None = Field(
        default=None, description="When a person first acted beyond acknowledging"
    )
    sla_breaches: list[SlaBreach] = Field(default_factory=list)
    false_positive: FalsePositive | None = None
    parent_incident: str | None = Field(
        default=None, description="The incident this one duplicates (linked instead of kept)"
    )
    soak_until: datetime | None = Field(
        default=None, description="Soaking: resolved at this time unless the alert fires again"
    )
    status_updates: list[StatusUpdate] = Field(default_factory=list)
    update_due_at: datetime | None = Field(
        default=None, description="When the next status update is due (reminder timer)"
    )
    update_reminders: int = 0
    update_reminded_at: datetime | None = None
    executives_notified: list[str] = Field(
        default_factory=list, description="What executives were told (opened, resolved), when"
    )
    statuspage_incident_id: str | None = Field(
        default=None, description="The incident on the external Statuspage (first push made it)"
    )
    statuspage_shortlink: str | None = None
    statuspage_pushes: list[StatuspageRecord] = Field(
        default_factory=list, description="Each published update pushed (or refused) there"
    )
    engineering_updates: int = Field(
        default=0, description="Updates posted to the engineering-wide channel"
    )
    engineering_update_at: datetime | None = None
    engineering_update_due_at: datetime | None = None
    comms_lead: str | None = None
    scribe: str | None = None
    responders: list[str] = Field(default_factory=list)
    role_changes: list[RoleRecord] = Field(default_factory=list)


class IncidentSummary(BaseModel):
    """One row of the incident list, read from Temporal visibility (search attributes)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    run_id: str | None
    status: str
    service: str | None
    severity: str | None
    runbook: str | None
    execution_status: str
    started_at: datetime | None
    closed_at: datetime | None


class AlertAccepted(BaseModel):
    """The webhook's 202 answer for one alert."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str | None
    dedup_key: str
    status: str
    action: Literal[
        "started_or_attached",
        "correlated",
        "reopened",
        "resolved_sent",
        "acknowledged",
        "updated",
        "ignored",
    ]
    detail: str = ""
    # Kept in the database and handed to Temporal after this answer (a burst): it is safe,
    # but the incident may take a moment to appear.
    queued: bool = False


class StepOutput(BaseModel):
    """One command's full output as the agent returned it, stored outside the history."""

    model_config = ConfigDict(extra="forbid")

    incident_id: str
    run_id: str
    step_id: str
    purpose: Literal["step", "rollback"] = "step"
    attempt: int = 1
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    digest: str = Field(default="", description="sha256:<hex> of stdout then stderr")


class StepOutputThenCheck(BaseModel):
    """Between two automatic steps: the finished step's output to store, then the automation
    check (kill switches) for the next step, in one local activity."""

    model_config = ConfigDict(extra="forbid")

    output: StepOutput
    check: SlotRequest


class ContinuedPhase(StrEnum):
    """Where a continued run picks up (only quiet waits continue as new)."""

    NO_RUNBOOK = "no_runbook"
    HOLDING = "holding"


class Continuation(BaseModel):
    """What a run hands to the next run of the same incident (continue-as-new)."""

    model_config = ConfigDict(extra="forbid")

    phase: ContinuedPhase
    state: IncidentState
    seen_events: list[str] = Field(default_factory=list, description="Newest last, bounded")
    firing_keys: list[str] = Field(default_factory=list)
    source_cleared: bool = False
    ack_level: int = 0
    resolve_level: int = 0
    no_runbook_escalated: bool = False


IncidentInput.model_rebuild()
