"""Alert webhooks: bound, verify, validate and normalise, then hand each alert to Temporal.

Every source proves itself with what it can send: PagerDuty and Grafana sign the raw body,
Alertmanager sends a bearer token or basic auth, Opsgenie a secret header, the generic webhook a
bearer token. A source with no secret configured accepts unsigned requests from loopback
clients only (and says so at start-up: `log_unsigned_sources`).

A 202 is answered once every firing alert of the body is durably queued with its intake claim
(services/intake.py): when Temporal keeps up, after it took them; in a burst, or while it is
down, at once, and the queue hands them over as it can. Acknowledged, resolved and updated
alerts go straight to their incident; if Temporal is down those get a 503 and the source
retries. Retries are harmless (deliveries dedupe by event id).

Replays: a delivery that carries an id is claimed in the deliveries table around its work
(db/deliveries.py: begun before, handled once the alerts are queued), across incident runs, so a
captured and re-sent body answers 200 `{"duplicate": true}` and changes nothing. The ids:
PagerDuty's `event.id` (inside the signed body); Opsgenie's alert id + action + `updatedAt`
(nanoseconds, one value per action); Grafana only when signed with a timestamp header (timestamp
+ body: the signature covers both, so the same capture has the same id). Alertmanager,
unsigned-timestamp Grafana and the generic webhook carry no delivery id: identical bodies are
legitimate re-sends there (`repeat_interval`), and the incident already counts a repeated alert
once by its event id.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from opentelemetry import trace
from pydantic import SecretStr

from api.body import parse_json, read_limited
from api.deps import State
from api.errors import (
    ApiError,
    BadRequestError,
    ForbiddenError,
    TooManyRequestsError,
    UnauthorizedError,
)
from api.match import choose_for_alert
from db.deliveries import Claim, DeliveryStore
from domain.alerts.detect import SOURCE_NAMES, shape_problem
from domain.alerts.heartbeat import is_heartbeat
from domain.alerts.normalize import alertmanager, generic, grafana, opsgenie, pagerduty
from domain.alerts.redaction import redact_alert
from domain.alerts.signatures import (
    CredentialMismatchError,
    MissingCredentialError,
    VerificationError,
    split_secrets,
    verify_authorization,
    verify_grafana,
    verify_header_token,
    verify_pagerduty,
)
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import AlertAccepted
from schemas.settings import Settings
from schemas.webhooks.alertmanager import AlertmanagerWebhook
from schemas.webhooks.generic import GenericAlertBody
from schemas.webhooks.grafana import GrafanaWebhook
from schemas.webhooks.opsgenie import OpsgenieWebhook
from schemas.webhooks.pagerduty import PagerDutyWebhook
from services import source_people
from services.incidents import deliver_alert

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ddrun.api")


class _TracedRoute(APIRoute):
    """Each webhook request is one trace's root span, so its stages (parsing and checking,
    matching, the claim, the Temporal call, the workflow's first task, the first step on the
    agent) line up under it: `bench/webhook_latency.py --profile` reads them back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        name = f"POST {self.path_format}"

        async def traced(request: Request) -> Response:
            with tracer.start_as_current_span(name):
                return await handler(request)

        return traced


router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=_TracedRoute)


# Per source: the settings that let it prove itself, and whether any of them is set.
_SECRETS: dict[AlertSource, tuple[str, Callable[[Settings], bool]]] = {
    AlertSource.ALERTMANAGER: (
        "DDRUN_ALERTMANAGER_TOKEN or DDRUN_ALERTMANAGER_BASIC_AUTH",
        lambda s: s.alertmanager_token is not None or s.alertmanager_basic_auth is not None,
    ),
    AlertSource.PAGERDUTY: (
        "DDRUN_PAGERDUTY_WEBHOOK_SECRET",
        lambda s: s.pagerduty_webhook_secret is not None,
    ),
    AlertSource.GRAFANA: (
        "DDRUN_GRAFANA_WEBHOOK_SECRET",
        lambda s: s.grafana_webhook_secret is not None,
    ),
    AlertSource.OPSGENIE: ("DDRUN_OPSGENIE_TOKEN", lambda s: s.opsgenie_token is not None),
    AlertSource.GENERIC: (
        "DDRUN_GENERIC_WEBHOOK_TOKEN",
        lambda s: s.generic_webhook_token is not None,
    ),
}
# What to tell a sender whose body is valid JSON but not the source's default shape.
_SHAPE_HINTS = {
    AlertSource.ALERTMANAGER: "a custom `payload` template on the receiver replaces the "
    "default body this endpoint needs; remove it, or post your own shape to /webhooks/generic",
    AlertSource.GRAFANA: "a custom `payload.template` on the contact point replaces the "
    "default body this endpoint needs; remove it, or post your own shape to /webhooks/generic",
}


