"""Every contract fixture (PagerDuty v3, Opsgenie, Grafana, Alertmanager) into canonical Alerts,
and source detection for `ddrun match`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.alerts.detect import (
    AlertPayloadError,
    UnrecognisedPayloadError,
    detect_source,
    normalize_any,
    shape_problem,
)
from domain.alerts.normalize import grafana, opsgenie, pagerduty
from domain.incident_ids import incident_id_for
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.grafana import GrafanaWebhook
from schemas.webhooks.opsgenie import OpsgenieWebhook
from schemas.webhooks.pagerduty import PagerDutyWebhook
from tests.support import CONTRACTS, CORPUS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PD_DIR = CONTRACTS / "pagerduty" / "webhooks-v3"
OG_DIR = CONTRACTS / "opsgenie"
GF_DIR = CONTRACTS / "grafana"
AM_DIR = CONTRACTS / "alertmanager"


def _fixtures(folder: Path, pattern: str = "*.json") -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if "signature-vector" not in p.name)


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _pd(name: str, webhook_id: str | None = None) -> list[Alert]:
    body = PagerDutyWebhook.model_validate(_load(PD_DIR / name))
    return pagerduty.normalize(body, NOW, "d", webhook_id)


def _og(name: str) -> Alert:
    (alert,) = opsgenie.normalize(OpsgenieWebhook.model_validate(_load(OG_DIR / name)), NOW, "d")
    return alert


# --------------------------------------------------------------------------------- PagerDuty


def test_pagerduty_fixture_set_is_complete() -> None:
    names = {p.name for p in _fixtures(PD_DIR)}
    assert names == {
        "incident.acknowledged.json",
        "incident.annotated.json",
        "incident.escalated.json",
        "incident.resolved.json",
        "incident.triggered.json",
        "pagey.ping.json",
    }


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("incident.triggered.json", AlertStatus.FIRING),
        ("incident.escalated.json", AlertStatus.UPDATED),
        ("incident.acknowledged.json", AlertStatus.ACKNOWLEDGED),
        ("incident.annotated.json", AlertStatus.UPDATED),
        ("incident.resolved.json", AlertStatus.RESOLVED),
    ],
)
def test_every_pagerduty_event_reaches_the_same_incident(name: str, status: AlertStatus) -> None:
    (alert,) = _pd(name)
    raw = _load(PD_DIR / name)["event"]
    assert alert.source is AlertSource.PAGERDUTY
    assert alert.status is status
    assert alert.dedup_key == "pagerduty-Q2X7L0M4N9P3RT"
    assert incident_id_for(alert) == "incident-pagerduty-pagerduty-Q2X7L0M4N9P3RT"
    assert alert.event_id == raw["id"]
    assert alert.source_url == "https://acme-prod.pagerduty.com/incidents/Q2X7L0M4N9P3RT"
    # Alertmanager's default PagerDuty title carries the alertname: match it like the original
    assert alert.name == "KubePodCrashLooping"
    assert alert.title.startswith("[FIRING:1] KubePodCrashLooping checkout")


def test_pagerduty_triggered_fields() -> None:
    (alert,) = _pd("incident.triggered.json", webhook_id="3f1c9a62-5d7e-4b8a-9c0d-2e4f6a8b0c1d")
    assert alert.service == "Checkout API (prod)"
    assert alert.severity == "critical"  # priority P1
    assert alert.actor is None  # an integration, not a person
    assert (
        alert.generator_url
        == "http://alertmanager-main-0:9093/#/alerts?receiver=pagerduty-checkout"
    )
    assert alert.starts_at == datetime(2026, 11, 20, 9, 13, 5, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.labels == {
        "alertname": "KubePodCrashLooping",
        "pagerduty_service_id": "PX7K2QZ",
        "urgency": "high",
        "priority": "P1",
        "incident_number": "4217",
        "escalation_policy": "Checkout primary",
        "team": "Payments",
    }
    assert alert.annotations["webhook_id"] == "3f1c9a62-5d7e-4b8a-9c0d-2e4f6a8b0c1d"
    assert alert.annotations["conference_url"] == "https://meet.example.com/checkout-war-room"
    assert alert.annotations["client"] == "Alertmanager"
    assert alert.annotations["assignees"] == "Priya Natarajan"
    assert alert.annotations["assignee_ids"] == "PA1B2C3"  # mapped to a person by id, not name
    assert "actor_id" not in alert.annotations  # triggered by an integration, not a user


def test_pagerduty_acknowledged_names_the_person() -> None:
    (alert,) = _pd("incident.acknowledged.json")
    assert alert.actor == "Marcus Chen"
    assert alert.annotations["actor_id"] == "PD4E5F6"
    assert alert.description == ""


def test_pagerduty_escalated_says_to_whom() -> None:
    (alert,) = _pd("incident.escalated.json")
    assert alert.actor == "Priya Natarajan"
    assert alert.description == "escalated by Priya Natarajan; now assigned to Marcus Chen"


def test_pagerduty_note_text_is_the_description() -> None:
    (alert,) = _pd("incident.annotated.json")
    assert alert.description.startswith("Rolled back checkout-api to v2026.11.19-3")
    assert alert.actor == "Marcus Chen"


def test_pagerduty_resolved_ends_at_the_event() -> None:
    (alert,) = _pd("incident.resolved.json")
    assert alert.ends_at == datetime(2026, 11, 20, 10, 2, 10, 58000, tzinfo=UTC)
    assert alert.actor == "Marcus Chen"
    assert "assignees" not in alert.annotations  # empty list once resolved


def test_pagerduty_ping_starts_nothing() -> None:
    assert _pd("pagey.ping.json") == []


def test_pagerduty_nulls_and_unknown_fields_are_tolerated() -> None:
    raw = _load(PD_DIR / "incident.triggered.json")
    data = raw["event"]["data"]
    data.update(priority=None, incident_key=None, conference_bridge=None, urgency="low")
    data["brand_new_field"] = {"x": 1}
    raw["event"]["agent"] = None
    raw["event"]["client"] = None
    (alert,) = pagerduty.normalize(PagerDutyWebhook.model_validate(raw), NOW, "d")
    assert alert.severity == "warning"  # urgency low, no priority
    assert alert.generator_url is None
    assert alert.actor is None
    assert "conference_url" not in alert.annotations


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("incident.reopened", AlertStatus.FIRING),
        ("incident.unacknowledged", AlertStatus.UPDATED),
        ("incident.reassigned", AlertStatus.UPDATED),
        ("incident.priority_updated", AlertStatus.UPDATED),
        ("incident.delegated", AlertStatus.UPDATED),
    ],
)
def test_pagerduty_other_event_types(event_type: str, status: AlertStatus) -> None:
    raw = _load(PD_DIR / "incident.escalated.json")
    raw["event"]["event_type"] = event_type
    (alert,) = pagerduty.normalize(PagerDutyWebhook.model_validate(raw), NOW, "d")
    assert alert.status is status
    if status is AlertStatus.UPDATED:
        assert alert.description


def test_pagerduty_responder_event_keys_on_its_incident_and_non_incident_events_start_nothing() -> (
    None
):
    responder = {
        "event": {
            "id": "01JD2X",
            "event_type": "incident.responder.added",
            "resource_type": "incident",
            "agent": None,
            "client": None,
            "data": {
                "incident": {"id": "Q9Z", "type": "incident_reference", "summary": "Disk full"},
                "user": {"id": "PU1", "summary": "Ana"},
                "type": "incident_responder",
            },
        }
    }
    (alert,) = pagerduty.normalize(PagerDutyWebhook.model_validate(responder), NOW, "d")
    assert (alert.dedup_key, alert.status, alert.name) == (
        "pagerduty-Q9Z",
        AlertStatus.UPDATED,
        "Disk full",
    )
    service_event = {
        "event": {
            "id": "01JD2Y",
            "event_type": "service.updated",
            "resource_type": "service",
            "data": {"id": "PX7K2QZ", "type": "service"},
        }
    }
    assert pagerduty.normalize(PagerDutyWebhook.model_validate(service_event), NOW, "d") == []


# ---------------------------------------------------------------------------------- Opsgenie


def test_opsgenie_lifecycle_keys_on_the_alias() -> None:
    files = {p.name for p in _fixtures(OG_DIR)}
    assert files == {"webhook.create.json", "webhook.acknowledge.json", "webhook.close.json"}
    create, ack, close = (_og(f"webhook.{a}.json") for a in ("create", "acknowledge", "close"))
    assert [a.status for a in (create, ack, close)] == [
        AlertStatus.FIRING,
        AlertStatus.ACKNOWLEDGED,
        AlertStatus.RESOLVED,
    ]
    assert {a.dedup_key for a in (create, ack, close)} == {
        "checkout-api-KubePodCrashLooping-prod-eu-1"
    }
    assert len({a.event_id for a in (create, ack, close)}) == 3
    assert create.event_id == "8f3b2a71-4c5d-4e6f-9a0b-1c2d3e4f5a6b:Create:1795165985482000000"
    assert all(a.source is AlertSource.OPSGENIE for a in (create, ack, close))


def test_opsgenie_create_fields() -> None:
    alert = _og("webhook.create.json")
    assert alert.title == "[prod] KubePodCrashLooping: checkout/checkout-api-7d9f8b6c5-x2k4p"
    assert alert.service == "checkout-api"  # entity
    assert alert.severity == "critical"  # details.severity
    assert alert.description.startswith("Pod checkout/checkout-api-7d9f8b6c5-x2k4p (api)")
    assert alert.actor is None  # "System", no userId
    assert alert.labels["namespace"] == "checkout"
    assert alert.labels["entity"] == "checkout-api"
    assert "runbook_url" not in alert.labels
    assert alert.annotations["runbook_url"].endswith("/kubernetes/kubepodcrashlooping")
    assert alert.annotations["opsgenie_tiny_id"] == "1842"
    assert alert.starts_at == datetime(2026, 11, 20, 9, 13, 5, 482000, tzinfo=UTC)  # ms
    assert alert.ends_at is None


def test_opsgenie_acknowledge_and_close_name_the_person_and_use_nanoseconds() -> None:
    ack, close = _og("webhook.acknowledge.json"), _og("webhook.close.json")
    assert ack.actor == close.actor == "priya.natarajan@example.com"
    assert ack.severity == "critical"  # from the tags when details are not sent
    assert close.ends_at == datetime.fromtimestamp(1795168930.058, UTC)
    assert close.ends_at is not None
    assert close.ends_at.year == 2026


@pytest.mark.parametrize("action", ["AddNote", "UnAcknowledge", "Escalate", "TakeOwnership"])
def test_opsgenie_other_actions_only_inform(action: str) -> None:
    raw = _load(OG_DIR / "webhook.acknowledge.json")
    raw["action"] = action
    if action == "AddNote":
        raw["alert"]["note"] = "rolled back; watching"
    (alert,) = opsgenie.normalize(OpsgenieWebhook.model_validate(raw), NOW, "d")
    assert alert.status is AlertStatus.UPDATED
    assert alert.dedup_key == "checkout-api-KubePodCrashLooping-prod-eu-1"
    expected = "rolled back; watching" if action == "AddNote" else f"Opsgenie {action} by "
    assert alert.description.startswith(expected)


def test_opsgenie_without_alias_keys_on_the_alert_id_and_long_aliases_fold() -> None:
    raw = _load(OG_DIR / "webhook.create.json")
    del raw["alert"]["alias"]
    (alert,) = opsgenie.normalize(OpsgenieWebhook.model_validate(raw), NOW, "d")
    assert alert.dedup_key == "8f3b2a71-4c5d-4e6f-9a0b-1c2d3e4f5a6b"
    raw["alert"]["alias"] = "a" * 512  # Opsgenie allows 512
    (alert,) = opsgenie.normalize(OpsgenieWebhook.model_validate(raw), NOW, "d")
    assert len(alert.dedup_key) <= 255
    raw["alert"]["alias"] = "a" * 511 + "b"
    (other,) = opsgenie.normalize(OpsgenieWebhook.model_validate(raw), NOW, "d")
    assert other.dedup_key != alert.dedup_key


# ----------------------------------------------------------------------------------- Grafana


def test_grafana_firing_and_resolved_are_one_problem() -> None:
    assert {p.name for p in _fixtures(GF_DIR)} == {"webhook.firing.json", "webhook.resolved.json"}
    firing, resolved = (
        grafana.normalize(GrafanaWebhook.model_validate(_load(GF_DIR / f)), NOW, "d")
        for f in ("webhook.firing.json", "webhook.resolved.json")
    )
    (fire,), (res,) = firing, resolved
    assert fire.source is AlertSource.GRAFANA
    assert (fire.status, res.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)
    assert fire.dedup_key == res.dedup_key == "CheckoutHighErrorRate-a41f9c3b2d7e8f10"
    assert fire.event_id != res.event_id
    assert fire.ends_at is None  # Go's zero time
    assert res.ends_at == datetime(2026, 11, 20, 9, 58, tzinfo=UTC)
    assert (fire.service, fire.severity) == ("checkout-api", "critical")
    assert fire.title == "checkout-api is returning too many 5xx responses"
    assert fire.source_url == fire.generator_url
    assert fire.generator_url == (
        "https://grafana.example.com/alerting/grafana/fe2k7q1x3abcde/view?orgId=1"
    )
    assert fire.annotations["rule_uid"] == "fe2k7q1x3abcde"
    assert fire.annotations["panel_url"].endswith("viewPanel=4")
    assert fire.annotations["dashboard_url"].startswith("https://grafana.example.com/d/")
    assert fire.annotations["silence_url"].startswith("https://grafana.example.com/alerting/")
    assert "value=0.0731" in fire.annotations["values"]
    assert fire.annotations["runbook_url"] == (
        "https://runbooks.example.com/checkout-api/high-error-rate"
    )


def test_grafana_links_never_overwrite_the_rules_own_annotations() -> None:
    raw = _load(GF_DIR / "webhook.firing.json")
    raw["alerts"][0]["annotations"]["dashboard_url"] = "https://mine.example.com/d/x"
    del raw["alerts"][0]["ruleUID"]  # omitted when empty
    (alert,) = grafana.normalize(GrafanaWebhook.model_validate(raw), NOW, "d")
    assert alert.annotations["dashboard_url"] == "https://mine.example.com/d/x"
    assert "rule_uid" not in alert.annotations


# ------------------------------------------------------------------------------ Alertmanager


@pytest.mark.parametrize("path", _fixtures(AM_DIR), ids=lambda p: p.name)
def test_alertmanager_fixtures_one_alert_each(path: Path) -> None:
    raw = path.read_bytes()
    alerts = normalize_any(raw, None, NOW)
    expected = json.loads(raw)["alerts"]
    assert [a.source for a in alerts] == [AlertSource.ALERTMANAGER] * len(expected)
    assert [a.status.value for a in alerts] == [e["status"] for e in expected]
    assert [a.dedup_key for a in alerts] == [
        f"KubePodCrashLooping-{e['fingerprint']}" for e in expected
    ]
    assert all(a.annotations["runbook_url"].endswith("kubepodcrashlooping") for a in alerts)


# ----------------------------------------------------------------------- detection, any source


@pytest.mark.parametrize(
    ("path", "source"),
    [
        *((p, AlertSource.PAGERDUTY) for p in _fixtures(PD_DIR)),
        *((p, AlertSource.OPSGENIE) for p in _fixtures(OG_DIR)),
        *((p, AlertSource.GRAFANA) for p in _fixtures(GF_DIR)),
        *((p, AlertSource.ALERTMANAGER) for p in _fixtures(AM_DIR)),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_detect_every_fixture(path: Path, source: AlertSource) -> None:
    assert detect_source(_load(path)) is source
    alerts = normalize_any(path.read_bytes(), None, NOW)
    assert all(a.source is source for a in alerts)
    assert normalize_any(path.read_bytes(), source, NOW) == alerts


def test_detect_every_captured_alertmanager_payload_and_the_generic_body() -> None:
    for path in sorted((CORPUS / "alertmanager-webhooks").glob("[0-9]*.json")):
        assert detect_source(_load(path)) is AlertSource.ALERTMANAGER, path.name
    generic = {"name": "DiskFull", "service": "db", "status": "firing"}
    assert detect_source(generic) is AlertSource.GENERIC
    (alert,) = normalize_any(json.dumps(generic).encode(), None, NOW)
    assert (alert.source, alert.name, alert.service) == (AlertSource.GENERIC, "DiskFull", "db")


def test_payload_digest_is_of_the_raw_bytes() -> None:
    raw = (GF_DIR / "webhook.firing.json").read_bytes()
    (a,) = normalize_any(raw, None, NOW)
    (b,) = normalize_any(raw + b"\n", None, NOW)
    assert a.payload_digest != b.payload_digest
    assert a.event_id == b.event_id


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"[1, 2]", "got a JSON array"),
        (b'"text"', "got a JSON string"),
        (b'{"text": "KubePodCrashLooping is firing"}', "not a payload of any supported source"),
        (b'{"version": "5", "alerts": []}', "top-level keys: alerts, version"),
    ],
)
def test_unrecognised_payloads_say_why(raw: bytes, match: str) -> None:
    with pytest.raises(UnrecognisedPayloadError, match=match):
        normalize_any(raw, None, NOW)


def test_forced_source_and_bad_json_errors_are_clear() -> None:
    with pytest.raises(AlertPayloadError, match="not valid JSON"):
        normalize_any(b"{not json", None, NOW)
    grafana_raw = (GF_DIR / "webhook.firing.json").read_bytes()
    with pytest.raises(
        AlertPayloadError, match=r"not in the Alertmanager webhook .* format: version '1'"
    ):
        normalize_any(grafana_raw, AlertSource.ALERTMANAGER, NOW)
    bad = _load(OG_DIR / "webhook.create.json")
    bad["alert"]["alertId"] = ""
    with pytest.raises(AlertPayloadError, match=r"invalid Opsgenie .*alert\.alertId"):
        normalize_any(json.dumps(bad).encode(), None, NOW)


def test_shape_problems_name_what_is_missing() -> None:
    assert shape_problem({"event": {}}, AlertSource.PAGERDUTY) == (
        'the "event" object has no "event_type" string'
    )
    assert shape_problem({"alert": {}}, AlertSource.OPSGENIE) is not None
    assert shape_problem({"version": "1"}, AlertSource.GRAFANA) == 'no "alerts" array'
    assert "version" in (shape_problem({"alerts": []}, AlertSource.ALERTMANAGER) or "")
    assert shape_problem(_load(AM_DIR / "webhook.firing.json"), AlertSource.ALERTMANAGER) is None
