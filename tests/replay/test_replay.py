"""Determinism guard: recorded incident histories must replay on the current workflow code.

The fixtures in histories/ are real histories of every incident shape the suite exercises
(recorded with DDRUN_RECORD_HISTORIES=DIR, see tests/harness.py). A workflow change that would
break in-flight incidents fails here; such a change must go behind `workflow.patched(...)`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.replay.broken_workflow import UnpatchedChange
from tests.replay.task_splits import every_split, split_points
from workers.orchestrator import workflow_runner
from workflows.incident import IncidentWorkflow, versions

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
#: Recorded since a run decides its flow version at its start (workflows/incident/versions.py).
DECIDED_AT_START = [p for p in HISTORIES if p.stem.startswith(("v5_", "v6_", "v7_"))]
#: Recorded on flow version 2: the next step's check taken with a step's output.
FLOW_2 = [p for p in HISTORIES if p.stem.startswith(("v6_", "v7_"))]
#: Recorded since the first automatic step's check may come with the intake claim (its input).
INTAKE_CHECKED = [p for p in HISTORIES if p.stem.startswith("v7_")]


def _load(path: Path, text: str | None = None) -> WorkflowHistory:
    workflow_id = path.stem.split("--", 1)[1]
    return WorkflowHistory.from_json(workflow_id, text or path.read_text())


def _replayer() -> Replayer:
    return Replayer(workflows=[IncidentWorkflow], data_converter=pydantic_data_converter)


def test_there_are_histories_of_every_shape() -> None:
    shapes = {p.stem.split("--")[0] for p in HISTORIES}
    assert len(HISTORIES) >= 15
    for needed in (
        "failed_third_step_rolls_back_two_then_one",
        "unapproved_step_escalates_le",
        "read_along_executes_nothing_and_records_what_the",
        "dry_run_executes_nothing",
        "runbook_done_while_alert_fires_stays_open",  # the hold-open-while-alert-fires patch
        # Incident command (#17): SLA timers, IC approvals, soak, status updates, executives.
        "v3_every_p0_deadline_fires_records_announces_and",
        "v3_an_acknowledgement_stops_the_acknowledge_time",
        "v3_a_p1_change_needs_the_commander_and_one_other",
        "v3_a_re_firing_alert_interrupts_the_soak_and_a_c",
        "v3_reminders_come_at_the_level_cadence_and_an_up",
        "v3_the_status_page_shows_an_update_only_once_the",
        "v3_executives_are_emailed_about_a_p1_and_its_res",
        "v3_a_duplicate_is_linked_to_its_parent_instead_o",
        # Communication lines (#17): Statuspage push, engineering-wide updates, executive Slack.
        "v4_published_updates_create_then_update_then_res",
        "v4_a_refused_key_is_recorded_once_and_the_update",
        "v4_a_p0_posts_to_the_engineering_channel_every_h",
        "v4_executives_hear_of_a_p1_and_its_resolution_in",
        "v4_executives_configured_both_ways_get_the_email",
    ):
        assert any(s.startswith(needed[:48]) for s in shapes), needed


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem.split("--")[0] for p in HISTORIES])
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    await _replayer().replay_workflow(_load(path))


async def test_an_unpatched_change_is_caught() -> None:
    replayer = Replayer(workflows=[UnpatchedChange], data_converter=pydantic_data_converter)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_load(HISTORIES[0]))


# -- a query racing a local activity moves the rest of a workflow task into a new one ---------


@pytest.mark.parametrize(
    "path", DECIDED_AT_START, ids=[p.stem.split("--")[0] for p in DECIDED_AT_START]
)
async def test_a_task_split_by_a_query_after_any_local_activity_replays(path: Path) -> None:
    """Core completes a task early (forcing a new one) when a query arrives while a local
    activity's result is pending; the live run goes on in the new task. Every such split of a
    run that decided its flow version at the start replays."""
    raw = json.loads(path.read_text())
    for index, split in every_split(raw):
        try:
            await _replayer().replay_workflow(_load(path, json.dumps(split)))
        except NondeterminismError as err:
            raise AssertionError(f"split after event {index + 1}: {err}") from err


def test_histories_of_the_second_flow_version_cover_the_check_with_an_output() -> None:
    assert len(FLOW_2) >= 10
    for needed in ("a_switch_engaged_while_an_automatic_step_runs", "a_check_taken_before_a_pause"):
        assert any(p.stem.startswith(f"v6_{needed}") for p in FLOW_2), needed


def _intake_check(path: Path) -> dict[str, Any] | None:
    started = json.loads(path.read_text())["events"][0]
    payload = started["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    check: dict[str, Any] | None = json.loads(base64.b64decode(payload["data"]))["intake_check"]
    return check


def test_histories_with_the_intake_check_cover_a_fresh_and_a_too_old_read() -> None:
    checks = [c for p in INTAKE_CHECKED if (c := _intake_check(p)) is not None]
    assert len(checks) >= 8
    assert any(c["fresh_s"] == 0 for c in checks)  # read again by the local activity
    assert any(c["fresh_s"] > 0 and c["slot"] for c in checks)  # the first step's check


def test_histories_decided_at_start_cover_the_flow() -> None:
    """Enough shapes, and splits right before a close, a rollback and a hold."""
    assert len(DECIDED_AT_START) >= 12
    assert sum(len(split_points(json.loads(p.read_text()))) for p in DECIDED_AT_START) >= 30


async def test_the_same_split_breaks_a_run_that_asked_for_patches_where_used() -> None:
    """What the rule fixes (CI runs failed this way): a run recorded before it asked for
    record-incident-close after storing the last step's output; split there, it cannot replay.
    (17 of the 56 histories recorded before the rule have such a split.)"""
    old = [p for p in HISTORIES if p.stem.startswith("v3_a_p0_change_is_approved_by_the_comm")]
    assert old
    failures = []
    for path in old:
        for _, split in every_split(json.loads(path.read_text())):
            try:
                await _replayer().replay_workflow(_load(path, json.dumps(split)))
            except NondeterminismError as err:
                failures.append(str(err))
    assert any("Non-deprecated patch marker" in f for f in failures), failures


async def test_a_newer_flow_version_leaves_recorded_runs_on_theirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The next change adds a flow version: runs recorded on this one must find theirs (asking
    for the absent newer one records nothing on replay, or these would fail)."""
    monkeypatch.setattr(versions, "FLOW_VERSIONS", (*versions.FLOW_VERSIONS, "incident-flow-next"))
    replayer = Replayer(
        workflows=[IncidentWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),  # shares the patched module, as the worker does
    )
    for path in DECIDED_AT_START[:8]:
        await replayer.replay_workflow(_load(path))
