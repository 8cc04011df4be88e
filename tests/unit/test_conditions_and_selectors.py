"""Branch conditions and selector matching: the pure decisions behind step and runbook choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.alerts.prefill import prepare
from domain.alerts.selectors import select_by_selectors
from domain.conditions import StepOutcome, evaluate, is_machine_checkable
from domain.incident_ids import incident_id_for
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.runbook import Runbook

OUTCOMES = {
    "check": StepOutcome(state="succeeded", exit_code=0, output="reason: OOMKilled\n"),
    "probe": StepOutcome(state="failed", exit_code=2, output=""),
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("steps.check.succeeded", True),
        ("steps.probe.succeeded", False),
        ("not steps.probe.succeeded", True),
        ("steps.probe.exit_code == 2", True),
        ("steps.probe.exit_code != 2", False),
        ('steps.check.output contains "OOMKilled"', True),
        ('steps.check.output contains "Evicted"', False),
        ("steps.unknown.succeeded", None),
        ("if the pod was OOMKilled", None),
    ],
)
def test_conditions(condition: str, expected: bool | None) -> None:
    assert evaluate(condition, OUTCOMES) is expected
    assert is_machine_checkable(condition) is (not condition.startswith("if"))


def _alert(**fields: object) -> Alert:
    base: dict[str, object] = {
        "source": AlertSource.ALERTMANAGER,
        "dedup_key": "KubePodCrashLooping-abc",
        "event_id": "e1",
        "status": AlertStatus.FIRING,
        "name": "KubePodCrashLooping",
        "title": "Pod is crash looping.",
        "service": "payments",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": "p-1"},
        "received_at": datetime.now(UTC),
        "payload_digest": "d",
    }
    base.update(fields)
    return Alert.model_validate(base)


def _runbook(rid: str, selectors: list[dict[str, object]]) -> Runbook:
    return Runbook.model_validate(
        {
            "id": rid,
            "title": rid,
            "selectors": selectors,
            "variables": [{"name": "pod", "source": "label:pod"}, {"name": "namespace"}],
            "steps": [{"id": "s", "title": "s", "command": "kubectl -n {{ namespace }} logs $POD"}],
        }
    )


def test_most_specific_selector_wins() -> None:
    generic = _runbook("generic", [{"alertname": "KubePodCrashLooping"}])
    specific = _runbook(
        "payments", [{"alertname": "KubePodCrashLooping", "labels": {"namespace": "payments"}}]
    )
    regex = _runbook("regex", [{"labels": {"namespace": "~pay.*"}}])
    other = _runbook("other", [{"alertname": "TargetDown"}])
    match = select_by_selectors([generic, regex, specific, other], _alert())
    assert match is not None
    assert match.runbook.id == "payments"
    assert select_by_selectors([other], _alert()) is None
    assert select_by_selectors([regex], _alert()) is not None


def test_prepare_fills_and_quotes_variables_and_names_the_missing_ones() -> None:
    runbook = _runbook("r", [{"alertname": "KubePodCrashLooping"}])
    selected = prepare(runbook, _alert(labels={"pod": "a b"}), "test")
    assert selected.missing_variables == ["namespace"]
    assert selected.rendered[0].command is None  # never run with a hole in it
    selected = prepare(runbook, _alert(labels={"pod": "a b", "namespace": "x;y"}), "test")
    assert selected.rendered[0].command == "kubectl -n 'x;y' logs 'a b'"
    assert selected.variables == {"pod": "a b", "namespace": "x;y"}


def test_incident_ids_are_stable_and_safe() -> None:
    assert incident_id_for(_alert()) == "incident-alertmanager-KubePodCrashLooping-abc"
    odd = incident_id_for(_alert(dedup_key="a/b c"))
    assert odd.startswith("incident-alertmanager-a-b-c-")
    assert odd != incident_id_for(_alert(dedup_key="a-b c"))
