"""Choose the runbook for an incident's alert and render its steps (reads runbooks and mappings)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from db.mappings import MappingStore
from db.runbooks import RunbookStore
from domain.alerts.choose import choose_runbook
from domain.alerts.match import DEFAULT_THRESHOLD
from schemas.incident import SelectedRunbook, SelectRunbookInput


@dataclass
class RunbookActivities:
    """`mappings`: the operators' explicit rules (none when not given); `threshold`: the
    confidence below which the incident is told no runbook matched (settings.match_threshold)."""

    store: RunbookStore
    mappings: MappingStore | None = None
    threshold: float = DEFAULT_THRESHOLD

    @activity.defn(name="select_runbook")
    async def select_runbook(self, request: SelectRunbookInput) -> SelectedRunbook:
        mappings = await self.mappings.list() if self.mappings is not None else []
        return choose_runbook(
            await self.store.latest(),
            request.alert,
            mappings=mappings,
            threshold=self.threshold,
        )
