"""Alertmanager and generic payloads into canonical Alerts, on every captured real payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from domain.alerts.normalize import alertmanager, generic
from schemas.webhooks.alertmanager import AlertmanagerWebhook
from schemas.webhooks.generic import GenericAlertBody
from tests.support import CONTRACTS, CORPUS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_every_captured_payload_normalises_one_alert_per_instance() -> None:
    index = json.loads((CORPUS / "alertmanager-webhooks" / "index.json").read_text())
    for entry in index:
        raw = json.loads((CORPUS / "alertmanager-webhooks" / entry["file"]).read_text())
        alerts = alertmanager.normalize(AlertmanagerWebhook.model_validate(raw), NOW, "d")
        assert [a.name for a in alerts] == [a["alertname"] for a in entry["alerts"]]
        assert [a.status.value for a in alerts] == [a["status"] for a in entry["alerts"]]
        assert [a.severity for a in alerts] == [a["severity"] or "unknown" for a in entry["alerts"]]
        assert len({a.dedup_key for a in alerts}) == len(alerts)
        for alert, expected in zip(alerts, entry["alerts"], strict=True):
            assert alert.annotations.get("runbook_url") == expected["runbook_url"]
            if alert.status.value == "firing":
                assert alert.ends_at is None  # Go's zero time is not a real end
            else:
                assert alert.ends_at is not None


def test_contract_fixtures_including_truncated_and_partially_resolved() -> None:
    folder = CONTRACTS / "alertmanager"
    partial = AlertmanagerWebhook.model_validate_json(
        (folder / "webhook.partially-resolved.json").read_text()
    )
    statuses = [a.status.value for a in alertmanager.normalize(partial, NOW, "d")]
    assert partial.status == "firing"
    assert "resolved" in statuses
    truncated = AlertmanagerWebhook.model_validate_json(
        (folder / "webhook.truncated.json").read_text()
    )
    assert truncated.truncatedAlerts == 1


def test_repeat_of_the_same_alert_has_the_same_keys() -> None:
    raw = (
        CORPUS / "alertmanager-webhooks" / "13-default-payments-TargetDown-firing.json"
    ).read_text()
    first = alertmanager.normalize(AlertmanagerWebhook.model_validate_json(raw), NOW, "d")
    again = alertmanager.normalize(AlertmanagerWebhook.model_validate_json(raw), NOW, "d")
    assert [(a.dedup_key, a.event_id) for a in first] == [(a.dedup_key, a.event_id) for a in again]
    assert first[0].service == "payment-svc"  # its `service` label beats the namespace


def test_generic_defaults_and_explicit_keys() -> None:
    body = GenericAlertBody(name="HighLatency", service="checkout", labels={"region": "eu"})
    alert = generic.normalize(body, NOW, "d")[0]
    assert alert.title == "HighLatency"
    assert alert.labels == {"alertname": "HighLatency", "region": "eu"}
    assert alert.dedup_key.startswith("HighLatency-")
    keyed = generic.normalize(GenericAlertBody(name="X", dedup_key="k1"), NOW, "d")[0]
    assert keyed.dedup_key == "k1"
