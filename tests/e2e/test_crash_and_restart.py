"""Durability: a SIGKILLed agent or a restarted server loses nothing and runs nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from infra.dev_stack import DevStack
from schemas import search_attributes as sa
from schemas.incident import ApprovalDecision, IncidentStatus, InterruptedStepDecision, StepState
from schemas.settings import Settings
from services import incidents as incident_client
from tests.harness import generic_alert, running_stack, unique
from tests.support import REPO, assert_eventually, temporal_bin

pytestmark = [pytest.mark.temporal, pytest.mark.e2e]


class AgentProcess:
    """The real agent worker as a separate OS process, as a customer runs it."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DDRUN_TEMPORAL_ADDRESS": self.settings.temporal_address,
            "DDRUN_TEMPORAL_NAMESPACE": self.settings.temporal_namespace,
            "DDRUN_AGENT_TASK_QUEUE": self.settings.agent_task_queue,
        }
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workers.agent"], env=env, cwd=REPO, stdout=out, stderr=out
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def _lines_async(path: Path) -> list[str]:
    return _lines(path)


async def test_killed_agent_resumes_safe_steps_and_never_reruns_a_risky_step_silently(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    log = tmp_path / "actions.log"
    async with running_stack(client, engine, with_agent=False) as stack:
        agent = AgentProcess(stack.settings, tmp_path / "agent.log")
        agent.start()
        try:
            name = unique("Crash")
            await stack.add_runbook(
                {
                    "id": unique("crash-"),
                    "title": "Two slow steps",
                    "selectors": [{"alertname": name}],
                    "variables": [{"name": "log", "source": "label:log"}],
                    "steps": [
                        {
                            "id": "safe-slow",
                            "title": "Slow read",
                            "command": "echo start-safe >> {{ log }}; sleep 4; "
                            "echo end-safe >> {{ log }}",
                            "risk": "safe",
                        },
                        {
                            "id": "risky-slow",
                            "title": "Slow change",
                            "command": "echo start-risky >> {{ log }}; sleep 4; "
                            "echo end-risky >> {{ log }}",
                            "risk": "caution",
                        },
                    ],
                }
            )
            response = await stack.post_generic(generic_alert(name, labels={"log": str(log)}))
            incident_id = response.json()["incident_id"]

            await assert_eventually(
                lambda: _lines_async(log), lambda lines: "start-safe" in lines, what="safe start"
            )
            agent.kill()
            await asyncio.sleep(5)  # longer than the command: it must have died with the agent
            assert _lines(log) == ["start-safe"]
            agent.start()
            state = await assert_eventually(
                lambda: stack.state(incident_id),
                lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
                timeout=45,
                what="safe step retried on the new agent",
            )
            assert state.steps[0].state is StepState.SUCCEEDED
            assert state.steps[0].attempts == 2
            assert _lines(log) == ["start-safe", "start-safe", "end-safe"]

            await incident_client.approve_step(
                client, incident_id, ApprovalDecision(step_id="risky-slow", approver="alice")
            )
            await assert_eventually(
                lambda: _lines_async(log), lambda lines: "start-risky" in lines, what="risky start"
            )
            agent.kill()
            agent.start()  # a live agent is available: a retry *could* run, and must not
            state = await assert_eventually(
                lambda: stack.state(incident_id),
                lambda s: s.status is IncidentStatus.NEEDS_HUMAN,
                timeout=45,
                what="risky step handed to a human",
            )
            assert state.steps[1].state is StepState.INTERRUPTED
            await asyncio.sleep(3)
            assert _lines(log).count("start-risky") == 1
            assert "end-risky" not in _lines(log)

            await incident_client.decide_step(
                client,
                incident_id,
                InterruptedStepDecision(step_id="risky-slow", actor="bob", action="retry"),
            )
            result = await stack.handle(incident_id).result()
            assert result.status is IncidentStatus.RESOLVED
            assert _lines(log).count("start-risky") == 2
            assert _lines(log).count("end-risky") == 1
        finally:
            agent.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture
async def own_server_factory(
    dev_stack: DevStack, tmp_path: Path
) -> AsyncIterator[tuple[int, Path]]:
    yield _free_port(), tmp_path / "temporal.db"


async def _start_server(port: int, db: Path, dev_stack: DevStack) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        port=port,
        dev_server_existing_path=temporal_bin(),
        dev_server_database_filename=str(db),
        dev_server_extra_args=[*dev_stack.pragma_args(), *dev_stack.dynamic_config_args()],
        search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )


async def test_incident_waiting_for_approval_survives_a_server_restart(
    engine: AsyncEngine, dev_stack: DevStack, own_server_factory: tuple[int, Path]
) -> None:
    port, db = own_server_factory
    env = await _start_server(port, db, dev_stack)
    name = unique("Restart")
    try:
        async with running_stack(env.client, engine) as stack:
            settings = stack.settings
            await stack.add_runbook(
                {
                    "id": unique("restart-"),
                    "title": "Needs approval",
                    "selectors": [{"alertname": name}],
                    "steps": [
                        {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
                        {"id": "fix", "title": "Fix", "command": "echo fixed", "risk": "caution"},
                    ],
                }
            )
            response = await stack.post_generic(generic_alert(name))
            incident_id = response.json()["incident_id"]
            await assert_eventually(
                lambda: stack.state(incident_id),
                lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
                what="waiting before the restart",
            )
    finally:
        await env.shutdown()

    env = await _start_server(port, db, dev_stack)
    try:
        async with running_stack(
            env.client,
            engine,
            orchestrator_task_queue=settings.orchestrator_task_queue,
            agent_task_queue=settings.agent_task_queue,
        ) as stack:
            rows = await incident_client.list_incidents(
                env.client, incident_client.visibility_query(status="awaiting_approval")
            )
            assert incident_id in [r.id for r in rows]
            await incident_client.approve_step(
                env.client, incident_id, ApprovalDecision(step_id="fix", approver="alice")
            )
            result = await stack.handle(incident_id).result()
            assert result.status is IncidentStatus.RESOLVED
            assert result.steps[1].stdout.strip() == "fixed"
            assert result.steps[1].approved_by == "alice"
    finally:
        await env.shutdown()
