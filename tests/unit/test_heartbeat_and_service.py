"""Issue #19: heartbeat alerts are recognised (never an incident), and the service comes from
the labels the user maps, not blindly from Prometheus's scrape-target `service` label."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from domain.alerts.heartbeat import HeartbeatRule, is_heartbeat
from domain.alerts.normalize import alertmanager, generic
from domain.alerts.normalize.keys import PLUMBING_SERVICES, SERVICE_LABELS, ServiceLabels
from schemas.settings import Settings
from schemas.webhooks.alertmanager import AlertmanagerWebhook
from schemas.webhooks.generic import GenericAlertBody
from tests.support import CORPUS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WEBHOOKS = CORPUS / "alertmanager-webhooks"
RULE = HeartbeatRule.of(Settings().heartbeat_alerts, Settings().heartbeat_severities)


def _captured(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WEBHOOKS / name).read_text())
    return data


def _normalise(data: dict[str, Any], labels: ServiceLabels | None = None) -> list[Any]:
    body = AlertmanagerWebhook.model_validate(data)
    if labels is None:
        return alertmanager.normalize(body, NOW, "d")
    return alertmanager.normalize(body, NOW, "d", labels)


def test_the_captured_watchdog_is_the_only_heartbeat_of_the_corpus() -> None:
    index = json.loads((WEBHOOKS / "index.json").read_text())
    heartbeats = []
    for entry in index:
        for alert in _normalise(_captured(entry["file"])):
            if is_heartbeat(alert, RULE):
                heartbeats.append((entry["file"], alert.name))
    assert heartbeats == [("12-watchdog-cluster-scope-Watchdog-firing.json", "Watchdog")]


def test_heartbeat_by_name_or_by_severity_none() -> None:
    def alert(name: str, severity: str | None) -> Any:
        body = GenericAlertBody(name=name, severity=severity, service="x")
        return generic.normalize(body, NOW, "d")[0]

    assert is_heartbeat(alert("InfoInhibitor", "info"), RULE)
    assert is_heartbeat(alert("watchdog", "warning"), RULE)  # names are case-insensitive
    assert is_heartbeat(alert("SomethingAlive", "None"), RULE)
    assert not is_heartbeat(alert("KubePodCrashLooping", "warning"), RULE)
    assert not is_heartbeat(alert("Watchdog", "none"), HeartbeatRule.of([], []))  # configurable


def test_payments_volume_alert_is_named_for_payments_not_the_kubelet() -> None:
    data = _captured("10-critical-payments-KubePersistentVolumeFillingUp-firing.json")
    [alert] = _normalise(data)
    assert alert.labels["service"] == "kubelet"  # the scrape target that measured it
    assert alert.service == "payments"  # before: "kubelet"


def test_a_real_service_label_still_wins_over_the_namespace() -> None:
    [alert] = _normalise(_captured("13-default-payments-TargetDown-firing.json"))
    assert alert.service == "payment-svc"


def test_the_mapped_labels_decide_in_order() -> None:
    data = _captured("15-default-payments-KubePodCrashLooping-firing.json")
    assert {a.service for a in _normalise(data)} == {"payments"}  # namespace before job
    by_container = ServiceLabels(labels=("container", "namespace"), ignored=frozenset())
    assert {a.service for a in _normalise(data, by_container)} == {"payment-svc"}
    only_missing = ServiceLabels(labels=("team",), ignored=frozenset())
    assert {a.service for a in _normalise(data, only_missing)} == {"unknown"}
    raw = ServiceLabels(labels=SERVICE_LABELS, ignored=frozenset())  # the old behaviour
    volume = _captured("10-critical-payments-KubePersistentVolumeFillingUp-firing.json")
    assert [a.service for a in _normalise(volume, raw)] == ["kubelet"]


def test_settings_defaults_are_the_domain_defaults() -> None:
    settings = Settings()
    assert tuple(settings.service_labels) == SERVICE_LABELS
    assert settings.service_ignored_values is None  # the built-in PLUMBING_SERVICES
    assert "kubelet" in PLUMBING_SERVICES
