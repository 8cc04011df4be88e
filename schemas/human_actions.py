"""Every human action on an incident, listed once: the workflow update that carries it, its input,
the kind the audit timeline records, and where a person can take it (REST route, CLI verb, Slack
buttons).

The CLI builds its request paths and `services/audit/history.py` its kinds from this table;
`tests/unit/test_human_actions.py` checks that the workflow's update handlers, the API's routes,
the CLI's commands and the Slack action ids agree with it. Update names are recorded in every
incident's history: they are never renamed (recorded histories must replay).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas.incident import (
    ApprovalDecision,
    CommanderChange,
    HumanAction,
    InterruptedStepDecision,
    ModeChange,
    StepAction,
    StepReport,
)
from schemas.roles import RoleChange
from schemas.severity import ParentLink, SeverityChange
from schemas.status_updates import PublishApproval, StatusUpdateIn


@dataclass(frozen=True)
class HumanActionSpec:
    update: str
    """The workflow update's name (in recorded histories: never renamed)."""
    input: type[BaseModel]
    """The update's one argument; who acts is in it, filled from the credential."""
    audit_kind: str
    """The `kind` of the audit record an accepted update becomes."""
    route: str | None
    """POST path under `/api/incidents/{incident_id}/`; None: no REST route."""
    cli: tuple[str, ...]
    """`ddrun` verbs that send it (approve and reject are one update)."""
    slack: tuple[str, ...] = ()
    """Slack `action_id`s of the buttons that send it."""
    incident_cli: tuple[str, ...] = ()
    """`ddrun incident` verbs that send it (incident command: severity, roles, updates)."""

    @property
    def step_scoped(self) -> bool:
        return self.route is not None and "{step_id}" in self.route

    def path(self, incident_id: str, step_id: str | None = None, **params: object) -> str:
        """The API path a client POSTs to (`params` fill other placeholders: `number`)."""
        if self.route is None:
            raise ValueError(f"{self.update} has no REST route")
        if self.step_scoped and step_id is None:
            raise ValueError(f"{self.update} needs a step")
        route = self.route.format(step_id=step_id, **params) if "{" in self.route else self.route
        return f"/api/incidents/{incident_id}/{route}"


HUMAN_ACTIONS: tuple[HumanActionSpec, ...] = (
    HumanActionSpec(
        "approve_step",
        ApprovalDecision,
        "approval",
        "steps/{step_id}/approval",
        ("approve", "reject"),
        ("ddrun_approve", "ddrun_edit"),
    ),
    HumanActionSpec(
        "report_step", StepReport, "step_reported", "steps/{step_id}/report", ("report",)
    ),
    HumanActionSpec(
        "decide_step",
        InterruptedStepDecision,
        "decision",
        "steps/{step_id}/decision",
        ("decide",),
    ),
    HumanActionSpec(
        "skip_step",
        StepAction,
        "skip_requested",
        "steps/{step_id}/skip",
        ("skip",),
        ("ddrun_skip_step",),
    ),
    HumanActionSpec("undo_step", StepAction, "undo_requested", "steps/{step_id}/undo", ("undo",)),
    HumanActionSpec("pause", HumanAction, "paused", "pause", ("pause",), ("ddrun_pause",)),
    HumanActionSpec("resume", HumanAction, "resumed", "resume", ("resume",), ("ddrun_resume",)),
    HumanActionSpec(
        "take_over",
        HumanAction,
        "taken_over",
        "take-over",
        ("takeover",),
        ("ddrun_take_over", "ddrun_skip_runbook"),
    ),
    HumanActionSpec(
        "set_mode", ModeChange, "mode_override", "mode", ("mode",), ("ddrun_start_copilot",)
    ),
    HumanActionSpec(
        "acknowledge",
        HumanAction,
        "acknowledged",
        "acknowledge",
        ("ack",),
        ("ddrun_acknowledge", "ddrun_start_copilot"),  # starting copilot acknowledges too
    ),
    HumanActionSpec("abort", HumanAction, "abort_requested", "abort", ("abort",), ("ddrun_abort",)),
    HumanActionSpec("resolve", HumanAction, "resolve_requested", "resolve", ("resolve",)),
    HumanActionSpec("escalate", HumanAction, "escalation_requested", "escalate", ("escalate",)),
    HumanActionSpec("assign_commander", CommanderChange, "commander_assigned", None, ()),
    # Incident command (roles, severity, communication): `ddrun incident <verb>`.
    HumanActionSpec(
        "change_severity",
        SeverityChange,
        "severity_changed",
        "severity",
        (),
        incident_cli=("severity",),
    ),
    HumanActionSpec(
        "mark_false_positive",
        HumanAction,
        "marked_false_positive",
        "false-positive",
        (),
        incident_cli=("false-positive",),
    ),
    HumanActionSpec(
        "link_parent", ParentLink, "linked_to_parent", "parent", (), incident_cli=("link",)
    ),
    HumanActionSpec(
        "assign_role", RoleChange, "role_assigned", "roles", (), incident_cli=("ic", "role")
    ),
    HumanActionSpec(
        "post_status_update",
        StatusUpdateIn,
        "status_update_posted",
        "status-updates",
        (),
        incident_cli=("update",),
    ),
    HumanActionSpec(
        "publish_status_update",
        PublishApproval,
        "status_update_published",
        "status-updates/{number}/publish",
        (),
        incident_cli=("publish",),
    ),
)

BY_UPDATE: dict[str, HumanActionSpec] = {a.update: a for a in HUMAN_ACTIONS}
BY_VERB: dict[str, HumanActionSpec] = {verb: a for a in HUMAN_ACTIONS for verb in a.cli}
#: What the audit timeline calls each accepted update.
AUDIT_KINDS: dict[str, str] = {a.update: a.audit_kind for a in HUMAN_ACTIONS}
