"""The baseline: bare Temporal with the same SDK, one workflow whose first act is one activity
on a separate queue running a subprocess that prints its clock (as the incident's first step)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner


def bare_workflow_options() -> dict[str, Any]:
    """The bare workflow worker's options: the SDK's default (the sandbox), or with
    `BENCH_BARE_UNSANDBOXED=1` the unsandboxed runner the product's worker uses, so a figure
    can be given against both floors."""
    if os.environ.get("BENCH_BARE_UNSANDBOXED") == "1":
        return {"workflow_runner": UnsandboxedWorkflowRunner()}
    return {}


@activity.defn
async def run_date(_: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", "date +%s.%N", stdout=asyncio.subprocess.PIPE
    )
    out, _err = await proc.communicate()
    return out.decode().strip()


@workflow.defn
class BareWorkflow:
    @workflow.run
    async def run(self, agent_queue: str) -> str:
        return await workflow.execute_activity(
            run_date,
            agent_queue,
            task_queue=agent_queue,
            start_to_close_timeout=timedelta(seconds=30),
        )


@workflow.defn
class BareSteps:
    """The per-step baseline: `steps` of the same activity one after the other."""

    @workflow.run
    async def run(self, agent_queue: str, steps: int) -> list[str]:
        out = []
        for _ in range(steps):
            out.append(
                await workflow.execute_activity(
                    run_date,
                    agent_queue,
                    task_queue=agent_queue,
                    start_to_close_timeout=timedelta(seconds=30),
                )
            )
        return out
