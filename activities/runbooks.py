"""Choose the runbook for an incident's alert and render its steps (reads the runbook store)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from db.runbooks import RunbookStore
from domain.alerts.prefill import prepare
from domain.alerts.selectors import select_by_selectors
from schemas.incident import SelectedRunbook, SelectRunbookInput


@dataclass
class RunbookActivities:
    store: RunbookStore

    @activity.defn(name="select_runbook")
    async def select_runbook(self, request: SelectRunbookInput) -> SelectedRunbook:
        runbooks = await self.store.latest()
        match = select_by_selectors(runbooks, request.alert)
        if match is None:
            return SelectedRunbook(
                runbook=None,
                reason=f"no runbook matched: no selector of {len(runbooks)} runbook(s) "
                f"fits alert {request.alert.name!r} (service {request.alert.service!r})",
            )
        return prepare(match.runbook, request.alert, reason=f"matched by {match.reason}")
