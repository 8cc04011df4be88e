"""Which source a raw alert payload came from, and its Alerts whatever the source.

`ddrun match ALERT_FILE` takes a payload of any supported source; the receivers use
`shape_problem` to refuse, with a reason, a body that is valid JSON but not their source's
default shape (Alertmanager's `payload` and Grafana's `payload.template` options replace it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from domain.alerts.normalize import alertmanager, generic, grafana, opsgenie, pagerduty
from schemas.alert import Alert, AlertSource
from schemas.webhooks.alertmanager import AlertmanagerWebhook
from schemas.webhooks.generic import GenericAlertBody
from schemas.webhooks.grafana import GrafanaWebhook
from schemas.webhooks.opsgenie import OpsgenieWebhook
from schemas.webhooks.pagerduty import PagerDutyWebhook

SOURCE_NAMES = {
    AlertSource.ALERTMANAGER: "Alertmanager webhook (version 4)",
    AlertSource.GRAFANA: "Grafana Alerting webhook (version 1)",
    AlertSource.PAGERDUTY: "PagerDuty v3 webhook",
    AlertSource.OPSGENIE: "Opsgenie outgoing webhook",
    AlertSource.GENERIC: "generic JSON alert",
}
# Most distinctive shape first: Alertmanager's exact version before Grafana's looser check.
_DETECTION_ORDER = (
    AlertSource.PAGERDUTY,
    AlertSource.OPSGENIE,
    AlertSource.ALERTMANAGER,
    AlertSource.GRAFANA,
    AlertSource.GENERIC,
)


class AlertPayloadError(ValueError):
    """A payload that cannot become Alerts; the message says why."""


class UnrecognisedPayloadError(AlertPayloadError):
    """A payload of no supported source."""


def _json_type(value: object) -> str:
    names: dict[type, str] = {dict: "object", list: "array", str: "string", bool: "boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return names.get(type(value), type(value).__name__)


def _pagerduty(payload: Mapping[str, Any]) -> str | None:
    event = payload.get("event")
    if not isinstance(event, dict):
        return 'no "event" object (a PagerDuty v3 webhook is {"event": {...}})'
    if not isinstance(event.get("event_type"), str):
        return 'the "event" object has no "event_type" string'
    return None


def _opsgenie(payload: Mapping[str, Any]) -> str | None:
    if not isinstance(payload.get("action"), str):
        return 'no "action" string (Create, Acknowledge, Close, …)'
    if not isinstance(payload.get("alert"), dict):
        return 'no "alert" object'
    return None


def _alertmanager(payload: Mapping[str, Any]) -> str | None:
    version = payload.get("version")
    if version != "4":
        got = "no version" if version is None else f"version {version!r}"
        return f'{got}; Alertmanager\'s default webhook body has "version": "4"'
    if not isinstance(payload.get("alerts"), list):
        return 'no "alerts" array'
    return None


def _grafana(payload: Mapping[str, Any]) -> str | None:
    version = payload.get("version")
    if version is not None and version != "1":
        return f'version {version!r}; Grafana\'s default webhook body has "version": "1"'
    if not isinstance(payload.get("alerts"), list):
        return 'no "alerts" array'
    return None


def _generic(payload: Mapping[str, Any]) -> str | None:
    if not isinstance(payload.get("name"), str):
        return 'no "name" string'
    return None


_SHAPES: dict[AlertSource, Callable[[Mapping[str, Any]], str | None]] = {
    AlertSource.PAGERDUTY: _pagerduty,
    AlertSource.OPSGENIE: _opsgenie,
    AlertSource.ALERTMANAGER: _alertmanager,
    AlertSource.GRAFANA: _grafana,
    AlertSource.GENERIC: _generic,
}


def shape_problem(payload: object, source: AlertSource) -> str | None:
    """Why `payload` is not `source`'s default body, or None when it has that shape."""
    if not isinstance(payload, dict):
        return f"expected a JSON object, got a JSON {_json_type(payload)}"
    return _SHAPES[source](payload)


def detect_source(payload: object) -> AlertSource:
    """The source whose default body `payload` has; raises UnrecognisedPayloadError if none."""
    if not isinstance(payload, dict):
        raise UnrecognisedPayloadError(
            f"expected a JSON object, got a JSON {_json_type(payload)}: not an alert payload"
        )
    for source in _DETECTION_ORDER:
        if shape_problem(payload, source) is None:
            return source
    keys = ", ".join(sorted(payload)[:12]) or "none"
    supported = ", ".join(SOURCE_NAMES[s] for s in _DETECTION_ORDER)
    raise UnrecognisedPayloadError(
        f"not a payload of any supported source ({supported}); top-level keys: {keys}"
    )


def _problems(err: ValidationError) -> str:
    found = [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in err.errors()]
    more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
    return "; ".join(found[:5]) + more


def alerts_from(
    payload: object,
    source: AlertSource,
    received_at: datetime,
    payload_digest: str,
    *,
    webhook_id: str | None = None,
) -> list[Alert]:
    """Validate `payload` as `source`'s body and normalise it (no shape check: see above)."""
    try:
        if source is AlertSource.PAGERDUTY:
            pd = PagerDutyWebhook.model_validate(payload)
            return pagerduty.normalize(pd, received_at, payload_digest, webhook_id)
        if source is AlertSource.OPSGENIE:
            og = OpsgenieWebhook.model_validate(payload)
            return opsgenie.normalize(og, received_at, payload_digest)
        if source is AlertSource.GRAFANA:
            gf = GrafanaWebhook.model_validate(payload)
            return grafana.normalize(gf, received_at, payload_digest)
        if source is AlertSource.ALERTMANAGER:
            am = AlertmanagerWebhook.model_validate(payload)
            return alertmanager.normalize(am, received_at, payload_digest)
        body = GenericAlertBody.model_validate(payload)
        return generic.normalize(body, received_at, payload_digest)
    except ValidationError as err:
        raise AlertPayloadError(f"invalid {SOURCE_NAMES[source]}: {_problems(err)}") from err


def normalize_any(raw: bytes, source: AlertSource | None, received_at: datetime) -> list[Alert]:
    """The Alerts in a raw payload of `source`, or of the detected source when None."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AlertPayloadError(f"not valid JSON: {err}") from err
    chosen = source if source is not None else detect_source(payload)
    problem = shape_problem(payload, chosen)
    if problem is not None:
        raise AlertPayloadError(f"not in the {SOURCE_NAMES[chosen]} format: {problem}")
    digest = hashlib.sha256(raw).hexdigest()
    return alerts_from(payload, chosen, received_at, digest)
