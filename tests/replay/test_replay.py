"""Determinism guard: recorded incident histories must replay on the current workflow code.

The fixtures in histories/ are real histories of every incident shape the suite exercises
(recorded with DDRUN_RECORD_HISTORIES=DIR, see tests/harness.py). A workflow change that would
break in-flight incidents fails here; such a change must go behind `workflow.patched(...)`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.replay.broken_workflow import UnpatchedChange
from workflows.incident import IncidentWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    workflow_id = path.stem.split("--", 1)[1]
    return WorkflowHistory.from_json(workflow_id, path.read_text())


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
    replayer = Replayer(workflows=[IncidentWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(_load(path))


async def test_an_unpatched_change_is_caught() -> None:
    replayer = Replayer(workflows=[UnpatchedChange], data_converter=pydantic_data_converter)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_load(HISTORIES[0]))
