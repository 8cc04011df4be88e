"""`ddrun incidents show/list` wording, from states shaped like the workflow's (issue #19 item 3),
and the period an export selects (item 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from rich.console import Console

from cli.incident_view import incidents_table, next_action, print_state, step_state
from cli.period import period
from schemas.incident import (
    ApprovalRule,
    IncidentState,
    IncidentStatus,
    IncidentSummary,
    StepState,
    StepView,
    TimelineEntry,
)
from schemas.runbook import Runbook, StepRisk
from schemas.trust import Mode, Requirement

AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
IID = "incident-alertmanager-KubePodCrashLooping-186c9aae249125a2"


def _state(*steps: StepView, **extra: object) -> IncidentState:
    fields: dict[str, object] = {
        "id": IID,
        "status": IncidentStatus.AWAITING_APPROVAL,
        "service": "payments",
        "severity": "critical",
        "title": "Pod crash looping",
        "opened_at": AT,
        "runbook": "crashloop",
        "runbook_version": 2,
        "steps": list(steps),
    }
    fields.update(extra)
    return IncidentState.model_validate(fields)


def _render(state: IncidentState, runbook: Runbook | None = None, everything: bool = False) -> str:
    console = Console(width=100, record=True, color_system=None)
    with console.capture() as captured:
        print_state(console, state, runbook, everything)
    return captured.get()


def test_waiting_for_a_dangerous_approval_names_the_command_with_its_confirmation() -> None:
    step = StepView(
        id="restart",
        title="Restart",
        risk=StepRisk.DANGEROUS,
        state=StepState.AWAITING_APPROVAL,
        requirement=Requirement.CONFIRM,
        approval_rule=ApprovalRule(approvals=2),
        command="kubectl rollout restart deploy/api",
    )
    todo = next_action(_state(step))
    assert todo.command == f'ddrun approve {IID} restart --confirm "restart"'
    assert todo.waiting_for == "approval of step restart (dangerous) (0 of 2 approvals)"


def test_a_manual_step_says_report_with_instructions_and_template() -> None:
    step = StepView(
        id="drain",
        title="Drain the node",
        risk=StepRisk.CAUTION,
        state=StepState.AWAITING_REPORT,
        requirement=Requirement.REPORT,
        instructions="Cordon first, then drain.",
    )
    runbook = Runbook.model_validate(
        {
            "id": "crashloop",
            "title": "Crash loop",
            "steps": [
                {
                    "id": "drain",
                    "title": "Drain the node",
                    "command": "kubectl drain {{ node }}",
                    "risk": "caution",
                }
            ],
        }
    )
    state = _state(step, mode=Mode.READ_ALONG, mode_reason="kill switch")
    todo = next_action(state)
    assert todo.command == f"ddrun report {IID} drain done|skipped|changed"
    assert "this step is manual" in todo.waiting_for
    shown = _render(state, runbook)
    assert f"next: `ddrun report {IID} drain done|skipped|changed`" in shown
    assert "mode: read-along (kill switch)  paused: no" in shown
    assert "acknowledged by: nobody yet" in shown
    assert "Cordon first, then drain." in shown
    assert "command template: kubectl drain {{ node }}" in shown


def test_a_failed_read_is_failed_and_only_a_lost_agent_is_interrupted() -> None:
    failed = StepView(
        id="look",
        title="Look",
        risk=StepRisk.SAFE,
        state=StepState.INTERRUPTED,
        error="it failed (command exited 1)",
        exit_code=1,
        command="kubectl get pods",
    )
    lost = failed.model_copy(update={"error": "the agent was lost while it ran"})
    assert step_state(failed) == "failed"
    assert step_state(lost) == "interrupted"
    todo = next_action(_state(failed, status=IncidentStatus.NEEDS_HUMAN))
    assert todo.command == f"ddrun decide {IID} look retry|skip|rollback|abort"
    assert "may or may not" not in todo.waiting_for
    shown = _render(_state(failed, status=IncidentStatus.NEEDS_HUMAN))
    assert "│ failed" in shown
    assert "interrupted" not in shown


def test_paused_acknowledged_and_closed_headers() -> None:
    paused = _state(
        status=IncidentStatus.PAUSED,
        paused=True,
        pause_reason="looking",
        acknowledged_by="alice",
        acknowledged_at=AT,
    )
    assert next_action(paused).command == f"ddrun resume {IID}"
    shown = _render(paused)
    assert "paused: yes (looking)" in shown
    assert "acknowledged by: alice at 2026-11-30 03:00:00" in shown
    closed = _state(status=IncidentStatus.RESOLVED, outcome="resolved by alice")
    assert next_action(closed).command is None
    assert "waiting for: nothing: resolved (resolved by alice)" in _render(closed)


def test_timeline_shows_the_tail_unless_asked_for_all() -> None:
    entries = [
        TimelineEntry(at=AT + timedelta(minutes=n), kind="note", message=f"entry {n:02d}")
        for n in range(25)
    ]
    state = _state(timeline=entries)
    tail = _render(state)
    assert "entry 24" in tail
    assert "entry 14" not in tail
    assert "--timeline for all" in tail
    assert "entry 00" in _render(state, everything=True)


def test_list_never_cuts_an_id_on_a_narrow_terminal() -> None:
    rows = [
        IncidentSummary(
            id=IID + "-and-some-more",
            run_id=None,
            status="awaiting_approval",
            service="payments-backend-eu-west-1",
            severity="critical",
            runbook="kube-pod-crashlooping",
            execution_status="Running",
            started_at=AT,
            closed_at=None,
        )
    ]
    console = Console(width=80, color_system=None)
    with console.capture() as captured:
        console.print(incidents_table(rows))
    assert IID + "-and-some-more" in captured.get()


def test_export_period_reaches_now_and_takes_spans() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert period("7d", None, now) == (now - timedelta(days=7), now)
    assert period("2026-07-01", "2026-10-01", now) == (
        datetime(2026, 7, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    with pytest.raises(typer.BadParameter):
        period("last tuesday", None, now)
    with pytest.raises(typer.BadParameter):
        period("2026-10-01", "2026-07-01", now)
