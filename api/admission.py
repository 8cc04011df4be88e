"""Bounded in-flight webhook work: a saturated API answers 429 + Retry-After at once.

Under a burst, unbounded concurrency makes every request slower until senders time out, and a
timed-out sender does not know whether its alert was taken. A fixed number of webhook requests
(`DDRUN_WEBHOOK_MAX_IN_FLIGHT`, per API process) are handled at a time; the next one is refused
before its body is read, which costs the sender one round trip and tells it when to retry
(Alertmanager, Grafana, PagerDuty and Opsgenie all retry a 429). A refusal is never an accepted
alert, so nothing is lost: either the sender got a 2xx and its alert is in the database on its
way to Temporal (services/intake.py), or it retries.

`GET /api/webhooks/admission` says how full the gate is (readers only).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import Reader
from api.deps import State

log = logging.getLogger(__name__)

#: The routes the gate guards; everything else (the API for humans, Slack) is never refused.
GATED_PREFIX = "/webhooks/"
#: Seconds a refused sender is asked to wait: a burst drains in well under that.
RETRY_AFTER_S = 1


@dataclass
class Admission:
    """The counters of one API process's gate (the event loop is single-threaded: no lock)."""

    limit: int
    in_flight: int = 0
    admitted: int = 0
    refused: int = 0
    peak: int = field(default=0)

    def enter(self) -> bool:
        if self.in_flight >= self.limit:
            self.refused += 1
            return False
        self.in_flight += 1
        self.admitted += 1
        self.peak = max(self.peak, self.in_flight)
        return True

    def leave(self) -> None:
        self.in_flight -= 1


_REFUSAL = json.dumps(
    {
        "error": "too many webhook requests in flight; nothing was accepted, "
        f"retry after {RETRY_AFTER_S} s"
    }
).encode()


class AdmissionMiddleware:
    """Pure ASGI (no body buffering): the refusal is sent before `receive` is ever called."""

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(GATED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        if not self.admission.enter():
            await _refuse(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.leave()


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_REFUSAL)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _REFUSAL})


class AdmissionView(BaseModel):
    in_flight: int
    limit: int
    admitted: int
    refused: int
    peak: int
    # The intake queue (services/intake.py): this process's alerts not yet handed to Temporal,
    # and across every process those waiting and those Temporal refused for good.
    intake_backlog: int
    intake_waiting: int
    intake_failed: int


router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.get("/admission")
async def admission_stats(request: Request, state: State, _principal: Reader) -> AdmissionView:
    """This process's gate since it started (each API worker process has its own)."""
    gate: Admission = request.app.state.admission
    queue = await state.intake.counts()
    return AdmissionView(
        intake_backlog=state.intake.backlog,
        intake_waiting=queue.waiting,
        intake_failed=queue.failed,
        in_flight=gate.in_flight,
        limit=gate.limit,
        admitted=gate.admitted,
        refused=gate.refused,
        peak=gate.peak,
    )
