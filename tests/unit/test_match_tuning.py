"""Matching hand-written alerts against the shared corpus: floors on the TUNING sets (the sets the
matcher was tuned on: tests/data/tuning, and the first and second held-out sets,
tests/data/heldout/alerts and tests/data/heldout2/alerts, whose results have been seen), the
issue's own examples, and the pieces that read operations language. A held-out set written later
is never asserted on here (bench/match_eval.py reports it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.match_bench import find_corpus, product_runbooks
from bench.match_eval import LabelledAlert, Report, alert_of, evaluate, load_set
from domain.alerts.choose import RunbookMatcher
from domain.alerts.documents import AlertRule, RunbookDocument, with_rules
from domain.alerts.entities import entity_names, split_entities
from domain.alerts.index import RunbookIndex
from domain.alerts.query import alert_query

DATA = Path(__file__).resolve().parents[1] / "data"
HELDOUT2 = DATA / "heldout2" / "alerts" / "alerts.yaml"  # seen in round 2: tuning data now
TUNING = [
    *sorted((DATA / "tuning").glob("*.yaml")),
    DATA / "heldout" / "alerts" / "alerts.yaml",
    HELDOUT2,
]
P = "prometheus-operator-runbooks/"
OS = "openshift-runbooks/"
DISK_FILL = {
    f"{P}node/NodeFilesystemSpaceFillingUp.md",
    f"{P}node/NodeFilesystemAlmostOutOfSpace.md",
    f"{OS}cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md",
    f"{OS}cluster-monitoring-operator/NodeFilesystemAlmostOutOfSpace.md",
}


@pytest.fixture(scope="module")
def matcher() -> RunbookMatcher:
    return RunbookMatcher(product_runbooks(find_corpus()))


@pytest.fixture(scope="module")
def tuning() -> list[LabelledAlert]:
    assert len(TUNING) >= 4
    return [case for path in TUNING for case in load_set(path)]


def _report(title: str, report: Report) -> None:
    print("\n".join(["", *report.lines(title), *(f"    miss: {m}" for m in report.misses)]))  # noqa: T201


def test_tuning_sets_floors(matcher: RunbookMatcher, tuning: list[LabelledAlert]) -> None:
    report = evaluate(matcher, tuning)
    _report("tuning sets", report)
    assert report.positives >= 375
    assert report.negatives >= 90
    assert report.top1 / report.positives >= 0.88
    assert report.top3 / report.positives >= 0.98
    assert report.false_matches / report.negatives <= 0.03


@pytest.mark.parametrize("path", TUNING, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_tuning_set_keeps_false_matches_at_most_5_percent(
    matcher: RunbookMatcher, path: Path
) -> None:
    report = evaluate(matcher, load_set(path))
    assert report.negatives >= 15
    assert report.false_matches / report.negatives <= 0.05


def test_second_held_out_set_floors(matcher: RunbookMatcher) -> None:
    """Round 2 started at top-1 63.2% (79/125), top-3 94.4%, 22 of 50 generic alerts right."""
    cases = load_set(HELDOUT2)
    report = evaluate(matcher, cases)
    _report("heldout2", report)
    assert report.positives == 125
    assert report.top1 / report.positives >= 0.74
    assert report.top3 / report.positives >= 0.96
    assert report.ece() <= 0.05
    generic = evaluate(matcher, [c for c in cases if c.source == "generic"])
    assert generic.top1 >= 36  # free text and Alertmanager-style renamed alert names


def test_confident_answers_are_mostly_right(
    matcher: RunbookMatcher, tuning: list[LabelledAlert]
) -> None:
    report = evaluate(matcher, tuning)
    sure = [right for confidence, right in report.answered if confidence >= 0.8]
    assert len(sure) >= 250
    assert sum(sure) / len(sure) >= 0.93
    assert report.ece() <= 0.05


def _match(matcher: RunbookMatcher, title: str, **labels: str) -> tuple[str | None, list[str]]:
    result = matcher.match(alert_of({"id": "t", "title": title, "labels": labels}))
    return result.runbook, [c.runbook for c in result.candidates[:3]]


def test_crash_looping_service_pods_are_not_the_alertmanager_cluster(
    matcher: RunbookMatcher,
) -> None:
    got, _ = _match(
        matcher,
        "payment-svc pods keep restarting (CrashLoopBackOff)",
        service="payment-svc",
        namespace="payments",
    )
    assert got == f"{P}kubernetes/KubePodCrashLooping.md"


@pytest.mark.parametrize(
    "title",
    [
        "Disk on db-3 will fill up within 4 hours",
        "Filesystem / on worker-12 has only 2% space left",
    ],
)
def test_disk_filling_on_a_host_finds_the_disk_fill_runbook(
    matcher: RunbookMatcher, title: str
) -> None:
    got, _ = _match(matcher, title)
    assert got in DISK_FILL


def test_a_predicted_fill_is_the_filling_up_runbook(matcher: RunbookMatcher) -> None:
    got, _ = _match(matcher, "Disk on db-3 will fill up within 4 hours")
    assert got is not None
    assert got.endswith("NodeFilesystemSpaceFillingUp.md")


def test_kubelet_certificate_is_not_the_client_certificate(matcher: RunbookMatcher) -> None:
    result = matcher.match(alert_of({"id": "t", "title": "kubelet certificate expiring on node-4"}))
    assert result.runbook is not None
    assert "/KubeletServer" in result.runbook or "/KubeletClient" in result.runbook
    # server or client? The title does not say: a close call, with both shown.
    assert result.close
    shown = {c.runbook for c in result.candidates[:3]}
    assert {f"{P}kubernetes/KubeletServerCertificateExpiration.md"} <= shown
    assert {f"{P}kubernetes/KubeletClientCertificateExpiration.md"} <= shown
    assert "close call" in result.reason


def test_labels_say_what_is_affected(matcher: RunbookMatcher) -> None:
    """The same words, two labels: a volume claim, or a host filesystem."""
    got, _ = _match(matcher, "almost full", persistentvolumeclaim="data-pg-0", namespace="db")
    assert got is not None
    assert "PersistentVolume" in got  # a volume runbook, not a node filesystem one
    got, _ = _match(matcher, "almost full", mountpoint="/srv", instance="app-3:9100")
    assert got in DISK_FILL


def test_software_the_corpus_has_no_runbook_for_gets_none(matcher: RunbookMatcher) -> None:
    for title in ("Redis memory fragmentation high", "Veeam backup job failed for vm-fin-01"):
        got, _ = _match(matcher, title)
        assert got is None, title


def test_hosts_services_and_addresses_in_a_title_are_context_not_topic() -> None:
    names = entity_names({"service": "payment-svc", "instance": "db-3:9100", "severity": "page"})
    kept, found = split_entities(
        "payment-svc on db-3 (10.0.3.17:9100) cannot write /var/lib/pg; www.example.com page",
        names,
    )
    assert set(found) >= {"payment-svc", "db-3", "10.0.3.17:9100", "/var/lib/pg", "www.example.com"}
    assert "page" in kept  # a descriptive label's value is never cut
    assert "metrics.k8s.io" in split_entities("metrics.k8s.io unavailable", [])[0]


def test_label_names_become_content_terms() -> None:
    alert = alert_of(
        {"id": "t", "title": "usage high", "labels": {"mountpoint": "/", "device": "eth0"}}
    )
    content, _ = alert_query(alert)
    assert "filesystem" in content
    assert "network" in content
    assert "interface" in content


def test_imported_alert_rules_lend_their_words_to_the_runbook() -> None:
    docs = [
        RunbookDocument(key="rb/QueueStalled.md", title="QueueStalled", body="Check the broker."),
        RunbookDocument(key="rb/DiskFull.md", title="DiskFull", body="Free some space."),
    ]
    rule = AlertRule(
        alertname="QueueStalled",
        expr="rate(widget_frobnicator_processed_total[5m]) == 0",
        annotations={"summary": "Frobnicator stopped processing widgets."},
    )
    alert = alert_of({"id": "t", "title": "frobnicator not processing widgets"})
    assert not RunbookIndex.build(docs).match(alert).candidates  # no runbook says these words
    enriched = with_rules(docs, [rule])
    assert "widget frobnicator processed total" in enriched[0].rules
    assert enriched[1].rules == ""
    assert RunbookIndex.build(enriched).match(alert).candidates[0].runbook == "rb/QueueStalled.md"


def test_close_calls_carry_each_candidates_score_and_why(matcher: RunbookMatcher) -> None:
    alert = alert_of({"id": "t", "title": "kubelet certificate expiring on node-4"})
    result = matcher.match(alert)
    assert result.close
    best = result.candidates[0]
    assert best.evidence["relative_to_best"] == 1.0
    for call in result.close:
        assert call.runbook != result.runbook
        assert call.runbook in {c.runbook for c in result.candidates}
        assert 0.9 <= call.evidence["relative_to_best"] <= 1.0
        assert 0.0 < call.score <= best.score
        assert {"coverage", "name_cover", "name_equal"} <= call.evidence.keys()
        assert any(r.startswith("scored ") and result.runbook in r for r in call.reasons)
    selected = matcher.select(alert, result)
    assert [c.runbook for c in selected.close] == [c.runbook for c in result.close]