def unsigned_sources(settings: Settings) -> list[AlertSource]:
    """Sources with no secret configured: they accept unsigned requests from loopback only."""
    return [source for source, (_, configured) in _SECRETS.items() if not configured(settings)]


def log_unsigned_sources(settings: Settings) -> list[AlertSource]:
    """One WARNING per source that has no secret; call once at API start-up."""
    found = unsigned_sources(settings)
    for source in found:
        log.warning(
            "webhook /webhooks/%s has no secret: accepting unsigned %s requests from "
            "loopback only; set %s",
            source.value,
            SOURCE_NAMES[source],
            _SECRETS[source][0],
        )
    return found


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback; a name or no address is not loopback."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _require_loopback(request: Request, source: AlertSource) -> None:
    host = request.client.host if request.client else None
    if not is_loopback(host):
        raise ForbiddenError(
            f"unsigned {SOURCE_NAMES[source]} from {host or 'an unknown client'} refused: no "
            f"secret is configured for it, so only loopback clients may post; "
            f"set {_SECRETS[source][0]}"
        )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _refusal(
    err: VerificationError, *, missing: type[ApiError], malformed: type[ApiError]
) -> ApiError:
    if isinstance(err, CredentialMismatchError):
        return ForbiddenError(err.message)
    if isinstance(err, MissingCredentialError):
        return missing(err.message)
    return malformed(err.message)


def _authenticate_bearer_or_basic(
    request: Request, source: AlertSource, bearer: list[str], basic: str | None
) -> None:
    if not bearer and basic is None:
        _require_loopback(request, source)
        return
    try:
        verify_authorization(request.headers.get("authorization"), bearer=bearer, basic=basic)
    except VerificationError as err:
        raise UnauthorizedError(err.message) from err


def _payload(raw: bytes, source: AlertSource) -> Any:
    """Parsed JSON that has `source`'s default shape; field-level problems are left to the
    model (422), a body of another shape is refused here (400) with the reason."""
    payload = parse_json(raw)
    problem = shape_problem(payload, source)
    if problem is not None:
        hint = _SHAPE_HINTS.get(source)
        raise BadRequestError(
            f"not in the {SOURCE_NAMES[source]} format: {problem}" + (f" ({hint})" if hint else "")
        )
    return payload


async def _once(
    state: State,
    source: AlertSource,
    delivery_id: str | None,
    act: Callable[[], Awaitable[JSONResponse]],
) -> JSONResponse:
    """`act` for the first delivery of `delivery_id`; a replay answers 200 and changes nothing.
    The delivery counts as handled only once `act` succeeded (Temporal has the alerts): a failed
    one is abandoned, one cut short by a crash is taken over by a retry after the lease, and a
    copy arriving while another request handles it is asked to retry (429)."""
    if delivery_id is None:
        return await act()
    store = DeliveryStore(state.engine, state.settings.delivery_retention_s)
    claim = await store.begin(source.value, delivery_id, state.settings.delivery_lease_s)
    if claim is Claim.IN_FLIGHT:
        raise TooManyRequestsError(
            "this delivery is being handled by another request; retry to learn the outcome",
            headers={"Retry-After": "1"},
        )
    if claim is Claim.DONE:
        log.info("%s delivery %.80r replayed: already handled", source.value, delivery_id)
        return JSONResponse(
            {
                "duplicate": True,
                "incident_id": None,
                "alerts": [],
                "detail": "this delivery was already handled; nothing changed",
            },
            status_code=200,
        )
    try:
        response = await act()
    except BaseException:
        await store.abandon(source.value, delivery_id)
        raise
    await store.finish(source.value, delivery_id)
    return response


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


