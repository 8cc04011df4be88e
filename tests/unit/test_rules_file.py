"""Rules files as users have them: Prometheus YAML, PrometheusRule objects, JSON lists."""

from __future__ import annotations

import json

import pytest

from domain.alerts.rules_file import ImportedRules, RulesFileError, parse_rules_file

CRD = """apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: node}
spec:
  groups:
  - name: node.rules
    rules:
    - alert: NodeFilesystemAlmostOutOfSpace
      expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05
      annotations: {summary: Filesystem has less than 5% space left., runbook_url: http://x}
    - record: instance:node_cpu:rate5m
      expr: rate(node_cpu_seconds_total[5m])
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
spec:
  groups:
  - name: more
    rules:
    - alert: KubeletDown
      expr: absent(up{job="kubelet"} == 1)
"""


def test_prometheus_rule_objects_and_recording_rules() -> None:
    parsed = parse_rules_file(CRD)
    assert [r.alertname for r in parsed.rules] == ["NodeFilesystemAlmostOutOfSpace", "KubeletDown"]
    assert parsed.recording == 1
    assert parsed.rules[0].annotations["summary"].startswith("Filesystem has less")
    assert "node_filesystem_avail_bytes" in parsed.rules[0].expr


def test_json_list_as_the_corpus_keeps_it() -> None:
    text = json.dumps([{"alertname": "A", "expr": "up == 0", "annotations": {"summary": "s"}}])
    assert [r.alertname for r in parse_rules_file(text).rules] == ["A"]


@pytest.mark.parametrize(
    "text",
    ["", "groups: 3", "kind: Deployment", "groups: [{name: g, rules: [{expr: up}]}]", "- 3"],
)
def test_what_is_not_a_rules_file_says_so(text: str) -> None:
    with pytest.raises(RulesFileError):
        parse_rules_file(text)


def test_the_digest_names_the_set() -> None:
    a = ImportedRules.of(parse_rules_file(CRD).rules)
    b = ImportedRules.of(parse_rules_file(CRD.replace("5%", "6%")).rules)
    assert a.digest
    assert a.digest != b.digest
    assert ImportedRules.of([]).digest == ""
