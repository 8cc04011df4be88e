"""Alerts are redacted field by field before they start or signal an incident (#16)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.alerts.redaction import REDACTED_KEY_PREFIX, redact_alert
from domain.audit.redact import Redactor
from schemas.alert import Alert, AlertSource, AlertStatus

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SECRET = "hunter2-xyz"
LEAK = f"password is {SECRET}"
# Fields whose type cannot carry a sender's text.
TYPED = {"source", "status", "starts_at", "ends_at", "received_at", "payload_digest"}


def _planted(name: str, annotation: Any) -> Any:
    text = str(annotation)
    if "dict" in text:
        return {"note": LEAK, f"why: {LEAK}": "v", "password": SECRET}
    if name.endswith("url"):
        return f"https://user:{SECRET}@grafana.example.com/d/x?orgId=1&token={SECRET}"
    if name == "event_id":
        return f"pwd={SECRET}"
    return f"{name}: {LEAK}"


def _alert(**fields: Any) -> Alert:
    base: dict[str, Any] = {
        "source": AlertSource.GENERIC,
        "dedup_key": "checkout-latency",
        "event_id": "e1",
        "status": AlertStatus.FIRING,
        "name": "CheckoutLatency",
        "title": "p99 above 2s",
        "received_at": NOW,
        "payload_digest": "0" * 64,
    }
    return Alert(**{**base, **fields})


def test_no_field_of_the_alert_carries_a_secret_through() -> None:
    """Every text field, present and future, is redacted: the walk is over the model."""
    planted = {
        name: _planted(name, field.annotation)
        for name, field in Alert.model_fields.items()
        if name not in TYPED
    }
    alert = _alert(**planted)
    assert SECRET in alert.model_dump_json()
    clean = redact_alert(alert, Redactor())
    assert SECRET not in clean.model_dump_json()
    assert clean.generator_url == "https://grafana.example.com/d/x?orgId=1&token=[REDACTED]"
    assert clean.annotations["note"] == "password is [REDACTED]"
    assert clean.annotations["password"] == "[REDACTED]"


def test_identifiers_stay_as_they_are_unless_they_hold_a_secret() -> None:
    redactor = Redactor()
    clean = _alert()
    assert redact_alert(clean, redactor) == clean
    leaky = _alert(dedup_key=f"checkout token={SECRET}")
    once, twice = redact_alert(leaky, redactor), redact_alert(leaky, redactor)
    assert once.dedup_key.startswith(REDACTED_KEY_PREFIX)
    assert SECRET not in once.dedup_key
    assert once.dedup_key == twice.dedup_key  # repeats still reach one incident
    assert once.dedup_key != redact_alert(_alert(dedup_key="token=other1"), redactor).dedup_key


def test_userinfo_is_dropped_from_urls_in_any_field() -> None:
    alert = _alert(
        description="see https://deploy-token-abc@git.example.com/repo",
        annotations={"runbook_url": "https://u:p@wiki.example.com/x"},
    )
    clean = redact_alert(alert, Redactor())
    assert clean.description == "see https://git.example.com/repo"
    assert clean.annotations["runbook_url"] == "https://wiki.example.com/x"
