"""The workflow's side of the intake claims: a closing incident releases its correlation group
and records its run for the reopen window (a local activity: one short database write)."""

from __future__ import annotations

from temporalio import activity

from db.incident_claims import IncidentClaimStore
from schemas.incident_runs import IncidentClosed


class IncidentClaimActivities:
    def __init__(self, store: IncidentClaimStore) -> None:
        self._store = store

    @activity.defn
    async def record_incident_close(self, closed: IncidentClosed) -> None:
        await self._store.record_close(
            closed.incident_id, closed.run_id, closed.status, closed.closed_at
        )
