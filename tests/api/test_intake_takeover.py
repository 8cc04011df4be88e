"""Issue 13: accepted alerts an API process left behind (it died before handing them to
Temporal) are delivered by the next process once their lease ran out; one whose incident
closed after it was accepted had reached it, and is only removed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.incident_claims import IncidentClaimStore
from db.intake_queue import IntakeQueue
from db.write_turns import write_in_one_call
from domain.incident_ids import incident_id_for
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import AlertAccepted, IncidentInput
from schemas.intake import QueuedAlert
from services.incidents import deliver_alert
from services.intake import Intake
from tests.harness import stack_settings, unique
from tests.support import assert_eventually, started

pytestmark = pytest.mark.temporal


class _Inputs:
    """Keeps the input deliver_alert builds, as the webhook's intake would receive it."""

    def __init__(self) -> None:
        self.seen: list[IncidentInput] = []

    async def accept(
        self, incident: IncidentInput, group: str | None, *, read_opening: bool = False
    ) -> AlertAccepted:
        self.seen.append(incident)
        return AlertAccepted(
            incident_id=incident.incident_id,
            dedup_key=incident.alert.dedup_key,
            status="firing",
            action="started_or_attached",
        )


def _alert(name: str) -> Alert:
    return Alert(
        source=AlertSource.GENERIC,
        name=name,
        dedup_key=f"{name}-key",
        event_id=uuid.uuid4().hex,
        status=AlertStatus.FIRING,
        severity="warning",
        service=name.lower(),
        title=f"{name} fired",
        received_at=datetime.now(UTC),
        payload_digest="0" * 64,
    )


async def test_rows_left_by_a_dead_process_are_delivered_by_the_next(
    client: Client, engine: AsyncEngine
) -> None:
    settings = stack_settings(client, intake_lease_s=1.0)
    claims = IncidentClaimStore(engine)
    queue = IntakeQueue(engine, settings.intake_lease_s)
    inputs = _Inputs()
    left, delivered_before = _alert(unique("Left")), _alert(unique("Reached"))
    for alert in (left, delivered_before):
        await deliver_alert(client, settings, alert, intake=inputs)
    accepted_at = datetime.now(UTC) - timedelta(seconds=5)  # its lease ran out long ago
    ids = {incident.incident_id: uuid.uuid4().hex for incident in inputs.seen}

    def leave(conn: object) -> None:  # as the dead process wrote them, with their claims
        for incident in inputs.seen:
            claims._decide(conn, incident.incident_id, None, accepted_at, 0, 0)  # type: ignore[arg-type]
            queue.add(
                conn,  # type: ignore[arg-type]
                ids[incident.incident_id],
                QueuedAlert(incident=incident),
                "a-process-that-died",
                accepted_at,
            )

    await write_in_one_call(engine, leave)
    # The second reached its incident before the crash, and that incident has closed since.
    reached = incident_id_for(delivered_before)
    await claims.record_close(reached, "run-1", "resolved", datetime.now(UTC))

    intake = Intake(client, settings, claims, engine)
    intake.start()
    try:
        left_id = incident_id_for(left)
        handle = client.get_workflow_handle(left_id)
        await started(handle)  # the left alert delivered
        assert intake.taken_over >= 1
        for incident_id in (left_id, reached):
            await assert_eventually(
                lambda: queue.start_waiting(incident_id),  # noqa: B023 - awaited here
                lambda waiting: not waiting,
                what="the row gone from the queue",
            )
        with pytest.raises(RPCError) as not_there:
            await client.get_workflow_handle(reached).describe()
        assert not_there.value.status is RPCStatusCode.NOT_FOUND
        await handle.terminate("test done")
    finally:
        await intake.stop()
