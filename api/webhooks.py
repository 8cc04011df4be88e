"""Alert webhooks: verify, bound, validate and normalise, then hand each alert to Temporal.

A 202 is answered only after Temporal durably accepted every alert of the body; if it is down
the source gets a 503 and retries, and the retry is harmless (deliveries dedupe by event id).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace

from api.body import parse_json, read_limited
from api.deps import State
from api.errors import UnauthorizedError
from domain.alerts.choose import choose_runbook
from domain.alerts.normalize import alertmanager, generic
from domain.alerts.redaction import redact_alert
from domain.trust import start_mode
from schemas.alert import Alert, AlertStatus
from schemas.webhooks.alertmanager import AlertmanagerWebhook
from schemas.webhooks.generic import GenericAlertBody
from workflows.incident_client import deliver_alert

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger(__name__)
tracer = trace.get_tracer("ddrun.api")


def _check_bearer(request: Request, expected: str | None) -> None:
    if expected is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise UnauthorizedError("missing or wrong bearer token")


async def _deliver_all(state: State, alerts: list[Alert], extra: dict[str, object]) -> JSONResponse:
    accepted = []
    redactor = state.redactor
    alerts = [redact_alert(a, redactor) for a in alerts]
    firing = any(a.status is AlertStatus.FIRING for a in alerts)
    runbooks = await state.runbooks.latest() if firing else []
    switches = await state.trust.kill_switches() if firing else []
    for alert in alerts:
        with tracer.start_as_current_span("deliver_alert") as span:
            span.set_attribute("ddrun.dedup_key", alert.dedup_key)
            selected = choose_runbook(runbooks, alert)
            runbook_id = selected.runbook.id if selected.runbook else None
            trust = await state.trust.get(runbook_id) if runbook_id else None
            mode, reason = start_mode(trust, switches, alert.service, runbook_id)
            accepted.append(
                await deliver_alert(
                    state.client,
                    state.settings,
                    alert,
                    selected,
                    mode=mode,
                    mode_reason=reason,
                    kill_switches=switches,
                )
            )
    first = next((a.incident_id for a in accepted if a.incident_id), None)
    body = {
        "incident_id": first,
        "alerts": [a.model_dump(mode="json") for a in accepted],
        **extra,
    }
    return JSONResponse(body, status_code=202)


@router.post("/alertmanager", status_code=202)
async def alertmanager_webhook(request: Request, state: State) -> JSONResponse:
    token = state.settings.alertmanager_token
    _check_bearer(request, token.get_secret_value() if token else None)
    raw = await read_limited(request, state.settings.max_body_bytes)
    body = AlertmanagerWebhook.model_validate(parse_json(raw))
    received = datetime.now(UTC)
    alerts = alertmanager.normalize(body, received, hashlib.sha256(raw).hexdigest())
    if body.truncatedAlerts:
        log.warning(
            "alertmanager group %s: %d alerts truncated by max_alerts",
            body.groupKey,
            body.truncatedAlerts,
        )
    return await _deliver_all(state, alerts, {"truncated_alerts": body.truncatedAlerts})


@router.post("/generic", status_code=202)
async def generic_webhook(request: Request, state: State) -> JSONResponse:
    raw = await read_limited(request, state.settings.max_body_bytes)
    body = GenericAlertBody.model_validate(parse_json(raw))
    alerts = generic.normalize(body, datetime.now(UTC), hashlib.sha256(raw).hexdigest())
    return await _deliver_all(state, alerts, {})
