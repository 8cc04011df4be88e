"""When an ended runbook may close its incident (workflows/closing.py, pure): issue #19."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.incident import IncidentState, IncidentStatus, StepState, StepView
from schemas.runbook import StepRisk
from workflows.closing import failed_steps, hold_after_runbook, settle_waiting_steps

AT = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)


def _state(*steps: tuple[str, StepState, str | None]) -> IncidentState:
    return IncidentState(
        id="inc-1",
        status=IncidentStatus.MITIGATING,
        service="payments",
        severity="critical",
        title="t",
        opened_at=AT,
        steps=[
            StepView(id=i, title=i.title(), risk=StepRisk.SAFE, state=st, error=err)
            for i, st, err in steps
        ],
    )


def test_clean_run_and_cleared_alert_resolves() -> None:
    state = _state(("fix", StepState.SUCCEEDED, None), ("opt", StepState.SKIPPED, None))
    assert hold_after_runbook(state, [], source_cleared=True) is None


def test_clean_run_while_the_alert_fires_is_monitored_and_named() -> None:
    state = _state(("fix", StepState.SUCCEEDED, None))
    hold = hold_after_runbook(state, ["DiskFull", "DiskFull"], source_cleared=False)
    assert hold is not None
    assert hold.status is IncidentStatus.MONITORING
    assert not hold.needs_person  # the alert resolving ends it
    assert "DiskFull still firing" in hold.details


def test_a_failed_or_skipped_after_failure_step_needs_a_person_even_if_the_alert_cleared() -> None:
    for failed in (
        ("broken", StepState.FAILED, "exit code 3"),
        ("broken", StepState.SKIPPED, "it failed (exit code 3)"),
        ("broken", StepState.ROLLBACK_FAILED, "exit code 1"),
    ):
        state = _state(("look", StepState.SUCCEEDED, None), failed)
        hold = hold_after_runbook(state, [], source_cleared=True)
        assert hold is not None, failed
        assert hold.status is IncidentStatus.NEEDS_HUMAN
        assert hold.needs_person
        assert "step broken failed; its alert has resolved" in hold.details


def test_a_step_allowed_to_fail_does_not_hold_and_a_rejected_skip_is_no_failure() -> None:
    state = _state(("probe", StepState.FAILED, "exit 1"), ("opt", StepState.SKIPPED, None))
    assert failed_steps(state) == ["probe"]
    assert failed_steps(state, frozenset({"probe"})) == []
    assert hold_after_runbook(state, [], True, frozenset({"probe"})) is None


def test_closing_settles_every_waiting_step_and_leaves_the_rest() -> None:
    state = _state(
        ("done", StepState.SUCCEEDED, None),
        ("wait", StepState.AWAITING_APPROVAL, None),
        ("report", StepState.AWAITING_REPORT, None),
        ("later", StepState.PENDING, None),
    )
    assert settle_waiting_steps(state, "incident aborted") == ["wait", "report"]
    assert [s.state for s in state.steps] == [
        StepState.SUCCEEDED,
        StepState.SKIPPED,
        StepState.SKIPPED,
        StepState.PENDING,
    ]
    assert state.steps[1].note == "not run: incident aborted"


def test_slack_posts_that_the_incident_stays_open() -> None:
    from domain.slack.posts import event_label

    assert event_label("held_open") == (
        ":hourglass_flowing_sand:",
        "Runbook ended, incident stays open",
    )