async def _deliver_all(state: State, alerts: list[Alert], extra: dict[str, object]) -> JSONResponse:
    """Every alert to its incident; only firing alerts need a runbook chosen (acknowledge,
    resolve and updates go to the open incident)."""
    accepted = []
    redactor = state.redactor
    ignored = [a for a in alerts if is_heartbeat(a, state.heartbeats)]
    alerts = [redact_alert(a, redactor) for a in alerts if not is_heartbeat(a, state.heartbeats)]
    if ignored and not alerts:  # e.g. Alertmanager's Watchdog: nothing is wrong
        return JSONResponse(_heartbeat_answer(ignored, extra), status_code=202)
    firing = any(a.status is AlertStatus.FIRING for a in alerts)
    with tracer.start_as_current_span("read_runbooks"):  # cached: DDRUN_RUNBOOK_CACHE_S
        runbooks = await state.runbooks.latest() if firing else []
        mappings = await state.mappings.list() if firing else []
    for alert in alerts:
        with tracer.start_as_current_span("deliver_alert") as span:
            span.set_attribute("ddrun.dedup_key", alert.dedup_key)
            span.set_attribute("ddrun.alert_status", alert.status.value)
            alert = await source_people.with_actor_mapped(state.people, alert)
            if alert.status is not AlertStatus.FIRING:
                accepted.append(await deliver_alert(state.client, state.settings, alert))
                continue
            with tracer.start_as_current_span("match"):
                selected = await choose_for_alert(state, runbooks, alert, mappings)
            accepted.append(
                await deliver_alert(
                    state.client,
                    state.settings,
                    alert,
                    selected,
                    on_call=await source_people.on_call_of(state.people, alert),
                    intake=state.intake,
                    read_opening=True,  # mode and kill switches: never cached, read in the claim
                )
            )
    accepted.extend(_heartbeat_accepted(ignored))
    first = next((a.incident_id for a in accepted if a.incident_id), None)
    body = {
        "incident_id": first,
        "alerts": [a.model_dump(mode="json") for a in accepted],
        **extra,
    }
    return JSONResponse(body, status_code=202)


def _heartbeat_accepted(alerts: list[Alert]) -> list[AlertAccepted]:
    return [
        AlertAccepted(
            incident_id=None,
            dedup_key=a.dedup_key,
            status=a.status.value,
            action="ignored",
            detail="heartbeat",
        )
        for a in alerts
    ]


def _heartbeat_answer(alerts: list[Alert], extra: dict[str, object]) -> dict[str, object]:
    """Acknowledged (202, so the sender does not retry), said to be ignored, nothing started."""
    return {
        "incident_id": None,
        "alerts": [a.model_dump(mode="json") for a in _heartbeat_accepted(alerts)],
        **extra,
        "action": "ignored",
        "detail": "heartbeat",
    }


async def _deliver_group(
    state: State,
    alerts: list[Alert],
    source: AlertSource,
    group_key: str | None,
    truncated: int,
    limit_setting: str,
) -> JSONResponse:
    """An Alertmanager-shaped group: the sender's own cap may have dropped alerts, which only
    it can know, so that is logged and answered back rather than silently accepted."""
    if truncated:
        log.warning(
            "%s group %s: %d alerts truncated by %s",
            source.value,
            group_key,
            truncated,
            limit_setting,
        )
    return await _deliver_all(state, alerts, {"truncated_alerts": truncated})


@router.post("/alertmanager", status_code=202)
async def alertmanager_webhook(request: Request, state: State) -> JSONResponse:
    settings = state.settings
    token = _secret(settings.alertmanager_token)
    _authenticate_bearer_or_basic(
        request,
        AlertSource.ALERTMANAGER,
        [token] if token else [],
        _secret(settings.alertmanager_basic_auth),
    )
    with tracer.start_as_current_span("parse_and_verify"):
        raw = await read_limited(request, settings.max_body_bytes)
        body = AlertmanagerWebhook.model_validate(_payload(raw, AlertSource.ALERTMANAGER))
    with tracer.start_as_current_span("normalise"):
        alerts = alertmanager.normalize(body, datetime.now(UTC), _digest(raw), state.service_labels)
    return await _deliver_group(
        state, alerts, AlertSource.ALERTMANAGER, body.groupKey, body.truncatedAlerts, "max_alerts"
    )


