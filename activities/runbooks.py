"""Choose the runbook for an incident's alert and render its steps (reads the runbook store)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from db.runbooks import RunbookStore
from domain.alerts.choose import choose_runbook
from schemas.incident import SelectedRunbook, SelectRunbookInput


@dataclass
class RunbookActivities:
    store: RunbookStore

    @activity.defn(name="select_runbook")
    async def select_runbook(self, request: SelectRunbookInput) -> SelectedRunbook:
        return choose_runbook(await self.store.latest(), request.alert)
