"""A webhook delivery counts as handled only once its work finished (issue 13, bursts).

Before, the id was claimed before Temporal took the alert: an API killed in between left the
claim, and the sender's retry was answered "duplicate" for an alert that never became an
incident. Now the claim is pending until `finish`, and a pending claim older than the lease is
taken over by a retry. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.deliveries import PENDING_SUFFIX, Claim, DeliveryStore, delivery_digest
from db.tables import DeliveryRecord
from tests.harness import unique

LEASE_S = 30.0


async def _age_pending(engine: AsyncEngine, source: str, delivery: str, seconds: float) -> None:
    """What a killed API leaves behind: a pending claim, `seconds` old."""
    async with AsyncSession(engine) as session:
        await session.exec(
            update(DeliveryRecord)
            .where(
                DeliveryRecord.source == source + PENDING_SUFFIX,  # type: ignore[arg-type]
                DeliveryRecord.delivery_id == delivery_digest(delivery),  # type: ignore[arg-type]
            )
            .values(received_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )
        await session.commit()


async def test_one_of_concurrent_copies_handles_a_delivery_and_only_after_finish_is_it_done(
    engine: AsyncEngine,
) -> None:
    store = DeliveryStore(engine, retention_s=3600)
    delivery = unique("evt-")
    claims = await asyncio.gather(*(store.begin("pagerduty", delivery, LEASE_S) for _ in range(8)))
    assert sorted(c.value for c in claims) == ["in_flight"] * 7 + ["new"]
    assert await store.begin("opsgenie", delivery, LEASE_S) is Claim.NEW  # another id space
    assert await store.begin("pagerduty", delivery, LEASE_S) is Claim.IN_FLIGHT
    await store.finish("pagerduty", delivery)
    assert await store.begin("pagerduty", delivery, LEASE_S) is Claim.DONE
    assert not await store.claim("pagerduty", delivery)  # the same rows as `claim`'s


async def test_an_abandoned_delivery_is_handled_by_the_retry(engine: AsyncEngine) -> None:
    store = DeliveryStore(engine, retention_s=3600)
    delivery = unique("evt-")
    assert await store.begin("pagerduty", delivery, LEASE_S) is Claim.NEW
    await store.abandon("pagerduty", delivery)  # Temporal was down: the work failed
    assert await store.begin("pagerduty", delivery, LEASE_S) is Claim.NEW


async def test_a_claim_left_by_a_killed_request_is_taken_over_after_the_lease(
    engine: AsyncEngine,
) -> None:
    store = DeliveryStore(engine, retention_s=3600)
    delivery = unique("evt-")
    assert await store.begin("grafana", delivery, LEASE_S) is Claim.NEW
    # The request died here. Within the lease it may still be running: not taken over.
    await _age_pending(engine, "grafana", delivery, LEASE_S / 2)
    assert await store.begin("grafana", delivery, LEASE_S) is Claim.IN_FLIGHT
    await _age_pending(engine, "grafana", delivery, LEASE_S * 2)
    takers = await asyncio.gather(*(store.begin("grafana", delivery, LEASE_S) for _ in range(6)))
    assert sorted(c.value for c in takers) == ["in_flight"] * 5 + ["new"]
    await store.finish("grafana", delivery)
    assert await store.begin("grafana", delivery, LEASE_S) is Claim.DONE
