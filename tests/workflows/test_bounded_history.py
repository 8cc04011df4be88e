"""Bounded history: an incident's state, result and history stay within Temporal's limits
however much its commands print and however many alerts it receives."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from schemas.alert import Alert
from schemas.incident import TIMELINE_KEPT, IncidentState, IncidentStatus, StepState
from tests.harness import generic_alert, running_stack, unique
from tests.support import assert_eventually
from tests.workflows.escalation_support import start_incident

pytestmark = pytest.mark.temporal

#: The agent's per-stream limit (settings.agent_max_output_bytes).
STREAM_LIMIT = 16 * 1024
#: Temporal refuses a payload (the result, a continue-as-new input) above 2 MiB.
PAYLOAD_LIMIT = 2 * 1024 * 1024
#: The server warns above 10K events per run (and fails at 50K); a run fails at 50 MB. Under a
#: storm the run overshoots the suggestion (signals pre-empt the continue-as-new until the burst
#: ends), so a run is held to the event warning and to half the size limit.
EVENTS_WARN = 10_240
SIZE_BOUND = 25 * 1024 * 1024


def _loud(tag: str) -> str:
    """Prints far more than the agent returns, on both streams."""
    return (
        f"yes 'out {tag} 0123456789' | head -c 200000; "
        f"yes 'err {tag} 0123456789' | head -c 200000 >&2"
    )


def _sixteen_loud_steps(name: str) -> dict[str, object]:
    steps: list[dict[str, object]] = [
        {
            "id": f"s{n:02d}",
            "title": f"Loud change {n}",
            "command": _loud(f"do{n:02d}"),
            "rollback": _loud(f"undo{n:02d}"),
            "risk": "safe",
        }
        for n in range(16)
    ]
    steps.append({"id": "verify", "title": "Verify", "command": "exit 4", "risk": "safe"})
    return {
        "id": unique("loud-"),
        "title": "Sixteen loud steps",
        "selectors": [{"alertname": name}],
        "on_failure": "rollback",
        "steps": steps,
    }


async def test_sixteen_steps_printing_the_maximum_roll_back_and_complete(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, blast_radius=0) as stack:
        name = unique("Loud")
        await stack.add_runbook(_sixteen_loud_steps(name))
        response = await stack.post_generic(generic_alert(name))
        incident_id = response.json()["incident_id"]
        result = await asyncio.wait_for(stack.handle(incident_id).result(), 240)
        viewer = await stack.person("vera-loud")
        served = await stack.http.get(
            f"/api/incidents/{incident_id}/steps/s07/output", headers=viewer
        )
        missing = await stack.http.get(
            f"/api/incidents/{incident_id}/steps/nope/output", headers=viewer
        )
        anonymous = await stack.http.get(f"/api/incidents/{incident_id}/steps/s07/output")

    assert result.status is IncidentStatus.ROLLED_BACK, result.outcome
    views = {v.id: v for v in result.steps}
    assert all(views[f"s{n:02d}"].state is StepState.ROLLED_BACK for n in range(16))
    # The result (the state) stays far below the payload limit: excerpts, not outputs.
    size = len(result.model_dump_json())
    assert size < PAYLOAD_LIMIT // 8, size
    step = views["s07"]
    assert step.output_digest.startswith("sha256:")
    assert step.rollback_output_digest.startswith("sha256:")
    assert len(step.stdout) < STREAM_LIMIT // 2
    assert "out do07" in step.stdout
    # The full output (as the agent returned it: at most its limit per stream) is served,
    # and it is what the digest the incident keeps was computed from.
    assert served.status_code == 200, served.text
    outputs = {o["purpose"]: o for o in served.json()}
    full = outputs["step"]
    assert STREAM_LIMIT // 2 < len(full["stdout"].encode()) <= STREAM_LIMIT + 100
    assert STREAM_LIMIT // 2 < len(full["stderr"].encode()) <= STREAM_LIMIT + 100
    digest = hashlib.sha256((full["stdout"] + full["stderr"]).encode()).hexdigest()
    assert step.output_digest == f"sha256:{digest}" == full["digest"]
    assert "undo07" in outputs["rollback"]["stdout"]
    assert outputs["rollback"]["digest"] == step.rollback_output_digest
    assert missing.status_code == 404
    assert anonymous.status_code == 401


async def test_ten_thousand_repeated_alerts_stay_under_the_history_limits(
    client: Client, engine: AsyncEngine
) -> None:
    # Most arrive in batches (one signal carrying 100 alerts, as a webhook delivering many
    # alerts at once would), the rest one signal each: 10,000 deliveries in all.
    alerts, per_batch, singles = 10_000, 100, 400
    async with running_stack(client, engine) as stack:
        name = unique("Storm")  # no runbook matches: the incident waits for a person
        response = await stack.post_generic(generic_alert(name))
        incident_id = response.json()["incident_id"]
        first = await assert_eventually(
            lambda: stack.state(incident_id), lambda s: s.alert_deliveries == 1, what="opened"
        )
        template: Alert = first.alerts[0]

        def repeat(n: int) -> Alert:
            return template.model_copy(update={"event_id": f"{template.event_id}-{n}"})

        handle = stack.handle(incident_id)
        for start in range(0, alerts - singles, per_batch):
            await handle.signal(
                "alerts_received", [repeat(n) for n in range(start, start + per_batch)]
            )
        for start in range(alerts - singles, alerts, 100):
            await asyncio.gather(
                *(handle.signal("alert_received", repeat(n)) for n in range(start, start + 100))
            )
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.alert_deliveries == alerts + 1,
            timeout=120,
            what="every alert counted",
        )
        responder = await stack.person("rita-storm")
        resolved = await stack.http.post(
            f"/api/incidents/{incident_id}/resolve", json={}, headers=responder
        )
        assert resolved.status_code == 200, resolved.text
        result: IncidentState = await stack.handle(incident_id).result()
        runs = [
            (e.run_id, e.status)
            async for e in client.list_workflows(f'WorkflowId = "{incident_id}"')
        ]
        lengths = []
        for run_id, _status in runs:
            history = await client.get_workflow_handle(incident_id, run_id=run_id).fetch_history()
            lengths.append((len(history.events), len(history.to_json())))

    assert result.status is IncidentStatus.RESOLVED
    assert result.alert_deliveries == alerts + 1
    assert len(result.alerts) <= 200
    assert len(result.timeline) <= TIMELINE_KEPT
    assert result.timeline_omitted > 0
    assert result.timeline[0].kind == "opened"  # how it began is kept
    assert len(json.dumps(result.model_dump(mode="json"))) < PAYLOAD_LIMIT // 2
    # It continued as new (server's suggestion) instead of growing one history without end.
    assert len(runs) >= 2, lengths
    assert sum(1 for _, s in runs if s is WorkflowExecutionStatus.CONTINUED_AS_NEW) == len(runs) - 1
    assert result.runs == len(runs)
    assert state.alert_deliveries == alerts + 1
    assert all(events < EVENTS_WARN for events, _ in lengths), lengths
    assert all(size < SIZE_BOUND for _, size in lengths), lengths


async def test_an_incident_without_a_runbook_escalates_when_nobody_acts(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, no_runbook_timeout_s=600) as stack:
        # Started on the time-skipping client: the ten minutes pass on virtual time.
        incident_id = await start_incident(temporal_env, stack, unique("Orphan"))
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: bool(s.escalations),
            timeout=60,
            what="escalated after the no-runbook timeout",
        )
        responder = await stack.person("omar-orphan")
        await stack.http.post(f"/api/incidents/{incident_id}/resolve", json={}, headers=responder)
        result = await stack.handle(incident_id).result()

    assert state.runbook is None
    assert state.escalations[0].level == 1
    assert "no runbook matched and nobody acted within 600s" in state.escalations[0].reason
    assert result.status is IncidentStatus.RESOLVED


async def test_an_incident_without_a_runbook_or_anyone_to_page_ends_after_the_timeout(
    temporal_env: WorkflowEnvironment, client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, no_runbook_timeout_s=900, escalation_levels=[]
    ) as stack:
        incident_id = await start_incident(temporal_env, stack, unique("Lonely"))
        result = await asyncio.wait_for(stack.handle(incident_id).result(), 60)

    assert result.status is IncidentStatus.ABORTED
    assert result.outcome == "no runbook matched and nobody acted within 900s"


async def test_a_held_open_incident_continues_as_new_and_still_resolves_on_its_alert(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, hold_open_while_firing=True, continue_as_new_after_events=100
    ) as stack:
        name = unique("Repeating")
        await stack.add_runbook(
            {
                "id": unique("held-"),
                "title": "Held open",
                "selectors": [{"alertname": name}],
                "steps": [
                    {
                        "id": "fix",
                        "title": "Fix",
                        "command": "echo fixed",
                        "rollback": "echo unfixed",
                        "risk": "safe",
                    }
                ],
            }
        )
        response = await stack.post_generic(generic_alert(name, dedup_key=f"{name}-key"))
        incident_id = response.json()["incident_id"]
        held = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.status is IncidentStatus.MONITORING,
            timeout=45,
            what="held open",
        )
        handle = stack.handle(incident_id)
        for start in range(0, 120, 40):
            await asyncio.gather(
                *(
                    handle.signal(
                        "alert_received",
                        held.alerts[0].model_copy(update={"event_id": f"repeat-{n}"}),
                    )
                    for n in range(start, start + 40)
                )
            )
        continued = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.runs >= 2 and s.alert_deliveries == 121,
            timeout=60,
            what="continued as new",
        )
        resolved = await stack.post_generic(
            generic_alert(name, dedup_key=f"{name}-key", status="resolved")
        )
        assert resolved.status_code == 202, resolved.text
        result = await asyncio.wait_for(stack.handle(incident_id).result(), 60)

    assert continued.status is IncidentStatus.MONITORING
    assert continued.steps[0].state is StepState.SUCCEEDED
    assert continued.compensations == ["fix"]  # what could be undone travels with it
    assert [t.kind for t in continued.timeline].count("held_open") == 1
    assert result.status is IncidentStatus.RESOLVED
    assert result.outcome == "runbook completed; alert resolved at its source"
    assert result.runs >= continued.runs >= 2
