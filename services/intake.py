"""Webhook intake: an alert is durable before it is acknowledged, then handed to Temporal.

Under a burst the Temporal server, not the API, sets the pace (a signal-with-start took a
median 169 ms at 16 concurrent senders on two shared cores). Waiting for it in every request
makes senders wait and retry. Here a firing alert's claim and the alert itself are written in
one transaction (db/intake_queue.py). Its delivery (the one Temporal call) then starts, up to
`DDRUN_INTAKE_CONCURRENCY` at once, the rest waiting their turn in the database:

* when it is the only alert on its way (a quiet API), the request waits for Temporal, up to
  `DDRUN_INTAKE_ACK_WAIT_S`, so it answers as before: 202 once the incident exists, and a
  refusal (a 4xx from Temporal) reaches the sender;
* with others on their way (a burst), it answers 202 at once with `queued: true`.

A passing outage (Temporal down or overloaded) is retried, with backoff, for as long as it
lasts; an alert Temporal refuses for good is kept as failed with the reason (`GET
/api/webhooks/admission` counts them) and its claim released. If this process dies, another
API process (or this one, restarted) takes its rows over once their lease runs out.
`DDRUN_INTAKE_MAX_QUEUED` bounds what one process holds: beyond it a webhook gets 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry import trace
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.incident_claims import Claim, IncidentClaimStore
from db.intake_queue import IntakeQueue, QueueCounts
from db.trust import TrustStore
from schemas.incident import AlertAccepted, IncidentInput
from schemas.intake import QueuedAlert
from schemas.settings import Settings
from services.incidents import (
    STARTING_GRACE,
    accepted,
    signal_alert,
    start_incident,
    start_or_join,
    with_reopens,
)
from services.intake_opening import with_intake_check, with_opening

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ddrun.api")

#: Temporal's answers that a retry cannot change (the request itself is wrong).
PERMANENT = frozenset(
    {
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.OUT_OF_RANGE,
        RPCStatusCode.FAILED_PRECONDITION,
        RPCStatusCode.ALREADY_EXISTS,
    }
)
_FIRST_RETRY_S = 0.1
_MAX_RETRY_S = 5.0
# Delivered rows are deleted in batches this long after a delivery: off the path of the new
# incident's first workflow task, whose automation check writes the same database.
_FLUSH_BATCH_S = 0.25
_SWEEP_EVERY_S = 1.0


def passing(err: Exception) -> bool:
    """Worth retrying: Temporal unreachable, overloaded or timing out, a database hiccup. The
    rest (Temporal refusing the request, an alert the client cannot encode) would fail again."""
    if isinstance(err, RPCError):
        return err.status not in PERMANENT
    return isinstance(err, OSError | TimeoutError | DBAPIError)


class IntakeFullError(Exception):
    """This process holds `intake_max_queued` undelivered alerts: the sender should retry."""


class _HolderStarting(Exception):
    """The incident this alert joins has not reached Temporal yet."""


class Intake:
    """One API process's queue of accepted alerts and their deliveries to Temporal."""

    def __init__(
        self, client: Client, settings: Settings, claims: IncidentClaimStore, engine: AsyncEngine
    ) -> None:
        self.client = client
        self.settings = settings
        self.claims = claims
        self.queue = IntakeQueue(engine, settings.intake_lease_s)
        self.trust = TrustStore(engine)
        self.owner = f"{socket.gethostname()[:24]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._slots = asyncio.Semaphore(settings.intake_concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._delivered: list[str] = []
        self._wake = asyncio.Event()
        self._maintainer: asyncio.Task[None] | None = None
        self.taken_over = 0

    @property
    def backlog(self) -> int:
        """Accepted alerts of this process not yet delivered."""
        return len(self._tasks)

    async def counts(self) -> QueueCounts:
        """Across every API process: alerts waiting for Temporal, and refused for good."""
        return await self.queue.counts()

    def start(self) -> None:
        """Start looking after the queue (also done by the first accepted alert)."""
        if self._maintainer is None or self._maintainer.done():
            self._maintainer = asyncio.create_task(
                self._maintain(), name="ddrun-intake", context=contextvars.Context()
            )

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let deliveries in flight finish (up to `grace_s`), delete what was delivered, and
        release the rest at once to whichever process comes next."""
        if self._maintainer is None:
            return
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace_s)
        for task in list(self._tasks.values()):
            task.cancel()
        self._maintainer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._maintainer
        self._maintainer = None
        try:
            await self._flush()
            await self.queue.release(self.owner)
        except Exception:  # the database is gone too: the leases run out instead
            log.exception("intake: could not release this process's queued alerts")

    async def accept(
        self, incident: IncidentInput, group: str | None, *, read_opening: bool = False
    ) -> AlertAccepted:
        """Claim and queue a firing alert in one transaction, then deliver it (see the module).
        With `read_opening` the incident's mode and kill switches are read in that transaction
        (services/intake_opening.py) rather than taken from `incident`."""
        if self.backlog >= self.settings.intake_max_queued:
            raise IntakeFullError(
                f"{self.backlog} accepted alerts are waiting for the workflow engine"
            )
        self.start()
        row_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        # A new run's first automatic step is checked with its claim when the API is quiet
        # (services/intake_opening.py). Under a burst its start waits its turn and the check would
        # mostly be too old to count: the workflow takes it, and claims stay short.
        quiet = not self._tasks

        def enqueue(conn: Connection, claim: Claim) -> QueuedAlert:
            opening = incident
            # Not for a join, which only signals. An alert for its own open incident may still
            # start a run (it closed meanwhile): it opens as a new one would.
            if read_opening and claim.action != "joined":
                opening = with_opening(conn, self.trust, opening)
            if claim.action == "start" and quiet:
                opening = with_intake_check(
                    conn, self.trust, opening, self.settings.intake_check_fresh_s
                )
            queued = _queued(opening, claim, group)
            self.queue.add(conn, row_id, queued, self.owner, now)
            return queued

        with tracer.start_as_current_span("incident_claim"):
            claim, queued = await self.claims.claim_then(
                incident.incident_id,
                group,
                enqueue,
                correlation_window_s=self.settings.correlation_window_s,
                reopen_window_s=self.settings.reopen_window_s,
                now=now,
            )
        alone = not self._tasks  # nothing else on its way: a quiet API waits for Temporal
        task = self._submit(row_id, queued)
        if alone:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.intake_ack_wait_s):
                    await asyncio.shield(task)
        return accepted(claim, incident.alert, incident.selected, queued=not task.done())

    # ------------------------------------------------------------------------- delivery

    def _submit(self, row_id: str, queued: QueuedAlert) -> asyncio.Task[None]:
        task = asyncio.create_task(self._deliver(row_id, queued), name=f"ddrun-intake-{row_id}")
        self._tasks[row_id] = task
        task.add_done_callback(self._settled(row_id))
        return task

    def _settled(self, row_id: str) -> Callable[[asyncio.Task[None]], None]:
        def settled(task: asyncio.Task[None]) -> None:
            self._tasks.pop(row_id, None)
            if not task.cancelled():
                task.exception()  # retrieved: a refusal is logged and kept in the queue

        return settled

    async def _deliver(self, row_id: str, queued: QueuedAlert) -> None:
        # One span from acceptance to delivery, under the webhook's trace when it has one (the
        # request's own span has ended by the time a queued alert is delivered).
        with tracer.start_as_current_span("intake_delivery"):
            await self._deliver_in_turn(row_id, queued)

    async def _deliver_in_turn(self, row_id: str, queued: QueuedAlert) -> None:
        async with self._slots:
            delay = _FIRST_RETRY_S
            while True:
                try:
                    await self._hand_over(queued)
                except _HolderStarting:
                    await asyncio.sleep(0.05)
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    if not passing(err):
                        await self._refused(row_id, queued, err)
                        raise
                    await self._retry_later(row_id, queued, err, delay)
                else:
                    self._delivered.append(row_id)
                    self._wake.set()
                    return
                delay = min(delay * 2, _MAX_RETRY_S)

    async def _hand_over(self, queued: QueuedAlert) -> None:
        """The one Temporal call; a join whose holder is gone is decided afresh."""
        incident = queued.incident
        if queued.joins is None:
            await start_incident(self.client, self.settings, incident)
            return
        if await signal_alert(self.client, queued.joins, incident.alert):
            return
        since = queued.since or datetime.now(UTC)
        if not await self.claims.forget_gone(queued.joins, since, STARTING_GRACE):
            raise _HolderStarting
        # Its holder never ran (terminated, or its start refused): this alert decides again.
        await start_or_join(self.client, self.settings, self.claims, incident, queued.group)

    async def _retry_later(
        self, row_id: str, queued: QueuedAlert, err: Exception, delay: float
    ) -> None:
        log.warning(
            "intake: %s not yet handed to the workflow engine (%s); retrying in %.1f s",
            queued.incident.alert.dedup_key[:120],
            err,
            delay,
        )
        with contextlib.suppress(Exception):
            await self.queue.attempt_failed(row_id, f"{type(err).__name__}: {err}")
        await asyncio.sleep(delay)

    async def _refused(self, row_id: str, queued: QueuedAlert, err: Exception) -> None:
        reason = (
            f"{err.status.name}: {err.message}"
            if isinstance(err, RPCError)
            else f"{type(err).__name__}: {err}"
        )
        log.error(
            "intake: the workflow engine refused %s for good: %s",
            queued.incident.alert.dedup_key[:120],
            reason,
        )
        await self.queue.fail(row_id, reason)
        if queued.joins is None and queued.claimed == "start":
            incident_id = queued.incident.incident_id
            await self.claims.abandon(Claim("start", incident_id, datetime.now(UTC)))
            check = queued.incident.intake_check
            if check is not None and check.slot:  # the run that would have held it never began
                await self.trust.release(incident_id)

    # ------------------------------------------------------------------------- upkeep

    async def _maintain(self) -> None:
        renewed = swept = time.monotonic() - _SWEEP_EVERY_S
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # meets its timeout, and this loop would then outlive its event loop's shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_SWEEP_EVERY_S / 2):
                    await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(_FLUSH_BATCH_S)
            try:
                await self._flush()
                now = time.monotonic()
                if self._tasks and now - renewed >= self.settings.intake_lease_s / 3:
                    renewed = now
                    await self.queue.renew(self.owner)
                if now - swept >= _SWEEP_EVERY_S:
                    swept = now
                    await self._take_over()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("intake: queue upkeep failed; trying again")

    async def _flush(self) -> None:
        done, self._delivered = self._delivered, []
        try:
            await self.queue.remove(done)
        except BaseException:
            self._delivered.extend(done)
            raise

    async def _take_over(self) -> None:
        """Rows a dead process left: delivered here, unless their incident closed after they
        were accepted (then they reached it before the crash)."""
        room = self.settings.intake_max_queued - self.backlog
        if room <= 0:
            return
        for row in await self.queue.take_over(self.owner, min(room, 500)):
            target = row.alert.joins or row.alert.incident.incident_id
            if await self.claims.closed_after(target, row.accepted_at):
                self._delivered.append(row.id)
                continue
            self.taken_over += 1
            log.warning(
                "intake: delivering %s, accepted at %s by an API process that stopped",
                row.alert.incident.alert.dedup_key[:120],
                row.accepted_at.isoformat(),
            )
            self._submit(row.id, row.alert)


def _queued(incident: IncidentInput, claim: Claim, group: str | None) -> QueuedAlert:
    if claim.action == "joined":
        return QueuedAlert(
            incident=incident,
            joins=claim.incident_id,
            since=claim.since,
            group=group,
            claimed="joined",
        )
    return QueuedAlert(incident=with_reopens(incident, claim), group=group, claimed=claim.action)
