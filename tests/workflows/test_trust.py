"""Pilot safely: modes, earned and revoked trust, the kill switch, blast radius, undo, dry run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.trust import TrustStore
from schemas import search_attributes as sa
from schemas.identity import Role
from schemas.incident import IncidentState, IncidentStatus, StepState
from schemas.trust import KillSwitch, KillSwitchScope, Mode, Requirement
from tests.harness import (
    Stack,
    generic_alert,
    history_events,
    local_activity_types,
    running_stack,
    unique,
)
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def _start(stack: Stack, name: str, **labels: str) -> str:
    response = await stack.post_generic(generic_alert(name, labels=labels))
    assert response.status_code == 202, response.text
    return str(response.json()["incident_id"])


async def _until(stack: Stack, incident_id: str, what: str, check: Any) -> IncidentState:
    return await assert_eventually(lambda: stack.state(incident_id), check, what=what, timeout=30)


async def _lead(stack: Stack) -> dict[str, str]:
    """Headers of the lead, an admin: sets runbook modes and promotes to autopilot."""
    return await stack.person("lead", (Role.ADMIN,))


async def _ok(response: Any) -> Any:
    """A human action that must be accepted (the credential's person acts)."""
    answer = await response
    assert answer.status_code == 200, answer.text
    return answer


def _steps(state: IncidentState) -> dict[str, Any]:
    return {s.id: s for s in state.steps}


def _runbook(name: str, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": unique("trust-"),
        "title": "Trust",
        "selectors": [{"alertname": name}],
        "variables": [{"name": "log", "source": "label:log"}],
        "steps": steps,
        **extra,
    }


SAFE = {"id": "look", "title": "Look", "command": "echo look >> {{ log }}", "risk": "safe"}
CAUTION = {
    "id": "change",
    "title": "Change",
    "command": "echo change >> {{ log }}",
    "rollback": "echo undo-change >> {{ log }}",
    "risk": "caution",
}
DANGER = {
    "id": "drop",
    "title": "Drop cache",
    "command": "echo drop >> {{ log }}",
    "rollback": "echo undo-drop >> {{ log }}",
    "risk": "dangerous",
}


async def test_read_along_executes_nothing_and_records_what_the_human_reports(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine) as stack:
        lead, amy = await _lead(stack), await stack.person("amy")
        name = unique("ReadAlong")
        runbook = await stack.add_runbook(_runbook(name, [SAFE, CAUTION, DANGER]))
        response = await stack.http.post(
            f"/api/runbooks/{runbook.id}/trust",
            json={"action": "set", "mode": "read-along", "reason": "new runbook"},
            headers=lead,
        )
        assert response.status_code == 200, response.text
        incident = await _start(stack, name, log=str(log))
        for step, outcome in (("look", "done"), ("change", "changed"), ("drop", "skipped")):
            await _until(
                stack,
                incident,
                f"{step} presented",
                lambda s, step=step: _steps(s)[step].state is StepState.AWAITING_REPORT,
            )
            response = await stack.http.post(
                f"/api/incidents/{incident}/steps/{step}/report",
                json={"outcome": outcome, "note": f"{outcome} by hand"},
                headers=amy,
            )
            assert response.status_code == 200, response.text
        result = await stack.handle(incident).result()

    assert _lines(log) == []  # nothing executed
    assert result.mode is Mode.READ_ALONG
    steps = _steps(result)
    assert all(
        s.mode is Mode.READ_ALONG and s.requirement is Requirement.REPORT for s in steps.values()
    )
    assert steps["look"].state is StepState.SUCCEEDED
    assert steps["look"].approved_by == "amy"
    assert steps["drop"].state is StepState.SKIPPED
    assert [(d.step_id, d.kind) for d in result.divergences] == [
        ("change", "reported_changed"),
        ("drop", "skipped"),
    ]
    assert result.clean is False


async def test_autopilot_runs_safe_and_caution_but_dangerous_needs_a_named_confirmation(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine) as stack:
        lead = await _lead(stack)
        bo, cy = await stack.person("bo"), await stack.person("cy")
        name = unique("Auto")
        runbook = await stack.add_runbook(_runbook(name, [SAFE, CAUTION, DANGER]))
        refused = await stack.http.post(
            f"/api/runbooks/{runbook.id}/trust",
            json={"action": "set", "mode": "autopilot"},
            headers=lead,
        )
        assert refused.status_code == 400  # autopilot only by promotion
        promoted = await _ok(
            stack.http.post(
                f"/api/runbooks/{runbook.id}/trust",
                json={"action": "promote", "reason": "10 clean runs"},
                headers=lead,
            )
        )
        assert [(h["kind"], h["actor"]) for h in promoted.json()["history"]] == [
            ("promoted", "lead")
        ]
        incident = await _start(stack, name, log=str(log))
        state = await _until(
            stack,
            incident,
            "dangerous step waiting",
            lambda s: _steps(s)["drop"].state is StepState.AWAITING_APPROVAL,
        )
        assert _lines(log) == ["look", "change"]  # caution ran on its own under autopilot
        assert _steps(state)["drop"].requirement is Requirement.CONFIRM
        assert "undo-drop" in (_steps(state)["drop"].rollback or "")
        unconfirmed = await stack.http.post(
            f"/api/incidents/{incident}/steps/drop/approval", json={}, headers=bo
        )
        assert unconfirmed.status_code == 409
        assert "confirm by typing its name" in unconfirmed.json()["error"]
        confirmed = await stack.http.post(
            f"/api/incidents/{incident}/steps/drop/approval",
            json={"confirm": "Drop cache"},
            headers=bo,
        )
        assert confirmed.status_code == 200, confirmed.text
        # A critical incident: a dangerous step needs a second person (bo, first to act, is
        # the commander), who confirms by name too.
        assert "needs 1 more approval" in confirmed.json()["result"]
        assert _lines(log) == ["look", "change"]
        second = await stack.http.post(
            f"/api/incidents/{incident}/steps/drop/approval",
            json={"confirm": "drop"},
            headers=cy,
        )
        assert second.status_code == 200, second.text
        result = await stack.handle(incident).result()

    assert result.status is IncidentStatus.RESOLVED
    assert result.mode is Mode.AUTOPILOT
    assert _steps(result)["drop"].approved_by == "bo, cy"
    assert _lines(log) == ["look", "change", "drop"]
    assert [s.requirement for s in result.steps] == [
        Requirement.AUTO,
        Requirement.AUTO,
        Requirement.CONFIRM,
    ]


async def test_clean_copilot_runs_earn_a_promotion_suggestion_and_a_bad_autopilot_run_revokes_it(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine, promote_after_clean_runs=2) as stack:
        name = unique("Earn")
        fail = {
            "id": "verify",
            "title": "Verify",
            "command": "test -f {{ log }}.ok",
            "risk": "safe",
        }
        runbook = await stack.add_runbook(
            _runbook(name, [SAFE, CAUTION, fail], on_failure="rollback")
        )
        cy, lead = await stack.person("cy"), await _lead(stack)
        (tmp_path / "log.ok").write_text("")
        for _ in range(2):
            incident = await _start(stack, name, log=str(log))
            await _until(
                stack,
                incident,
                "caution waiting",
                lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
            )
            await _ok(
                stack.http.post(
                    f"/api/incidents/{incident}/steps/change/approval", json={}, headers=cy
                )
            )
            result = await stack.handle(incident).result()
            assert result.clean is True
            described = await stack.handle(incident).describe()
            assert described.typed_search_attributes.get(sa.CLEAN) is True
        trust = (await stack.http.get(f"/api/runbooks/{runbook.id}/trust", headers=cy)).json()
        assert trust["trust"]["mode"] == "copilot"
        assert "2 consecutive clean copilot runs" in trust["trust"]["suggestion"]
        assert [h["kind"] for h in trust["history"]] == ["suggested"]

        await _ok(
            stack.http.post(
                f"/api/runbooks/{runbook.id}/trust", json={"action": "promote"}, headers=lead
            )
        )
        (tmp_path / "log.ok").unlink()  # the verify step will fail this time
        incident = await _start(stack, name, log=str(log))
        result = await stack.handle(incident).result()
        assert result.mode is Mode.AUTOPILOT
        assert result.status is IncidentStatus.ROLLED_BACK
        trust = (await stack.http.get(f"/api/runbooks/{runbook.id}/trust", headers=cy)).json()

    assert trust["trust"]["mode"] == "copilot"
    assert "ended rolled_back under autopilot" in trust["trust"]["reason"]
    assert [h["kind"] for h in trust["history"]] == ["suggested", "promoted", "downgraded"]
    assert any("downgraded to copilot" in t.message for t in result.timeline)


async def test_pause_resume_and_take_over_mid_run(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    slow = {
        "id": "slow",
        "title": "Slow",
        "command": "sleep 2; echo slow >> {{ log }}",
        "risk": "safe",
    }
    after = {"id": "after", "title": "After", "command": "echo after >> {{ log }}", "risk": "safe"}
    last = {"id": "last", "title": "Last", "command": "echo last >> {{ log }}", "risk": "safe"}
    async with running_stack(client, engine) as stack:
        dee = await stack.person("dee")
        name = unique("Pause")
        await stack.add_runbook(_runbook(name, [slow, after, CAUTION, last]))
        incident = await _start(stack, name, log=str(log))
        await _until(
            stack, incident, "slow running", lambda s: _steps(s)["slow"].state is StepState.RUNNING
        )
        response = await stack.http.post(
            f"/api/incidents/{incident}/pause", json={"reason": "looking"}, headers=dee
        )
        assert response.status_code == 200, response.text
        state = await _until(
            stack,
            incident,
            "paused after the current step",
            lambda s: s.status is IncidentStatus.PAUSED,
        )
        assert _lines(log) == ["slow"]  # the running step finished, nothing new started
        assert _steps(state)["after"].state is StepState.PENDING
        await _ok(stack.http.post(f"/api/incidents/{incident}/resume", headers=dee))
        await _until(
            stack,
            incident,
            "caution waiting",
            lambda s: _steps(s)["change"].state is StepState.AWAITING_APPROVAL,
        )
        assert _lines(log) == ["slow", "after"]
        response = await stack.http.post(
            f"/api/incidents/{incident}/take-over", json={"reason": "I drive"}, headers=dee
        )
        assert response.status_code == 200, response.text
        await _ok(
            stack.http.post(
                f"/api/incidents/{incident}/steps/change/approval", json={}, headers=dee
            )
        )
        await _until(
            stack,
            incident,
            "last presented for a report",
            lambda s: _steps(s)["last"].state is StepState.AWAITING_REPORT,
        )
        await _ok(
            stack.http.post(
                f"/api/incidents/{incident}/steps/last/report",
                json={"outcome": "done"},
                headers=dee,
            )
        )
        result = await stack.handle(incident).result()

    assert result.mode is Mode.READ_ALONG
    assert _lines(log) == ["slow", "after", "change"]  # "last" was done by hand, not run
    assert _steps(result)["last"].requirement is Requirement.REPORT
    kinds = [t.kind for t in result.timeline]
    assert "paused" in kinds
    assert "resumed" in kinds
    assert "mode" in kinds


async def test_kill_switch_holds_running_incidents_and_new_ones_start_in_read_along(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        ops, eve = await stack.person("ops"), await stack.person("eve")
        name = unique("Kill")
        service = unique("svc-")
        await stack.add_runbook(_runbook(name, [CAUTION, SAFE]))
        incidents = []
        for i in range(2):
            body = generic_alert(
                name, service=service, labels={"log": f"{log}{i}"}, dedup_key=f"{name}-{i}"
            )
            incidents.append((await stack.post_generic(body)).json()["incident_id"])
        for incident in incidents:
            await _until(
                stack, incident, "waiting", lambda s: s.status is IncidentStatus.AWAITING_APPROVAL
            )
        response = await stack.http.post(
            "/api/killswitch",
            json={"scope": "service", "value": service, "reason": "bad deploy"},
            headers=ops,
        )
        assert response.status_code == 200, response.text
        assert response.json()["switch"]["actor"] == "ops"  # the token's person
        assert sorted(response.json()["incidents"]) == sorted(incidents)
        for incident in incidents:
            await _ok(
                stack.http.post(
                    f"/api/incidents/{incident}/steps/change/approval", json={}, headers=eve
                )
            )
        for i, incident in enumerate(incidents):
            state = await _until(
                stack,
                incident,
                "held by the kill switch",
                lambda s: s.status is IncidentStatus.PAUSED,
            )
            assert "kill switch service=" in state.pause_reason
            assert _lines(Path(f"{log}{i}")) == ["change"]  # the automatic step did not run
            refused = await stack.http.post(f"/api/incidents/{incident}/resume", headers=eve)
            assert refused.status_code == 409

        fresh = generic_alert(
            name, service=service, labels={"log": f"{log}new"}, dedup_key=f"{name}-new"
        )
        new_incident = (await stack.post_generic(fresh)).json()["incident_id"]
        state = await _until(
            stack,
            new_incident,
            "new incident presented read-along",
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        )
        assert state.mode is Mode.READ_ALONG
        assert "kill switch" in state.mode_reason

        await _ok(
            stack.http.post(
                "/api/killswitch",
                json={"scope": "service", "value": service, "engaged": False},
                headers=ops,
            )
        )
        for i, incident in enumerate(incidents):
            result = await stack.handle(incident).result()
            assert result.status is IncidentStatus.RESOLVED
            assert _lines(Path(f"{log}{i}")) == ["change", "look"]
            kinds = [t.kind for t in result.timeline]
            assert "kill_switch_engaged" in kinds
            assert "kill_switch_lifted" in kinds
        await _ok(stack.http.post(f"/api/incidents/{new_incident}/abort", headers=eve))


async def test_a_switch_engaged_while_an_automatic_step_runs_holds_the_next_one(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """Between two automatic steps the kill switches are read with the first one's output (one
    local activity): a switch only the database knows of (its broadcast never came) still holds
    the second step."""
    log, gate = tmp_path / "log", tmp_path / "gate"
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        name, service = unique("Between"), unique("between-svc-")
        wait_then_log = {
            "id": "wait",
            "title": "Wait for the gate",
            "command": "until test -e {{ gate }}; do sleep 0.05; done; echo wait >> {{ log }}",
            "risk": "safe",
        }
        runbook = _runbook(name, [wait_then_log, SAFE])
        runbook["variables"].append({"name": "gate", "source": "label:gate"})
        await stack.add_runbook(runbook)
        body = generic_alert(name, service=service, labels={"log": str(log), "gate": str(gate)})
        response = await stack.post_generic(body)
        assert response.status_code == 202, response.text
        incident = str(response.json()["incident_id"])
        await _until(
            stack,
            incident,
            "first step running",
            lambda s: _steps(s)["wait"].state is StepState.RUNNING,
        )
        switch = KillSwitch(
            scope=KillSwitchScope.SERVICE, value=service, engaged=True, actor="ops", reason="db"
        )
        await TrustStore(engine).set_kill_switch(switch)  # no signal: only the database knows
        gate.touch()
        state = await _until(stack, incident, "held", lambda s: s.status is IncidentStatus.PAUSED)
        assert "kill switch service=" in state.pause_reason
        assert _lines(log) == ["wait"]  # the second automatic step did not run
        assert local_activity_types(await history_events(stack.handle(incident))) == [
            # before the first automatic step: taken with the intake claim, in the input
            "store_step_output_then_check",
        ]
        lifted = switch.model_copy(update={"engaged": False})
        await TrustStore(engine).set_kill_switch(lifted)
        await _ok(stack.http.post(f"/api/incidents/{incident}/abort", headers=await _lead(stack)))
        await stack.handle(incident).result()


async def test_a_check_taken_before_a_pause_is_read_again_after_it(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """The check taken with a step's output counts only in that workflow task: after a
    breakpoint's pause the next automatic step reads the switches again."""
    log = tmp_path / "log"
    async with running_stack(client, engine, correlation_window_s=0) as stack:
        name, service = unique("Breakpoint"), unique("breakpoint-svc-")
        first = {"id": "one", "title": "One", "command": "echo one >> {{ log }}", "risk": "safe"}
        second = {**SAFE, "breakpoint": True}
        await stack.add_runbook(_runbook(name, [first, second]))
        body = generic_alert(name, service=service, labels={"log": str(log)})
        response = await stack.post_generic(body)
        assert response.status_code == 202, response.text
        incident = str(response.json()["incident_id"])
        await _until(stack, incident, "at the breakpoint", lambda s: s.paused)
        assert _lines(log) == ["one"]
        switch = KillSwitch(
            scope=KillSwitchScope.SERVICE, value=service, engaged=True, actor="ops", reason="db"
        )
        await TrustStore(engine).set_kill_switch(switch)  # no signal: only the database knows
        lead = await _lead(stack)
        await _ok(stack.http.post(f"/api/incidents/{incident}/resume", headers=lead))
        state = await _until(
            stack, incident, "held", lambda s: "kill switch service=" in s.pause_reason
        )
        assert state.paused
        assert _lines(log) == ["one"]
        assert local_activity_types(await history_events(stack.handle(incident))) == [
            "store_step_output_then_check",  # before the pause: not used after it
            "check_automation",
        ]
        await TrustStore(engine).set_kill_switch(switch.model_copy(update={"engaged": False}))
        await _ok(stack.http.post(f"/api/incidents/{incident}/abort", headers=lead))
        await stack.handle(incident).result()


async def test_blast_radius_limits_concurrent_automation(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    async with running_stack(client, engine, blast_radius=1, correlation_window_s=0) as stack:
        name = unique("Blast")
        service = unique("blast-svc-")  # slots are per service too: others' incidents stay out
        await stack.add_runbook(_runbook(name, [SAFE, CAUTION]))
        first = (
            await stack.post_generic(
                generic_alert(name, service=service, labels={"log": f"{log}1"})
            )
        ).json()["incident_id"]
        await _until(
            stack,
            first,
            "first holds a slot",
            lambda s: s.automation_slot and s.status is IncidentStatus.AWAITING_APPROVAL,
        )
        second = (
            await stack.post_generic(
                generic_alert(
                    name, service=service, labels={"log": f"{log}2"}, dedup_key=f"{name}-2"
                )
            )
        ).json()["incident_id"]
        state = await _until(
            stack,
            second,
            "second waits for a human",
            lambda s: _steps(s)["look"].state is StepState.AWAITING_APPROVAL,
        )
        assert "blast-radius limit" in _steps(state)["look"].note
        assert _lines(Path(f"{log}2")) == []
        fin = await stack.person("fin")
        await _ok(stack.http.post(f"/api/incidents/{first}/abort", headers=fin))
        await stack.handle(first).result()
        await _ok(stack.http.post(f"/api/incidents/{second}/abort", headers=fin))
        await stack.handle(second).result()


async def test_undo_one_step_and_a_failing_rollback_stops_for_a_human(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    counter = tmp_path / "replicas"
    counter.write_text("3")
    scale = {
        "id": "scale",
        "title": "Scale up",
        "risk": "safe",
        "command": "echo 9 > {{ counter }}; echo scaled >> {{ log }}",
        "capture": {"previous": "cat {{ counter }}"},
        "rollback": "echo {{ previous }} > {{ counter }}; echo unscaled >> {{ log }}",
    }
    broken = {
        "id": "flag",
        "title": "Set flag",
        "risk": "safe",
        "command": "echo flag >> {{ log }}",
        "rollback": "exit 5",
    }
    async with running_stack(client, engine) as stack:
        gil = await stack.person("gil")
        name = unique("Undo")
        runbook = _runbook(name, [scale, broken, CAUTION])
        runbook["variables"].append({"name": "counter", "source": "label:counter"})
        await stack.add_runbook(runbook)
        incident = await _start(stack, name, log=str(log), counter=str(counter))
        state = await _until(
            stack,
            incident,
            "caution waiting",
            lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        )
        assert _steps(state)["scale"].captured == {"previous": "3"}
        assert counter.read_text().strip() == "9"
        response = await stack.http.post(
            f"/api/incidents/{incident}/steps/scale/undo", json={}, headers=gil
        )
        assert response.status_code == 200, response.text
        state = await _until(
            stack,
            incident,
            "scale undone",
            lambda s: _steps(s)["scale"].state is StepState.ROLLED_BACK,
        )
        assert counter.read_text().strip() == "3"  # the exact value it ran with
        again = await stack.http.post(
            f"/api/incidents/{incident}/steps/scale/undo", json={}, headers=gil
        )
        assert again.status_code == 409
        await _ok(stack.http.post(f"/api/incidents/{incident}/abort", headers=gil))
        state = await _until(
            stack,
            incident,
            "failed rollback handed to a human",
            lambda s: s.status is IncidentStatus.NEEDS_HUMAN,
        )
        assert _steps(state)["flag"].state is StepState.INTERRUPTED
        assert "rollback failed" in (_steps(state)["flag"].error or "")
        await _ok(
            stack.http.post(
                f"/api/incidents/{incident}/steps/flag/decision",
                json={"action": "skip"},
                headers=gil,
            )
        )
        result = await stack.handle(incident).result()

    assert result.status is IncidentStatus.ABORTED
    assert _lines(log) == ["scaled", "flag", "unscaled"]
    assert [(d.step_id, d.kind) for d in result.divergences][:1] == [("scale", "undone")]


async def test_dry_run_executes_nothing_and_is_its_own_marked_workflow(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    marker = tmp_path / "created"
    reads = tmp_path / "reads"
    async with running_stack(client, engine) as stack:
        responder = await stack.person("dee")
        name = unique("Dry")
        runbook = await stack.add_runbook(
            _runbook(
                name,
                [
                    {
                        "id": "read",
                        "title": "Read",
                        "command": "echo read >> {{ log }}",
                        "risk": "safe",
                    },
                    {
                        "id": "create",
                        "title": "Create",
                        "command": "touch {{ log }}.created",
                        "rollback": "rm {{ log }}.created",
                        "risk": "caution",
                    },
                ],
            )
        )
        for safe_reads in (False, True):
            response = await stack.http.post(
                f"/api/runbooks/{runbook.id}/dry-run",
                params={"with_safe_reads": str(safe_reads).lower()},
                json=generic_alert(name, labels={"log": str(reads)}),
                headers=responder,
            )
            assert response.status_code == 200, response.text
            dry_id = response.json()["incident_id"]
            assert dry_id.startswith(f"dryrun-{runbook.id}-")
            result = await stack.handle(dry_id).result()
            assert result.dry_run is True
            assert result.status is IncidentStatus.RESOLVED
            create = _steps(result)["create"]
            assert create.state is StepState.PLANNED
            assert "would run: touch" in create.note
            assert "waits for one approval" in create.note
            assert "rollback: rm" in create.note
            assert not Path(f"{reads}.created").exists()
            described = await stack.handle(dry_id).describe()
            assert described.typed_search_attributes.get(sa.KIND) == "dry-run"
            assert _lines(reads) == (["read"] if safe_reads else [])
        listed = await stack.http.get(
            "/api/incidents", params={"runbook": runbook.id}, headers=responder
        )
        assert listed.status_code == 200, listed.text
        assert listed.json() == []  # dry runs are not incidents
    assert not marker.exists()


async def test_per_step_overrides_and_an_edited_command(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    steps = [
        {
            "id": "gated",
            "title": "Gated",
            "command": "echo gated >> {{ log }}",
            "risk": "safe",
            "require_approval": True,
        },
        {
            "id": "stop-here",
            "title": "Stop here",
            "command": "echo bp >> {{ log }}",
            "risk": "safe",
            "breakpoint": True,
        },
        {
            "id": "by-hand",
            "title": "By hand",
            "command": "echo never >> {{ log }}",
            "risk": "safe",
            "manual": True,
        },
        {
            "id": "edit-me",
            "title": "Edit me",
            "command": "echo original >> {{ log }}",
            "risk": "caution",
            "require_approval": True,
        },
    ]
    async with running_stack(client, engine) as stack:
        lead, hal, ivy = await _lead(stack), await stack.person("hal"), await stack.person("ivy")
        name = unique("Overrides")
        runbook = await stack.add_runbook(_runbook(name, steps))
        await _ok(
            stack.http.post(
                f"/api/runbooks/{runbook.id}/trust", json={"action": "promote"}, headers=lead
            )
        )
        incident = await _start(stack, name, log=str(log))
        await _until(
            stack,
            incident,
            "gated waits even in autopilot",
            lambda s: _steps(s)["gated"].state is StepState.AWAITING_APPROVAL,
        )
        await _ok(
            stack.http.post(f"/api/incidents/{incident}/steps/gated/approval", json={}, headers=hal)
        )
        state = await _until(
            stack, incident, "breakpoint pause", lambda s: s.status is IncidentStatus.PAUSED
        )
        assert "breakpoint before step 'Stop here'" in state.pause_reason
        assert _lines(log) == ["gated"]
        await _ok(stack.http.post(f"/api/incidents/{incident}/resume", headers=hal))
        await _until(
            stack,
            incident,
            "manual step presented",
            lambda s: _steps(s)["by-hand"].state is StepState.AWAITING_REPORT,
        )
        await _ok(
            stack.http.post(
                f"/api/incidents/{incident}/steps/by-hand/report",
                json={"outcome": "done"},
                headers=hal,
            )
        )
        await _until(
            stack,
            incident,
            "edit-me waiting",
            lambda s: _steps(s)["edit-me"].state is StepState.AWAITING_APPROVAL,
        )
        edited = f"echo edited >> {log}"
        proposed = await stack.http.post(
            f"/api/incidents/{incident}/steps/edit-me/approval",
            json={"command": edited},
            headers=hal,
        )
        # Whoever edits a command cannot be its only approver.
        assert "someone other than hal" in proposed.json()["result"]
        assert _lines(log) == ["gated", "bp"]
        again = await stack.http.post(
            f"/api/incidents/{incident}/steps/edit-me/approval", json={}, headers=hal
        )
        assert again.status_code == 409
        await _ok(
            stack.http.post(
                f"/api/incidents/{incident}/steps/edit-me/approval", json={}, headers=ivy
            )
        )
        result = await stack.handle(incident).result()

    assert _lines(log) == ["gated", "bp", "edited"]
    final = _steps(result)
    assert final["edit-me"].command == edited
    assert final["edit-me"].edited_from is not None
    assert "original" in final["edit-me"].edited_from
    assert [(d.step_id, d.kind) for d in result.divergences] == [("edit-me", "edited")]
    assert final["by-hand"].requirement is Requirement.REPORT
    assert final["gated"].requirement is Requirement.APPROVE
    assert final["stop-here"].requirement is Requirement.AUTO
    assert result.clean is False
