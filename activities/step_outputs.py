"""Store a command's full output (as the agent returned it) outside the incident's history."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from db.step_outputs import StepOutputStore
from schemas.incident import StepOutput


@dataclass
class StepOutputActivities:
    store: StepOutputStore

    @activity.defn(name="store_step_output")
    async def store_step_output(self, output: StepOutput) -> None:
        """Idempotent (one row per incident, run, step, purpose and attempt)."""
        await self.store.save(output)
