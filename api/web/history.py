"""Incident history as the library and the dashboard read it: one row per incident from
Temporal visibility (search attributes only, no history replay), kept for a few seconds so a
page render never waits for a 10,000-row listing; a stale copy is served while a fresh one is
fetched in the background. The API's lifespan starts the first (slow: 10,000 incidents take
tens of seconds in SQLite visibility) read at start-up; until it is done, pages show "loading
history" and poll rather than wait."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from temporalio.client import Client

from api.deps import AppState
from schemas import search_attributes as sa
from services import incidents as incident_client

MAX_ROWS = 20_000
FRESH_FOR_S = 10.0
#: Read a little before the last read began: a close in flight then is not missed.
CLOCK_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class IncidentRow:
    id: str
    service: str
    severity: str
    status: str
    runbook: str | None
    started_at: datetime | None
    closed_at: datetime | None
    clean: bool
    automated: bool
    escalated: bool

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def seconds_to_resolve(self) -> float | None:
        if self.started_at is None or self.closed_at is None:
            return None
        return (self.closed_at - self.started_at).total_seconds()


async def fetch(
    client: Client, query: str | None = None, limit: int = MAX_ROWS
) -> list[IncidentRow]:
    """Newest first. The page size follows the limit: the server reads a whole page of rows
    whatever the limit, so a 100-row list must not ask for the default 1,000."""
    query = query or incident_client.visibility_query()
    rows: list[IncidentRow] = []
    async for execution in client.list_workflows(query, limit=limit, page_size=min(limit, 1000)):
        attrs = execution.typed_search_attributes
        rows.append(
            IncidentRow(
                id=execution.id,
                service=attrs.get(sa.SERVICE) or "unknown",
                severity=attrs.get(sa.SEVERITY) or "unknown",
                status=attrs.get(sa.STATUS) or "unknown",
                runbook=attrs.get(sa.RUNBOOK_ID),
                started_at=execution.start_time,
                closed_at=execution.close_time,
                clean=bool(attrs.get(sa.CLEAN)),
                automated=bool(attrs.get(sa.AUTOMATED)),
                escalated=bool(attrs.get(sa.ESCALATED)),
            )
        )
    return rows


class IncidentHistory:
    """The cached rows; `rows()` waits only the first time (or after `refresh`).

    After the first full read, a refresh asks only for what can have changed: incidents still
    running, and those closed since the last read (a closed incident's attributes are final),
    so keeping 10,000 incidents current costs a few rows, not 10,000.
    """

    def __init__(self, client: Client, fresh_for_s: float = FRESH_FOR_S) -> None:
        self._client = client
        self._fresh_for_s = fresh_for_s
        self._by_id: dict[str, IncidentRow] = {}
        self._rows: list[IncidentRow] | None = None
        self._read_from: datetime | None = None
        self._at = 0.0
        self._refreshing: asyncio.Task[None] | None = None
        self.generation = 0  # changes whenever the rows do: derived views cache on it
        #: Start-up's computing of the views derived from the first read (library, dashboard).
        self.warming: asyncio.Task[None] | None = None

    async def _load(self) -> None:
        started = datetime.now(UTC) - CLOCK_MARGIN
        query = incident_client.visibility_query()
        if self._read_from is not None:
            since = self._read_from.isoformat()
            query += f' AND (ExecutionStatus = "Running" OR CloseTime >= "{since}")'
        changed = self._rows is None
        for row in await fetch(self._client, query):
            if self._by_id.get(row.id) != row:
                self._by_id[row.id] = row
                changed = True
        if changed:
            self._rows = list(self._by_id.values())
            self.generation += 1
        self._read_from = started
        self._at = time.monotonic()

    def prefetch(self) -> None:
        """Start the first (full, slow with many incidents) read without waiting for it."""
        if self._rows is None and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.create_task(self._load())

    @property
    def ready(self) -> bool:
        return self._rows is not None

    async def rows_within(self, wait_s: float) -> list[IncidentRow] | None:
        """The rows, or None when the first read is not done within `wait_s` (it goes on in
        the background: ask again later)."""
        if self._rows is None:
            self.prefetch()
            task = self._refreshing
            if task is not None and wait_s > 0:
                await asyncio.wait({task}, timeout=wait_s)  # never cancels the read
            if task is not None and task.done() and (task.cancelled() or task.exception()):
                self._refreshing = None  # a failed read is tried again on the next ask
            if self._rows is None:
                return None
        return await self.rows()

    async def close(self) -> None:
        for task in (self._refreshing, self.warming):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def rows(self) -> list[IncidentRow]:
        if self._rows is None and self._refreshing is not None and not self._refreshing.done():
            with contextlib.suppress(Exception):
                await self._refreshing  # the prefetch under way
        if self._rows is None:
            await self._load()
        elif time.monotonic() - self._at > self._fresh_for_s and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self._load())
        assert self._rows is not None  # noqa: S101 - loaded above
        return self._rows

    async def refresh(self) -> list[IncidentRow]:
        if self._refreshing is not None and not self._refreshing.done():
            with contextlib.suppress(Exception):
                await self._refreshing
        await self._load()
        assert self._rows is not None  # noqa: S101 - loaded above
        return self._rows


def history_of_app(app: FastAPI, state: AppState) -> IncidentHistory:
    """The app's one cache (made on first use)."""
    history = getattr(app.state, "web_history", None)
    if not isinstance(history, IncidentHistory):
        history = app.state.web_history = IncidentHistory(state.client)
    return history


def history_of(request: Request, state: AppState) -> IncidentHistory:
    return history_of_app(request.app, state)


async def history_or_none(request: Request, state: AppState) -> list[IncidentRow] | None:
    """The rows for a page, or None while the first read (or start-up's computing of the views
    derived from it) is still under way."""
    history = history_of(request, state)
    wait_s = state.settings.web_history_wait_s
    rows = await history.rows_within(wait_s)
    task = history.warming
    if rows is None or task is None or task.done():
        return rows
    if wait_s > 0:
        await asyncio.wait({task}, timeout=wait_s)
    return rows if task.done() else None