@router.post("/pagerduty", status_code=202)
async def pagerduty_webhook(request: Request, state: State) -> JSONResponse:
    """PagerDuty v3. Missing or malformed signature → 400, no match → 403 (as PagerDuty's own
    verifier); PagerDuty does not retry those. A ping is verified and starts nothing."""
    settings = state.settings
    raw = await read_limited(request, settings.max_body_bytes)
    secret = _secret(settings.pagerduty_webhook_secret)
    if secret is not None:
        try:
            header = request.headers.get("x-pagerduty-signature")
            verify_pagerduty(raw, header, split_secrets(secret))
        except VerificationError as err:
            raise _refusal(err, missing=BadRequestError, malformed=BadRequestError) from err
    else:
        _require_loopback(request, AlertSource.PAGERDUTY)
    body = PagerDutyWebhook.model_validate(_payload(raw, AlertSource.PAGERDUTY))
    webhook_id = (request.headers.get("x-webhook-id") or "")[:128] or None
    alerts = pagerduty.normalize(body, datetime.now(UTC), _digest(raw), webhook_id)
    extra: dict[str, object] = {"event_type": body.event.event_type}
    if not alerts:
        log.info(
            "pagerduty %s (event %s): verified, nothing to start",
            body.event.event_type,
            body.event.id,
        )
        return JSONResponse(
            {"incident_id": None, "alerts": [], **extra, "detail": "nothing to start"},
            status_code=202,
        )
    return await _once(
        state, AlertSource.PAGERDUTY, body.event.id, lambda: _deliver_all(state, alerts, extra)
    )


@router.post("/grafana", status_code=202)
async def grafana_webhook(request: Request, state: State) -> JSONResponse:
    """Grafana Alerting contact point; signed when its hmacConfig has a secret."""
    settings = state.settings
    raw = await read_limited(request, settings.max_body_bytes)
    secret = _secret(settings.grafana_webhook_secret)
    delivery_id: str | None = None
    if secret is not None:
        timestamp_header = settings.grafana_timestamp_header
        try:
            verify_grafana(
                raw,
                request.headers.get(settings.grafana_signature_header),
                secret,
                signature_header=settings.grafana_signature_header,
                timestamp_header=timestamp_header,
                timestamp=request.headers.get(timestamp_header) if timestamp_header else None,
                now=time.time(),
                max_skew_s=settings.webhook_max_skew_s,
            )
        except VerificationError as err:
            raise _refusal(err, missing=UnauthorizedError, malformed=BadRequestError) from err
        if timestamp_header:  # verified: the signature covers exactly this timestamp and body
            delivery_id = f"{request.headers.get(timestamp_header)}:{_digest(raw)}"
    else:
        _require_loopback(request, AlertSource.GRAFANA)
    body = GrafanaWebhook.model_validate(_payload(raw, AlertSource.GRAFANA))
    alerts = grafana.normalize(body, datetime.now(UTC), _digest(raw), state.service_labels)
    return await _once(
        state,
        AlertSource.GRAFANA,
        delivery_id,
        lambda: _deliver_group(
            state, alerts, AlertSource.GRAFANA, body.groupKey, body.truncatedAlerts, "maxAlerts"
        ),
    )


@router.post("/opsgenie", status_code=202)
async def opsgenie_webhook(request: Request, state: State) -> JSONResponse:
    """Opsgenie outgoing webhook; it cannot sign, so a secret custom header proves it."""
    settings = state.settings
    token = _secret(settings.opsgenie_token)
    if token is not None:
        header = settings.opsgenie_token_header
        try:
            verify_header_token(request.headers.get(header), token, header)
        except VerificationError as err:
            raise UnauthorizedError(err.message) from err
    else:
        _require_loopback(request, AlertSource.OPSGENIE)
    raw = await read_limited(request, settings.max_body_bytes)
    body = OpsgenieWebhook.model_validate(_payload(raw, AlertSource.OPSGENIE))
    alerts = opsgenie.normalize(body, datetime.now(UTC), _digest(raw))
    # updatedAt (ns) changes with every action on the alert: with the alert id and the action
    # it names one delivery. Without it there is nothing stable to key on.
    og = body.alert
    delivery_id = f"{og.alertId}:{body.action}:{og.updatedAt}" if og.updatedAt else None
    return await _once(
        state,
        AlertSource.OPSGENIE,
        delivery_id,
        lambda: _deliver_all(state, alerts, {"action": body.action}),
    )


@router.post("/generic", status_code=202)
async def generic_webhook(request: Request, state: State) -> JSONResponse:
    with tracer.start_as_current_span("parse_and_verify"):
        token = _secret(state.settings.generic_webhook_token)
        _authenticate_bearer_or_basic(request, AlertSource.GENERIC, [token] if token else [], None)
        raw = await read_limited(request, state.settings.max_body_bytes)
        body = GenericAlertBody.model_validate(parse_json(raw))
    with tracer.start_as_current_span("normalise"):
        alerts = generic.normalize(body, datetime.now(UTC), _digest(raw))
    return await _deliver_all(state, alerts, {})
