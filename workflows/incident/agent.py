"""Commands on the customer's agent, raced against a human's abort."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.incident import RunCommandInput, RunCommandResult
    from schemas.runbook import StepRisk
    from workflows.incident import stubs
    from workflows.incident.core import Aborted, Incident


class Agent:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    async def run_command(
        self, step_id: str, command: str, timeout_s: int, risk: StepRisk, purpose: str
    ) -> RunCommandResult:
        """Run on the agent, racing a human's abort; an abort cancels and waits for the agent.

        A rollback is not abortable: it is what an abort runs.
        """
        i = self._i
        title = {v.id: v.title for v in i.state.steps}.get(step_id, step_id)
        task = asyncio.ensure_future(
            stubs.run_command(
                RunCommandInput(
                    incident_id=i.state.id,
                    step_id=step_id,
                    command=command,
                    timeout_s=timeout_s,
                    purpose="rollback" if purpose == "rollback" else "step",
                    mode=i.state.mode,
                ),
                task_queue=i.inp.agent_task_queue,
                risk=risk,
                summary=f"{purpose} {step_id}: {title}",
            )
        )
        if purpose == "rollback":
            return await task
        await workflow.wait_condition(lambda: task.done() or i.abort is not None)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ActivityError):
                await task
            raise Aborted()
        return task.result()
