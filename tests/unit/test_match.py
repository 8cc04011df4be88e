"""Alert → runbook matching: explicit mappings, selectors, runbook_url, threshold, determinism."""

from __future__ import annotations

import random

import pytest

from domain.alerts.match import (
    Mapping,
    RunbookDocument,
    RunbookIndex,
    document_from_markdown,
    document_from_runbook,
)
from schemas.runbook import AlertSelector, Runbook
from tests.unit.alert_support import firing_alert

CRASH = """---
title: Kube Pod Crash Looping
weight: 20
---

# KubePodCrashLooping

## Meaning

Pod is in CrashLoop which means the app dies or is unresponsive and kubernetes restarts it.

## Diagnosis

```bash
# not a heading
kubectl -n $NAMESPACE describe pod $POD
```
"""

DISK = """# NodeFilesystemSpaceFillingUp

## Meaning

The filesystem on a node is predicted to run out of space soon.
"""

CERT = """---
title: Kube Client Certificate Expiration
---

# KubeClientCertificateExpiration

## Meaning

A client certificate used to authenticate to the Kubernetes API server expires soon.
"""


def docs() -> list[RunbookDocument]:
    return [
        document_from_markdown("upstream/kubernetes/KubePodCrashLooping.md", CRASH),
        document_from_markdown("upstream/node/NodeFilesystemSpaceFillingUp.md", DISK),
        document_from_markdown("upstream/kubernetes/KubeClientCertificateExpiration.md", CERT),
        document_from_markdown(
            "openshift/cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md", DISK
        ),
        document_from_markdown(
            "team/payments/payments-restart.md", "# Restart payments\n\nBounce it."
        ),
    ]


@pytest.fixture(scope="module")
def index() -> RunbookIndex:
    return RunbookIndex.build(docs())


def test_markdown_document_title_headings_body() -> None:
    doc = document_from_markdown("upstream/kubernetes/KubePodCrashLooping.md", CRASH)
    assert doc.title == "Kube Pod Crash Looping"
    assert doc.headings == ["KubePodCrashLooping", "Meaning", "Diagnosis"]
    assert "kubectl -n $NAMESPACE" in doc.body
    assert "# not a heading" in doc.body
    bare = document_from_markdown("x/NoTitle.md", "just text")
    assert bare.title == "NoTitle"
    assert document_from_markdown("x/y.md", DISK).title == "NodeFilesystemSpaceFillingUp"


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        RunbookIndex.build([*docs(), docs()[0]])


def test_explicit_mapping_beats_name_and_url(index: RunbookIndex) -> None:
    a = firing_alert(
        "KubePodCrashLooping",
        labels={"namespace": "payments"},
        annotations={"runbook_url": "https://x/runbooks/kubernetes/kubepodcrashlooping"},
    )
    mappings = [
        Mapping(
            selector=AlertSelector(labels={"namespace": "payments"}),
            runbook="team/payments/payments-restart.md",
        )
    ]
    result = index.match(a, mappings=mappings)
    assert result.runbook == "team/payments/payments-restart.md"
    assert result.confidence == 1.0
    assert result.method == "mapping"
    assert "explicit mapping" in result.reason


def test_most_specific_mapping_wins_and_unknown_targets_are_ignored(index: RunbookIndex) -> None:
    a = firing_alert("KubePodCrashLooping", labels={"namespace": "payments"}, service="payments")
    mappings = [
        Mapping(
            selector=AlertSelector(service="payments"),
            runbook="upstream/node/NodeFilesystemSpaceFillingUp.md",
        ),
        Mapping(
            selector=AlertSelector(alertname="KubePodCrashLooping", service="payments"),
            runbook="does/not/exist.md",
        ),
        Mapping(
            selector=AlertSelector(alertname="KubePodCrashLooping", labels={"namespace": "~pay.*"}),
            runbook="team/payments/payments-restart.md",
        ),
    ]
    assert index.match(a, mappings=mappings).runbook == "team/payments/payments-restart.md"
    no_match = [
        Mapping(
            selector=AlertSelector(service="orders"), runbook="team/payments/payments-restart.md"
        )
    ]
    assert index.match(a, mappings=no_match).method == "name"


def test_runbook_selectors_win_with_full_confidence() -> None:
    runbook = Runbook(
        id="payments-restart",
        title="Restart the payments service",
        selectors=[AlertSelector(alertname="KubePodCrashLooping", service="payments")],
        services=["payments"],
        steps=[{"id": "restart", "title": "Restart", "command": "kubectl rollout restart"}],
    )
    idx = RunbookIndex.build([*docs()[:4], document_from_runbook("payments-restart.yaml", runbook)])
    result = idx.match(firing_alert("KubePodCrashLooping", service="payments"))
    assert (result.runbook, result.confidence, result.method) == (
        "payments-restart.yaml",
        1.0,
        "selector",
    )
    other = idx.match(firing_alert("KubePodCrashLooping", service="orders"))
    assert other.runbook == "upstream/kubernetes/KubePodCrashLooping.md"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
            "upstream/kubernetes/KubePodCrashLooping.md",
        ),
        (
            "https://github.com/openshift/runbooks/blob/master/alerts/cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md",
            "openshift/cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md",
        ),
        (
            "https://runbooks.prometheus-operator.dev/runbooks/node/nodefilesystemspacefillingup/",
            "upstream/node/NodeFilesystemSpaceFillingUp.md",
        ),
    ],
)
def test_runbook_url_resolves_by_last_two_segments(
    index: RunbookIndex, url: str, expected: str
) -> None:
    # The alert's name says nothing: the URL alone decides.
    result = index.match(firing_alert("SomethingElse", annotations={"runbook_url": url}))
    assert result.runbook == expected
    assert result.method == "runbook_url"
    assert result.confidence >= 0.95


def test_url_picks_between_same_named_runbooks(index: RunbookIndex) -> None:
    url = "https://github.com/openshift/runbooks/blob/master/alerts/cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md"
    result = index.match(
        firing_alert("NodeFilesystemSpaceFillingUp", annotations={"runbook_url": url})
    )
    assert result.runbook == "openshift/cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md"


def test_unresolved_url_falls_back_to_name_with_less_confidence(index: RunbookIndex) -> None:
    url = "https://runbooks.example/runbooks/kubernetes/kubeclientcertificateexpirationv2"
    result = index.match(
        firing_alert("KubeClientCertificateExpiration", annotations={"runbook_url": url})
    )
    assert result.runbook == "upstream/kubernetes/KubeClientCertificateExpiration.md"
    assert result.method == "name"
    assert result.confidence < 0.9
    assert "not loaded" in result.reason


def test_name_match_is_case_and_style_insensitive(index: RunbookIndex) -> None:
    for name in ("KubePodCrashLooping", "kube_pod_crash_looping", "kubepodcrashlooping"):
        result = index.match(firing_alert(name))
        assert result.runbook == "upstream/kubernetes/KubePodCrashLooping.md", name
        assert result.method == "name"
        assert result.confidence >= 0.9


def test_shared_name_is_flagged_and_candidates_list_both(index: RunbookIndex) -> None:
    result = index.match(firing_alert("NodeFilesystemSpaceFillingUp"))
    assert result.runbook is not None
    assert result.runbook.endswith("NodeFilesystemSpaceFillingUp.md")
    assert result.confidence < 0.95
    keys = [c.runbook for c in result.candidates]
    assert "upstream/node/NodeFilesystemSpaceFillingUp.md" in keys
    assert "openshift/cluster-monitoring-operator/NodeFilesystemSpaceFillingUp.md" in keys


def test_prose_title_matches_by_text(index: RunbookIndex) -> None:
    result = index.match(firing_alert("Payments pods keep crashing in prod", service="payments"))
    assert result.runbook == "upstream/kubernetes/KubePodCrashLooping.md"
    assert result.method == "text"
    assert 0.0 < result.confidence < 1.0


def test_below_threshold_gives_no_runbook(index: RunbookIndex) -> None:
    a = firing_alert("Coffee machine on floor 3 is out of beans")
    result = index.match(a)
    assert result.runbook is None
    assert result.method == "none"
    assert result.reason.startswith("no runbook matched")
    assert index.match(a, threshold=0.0).runbook is not None or not result.candidates


def test_named_alert_without_namesake_is_not_guessed(index: RunbookIndex) -> None:
    # A machine alert name that no runbook carries: related text alone must not pick one.
    result = index.match(
        firing_alert(
            "NodeFilesystemInodesFillingUpFast", title="Filesystem is running out of inodes."
        )
    )
    assert result.runbook is None


def test_threshold_controls_the_cut(index: RunbookIndex) -> None:
    a = firing_alert("Payments pods keep crashing in prod", service="payments")
    confident = index.match(a)
    assert index.match(a, threshold=confident.confidence + 0.01).runbook is None
    assert index.match(a, threshold=confident.confidence).runbook == confident.runbook


def test_result_shape(index: RunbookIndex) -> None:
    result = index.match(firing_alert("Kubernetes client certificate expires in 3 days"))
    assert 0.0 <= result.confidence <= 1.0
    assert len(result.candidates) <= 5
    assert all(0.0 <= c.score <= 1.0 and c.reasons for c in result.candidates)
    assert result.runbook == "upstream/kubernetes/KubeClientCertificateExpiration.md"


def test_deterministic_regardless_of_document_order() -> None:
    a = firing_alert("node filesystem almost out of space", labels={"namespace": "monitoring"})
    first = RunbookIndex.build(docs()).match(a, threshold=0.0)
    for seed in range(5):
        shuffled = docs()
        random.Random(seed).shuffle(shuffled)  # noqa: S311 - test order only
        again = RunbookIndex.build(shuffled).match(a, threshold=0.0)
        assert again.runbook == first.runbook
        assert again.confidence == pytest.approx(first.confidence, abs=1e-9)
        assert [c.runbook for c in again.candidates] == [c.runbook for c in first.candidates]
    assert RunbookIndex.build(docs()).match(a, threshold=0.0) == first


# -- vocabulary: the words pages use and the words runbooks use meet on the same terms ----------


@pytest.mark.parametrize(
    ("page", "runbook_name", "shared"),
    [
        (
            "Disk almost full on db-2",
            "NodeFilesystemAlmostOutOfSpace",
            {"storage", "almost", "fill"},
        ),
        ("Running out of inodes", "NodeFilesystemAlmostOutOfFiles", {"inode"}),
        ("Kubernetes API server is unreachable", "KubeAPIDown", {"kubernetes", "api", "down"}),
        ("pods restarting over and over", "KubePodCrashLooping", {"pod", "crash", "loop"}),
        ("OOMKilled containers", "out of memory", {"memory", "oom"}),
        (
            "TLS cert expires in 3 days",
            "KubeClientCertificateExpiration",
            {"certificate", "expire"},
        ),
        (
            "orders statefulset replicas differ",
            "KubeStatefulSetReplicasMismatch",
            {"statefulset", "mismatch"},
        ),
        (
            "can't deliver notifications",
            "AlertmanagerFailedToSendAlerts",
            {"fault", "send", "alert"},
        ),
        ("etcd fsync latency high", "etcdHighFsyncDurations", {"fsync", "slow", "high"}),
    ],
)
def test_vocabulary_meets_on_concepts(page: str, runbook_name: str, shared: set[str]) -> None:
    from domain.alerts.text import name_concepts, tokens

    assert shared <= set(tokens(page))
    assert shared <= set(tokens(runbook_name))
    assert shared <= set(name_concepts(runbook_name)) | set(tokens(runbook_name))


def test_concept_names_collapse_synonyms_but_keep_specific_words() -> None:
    from domain.alerts.text import name_concepts, name_tokens

    assert name_tokens("KubeNodeUnreachable") == ("kubernetes", "node", "unreachable", "down")
    assert name_concepts("KubeNodeUnreachable") == ("kubernetes", "node", "down")
    assert name_concepts("KubeletDown") == ("kubelet", "kubernetes", "down")
    # "out of file descriptors" is not "out of files" (inodes)
    from domain.alerts.text import tokens

    assert "inode" not in tokens("node running out of file descriptors")
    assert "inode" in tokens("NodeFilesystemAlmostOutOfFiles")


def test_kubectl_is_no_evidence_against_a_runbook_for_a_kubernetes_alert() -> None:
    kube = document_from_markdown(
        "upstream/kubernetes/KubeletDown.md",
        "# KubeletDown\n\nKubelet is down.\n\n```\nkubectl get nodes\n```\n",
    )
    vendor = document_from_markdown(
        "vendor/node/KubeletDown.md",
        "# KubeletDown\n\nKubelet is down.\n\n```\noc get nodes\n```\n",
    )
    filler = [
        document_from_markdown(
            f"{side}/x/Other{i}.md",
            f"# Other{i}\n\nSomething else {i}.\n\n```\n{tool} get pods\n```\n",
        )
        for side, tool in (("upstream", "kubectl"), ("vendor", "oc"))
        for i in range(12)
    ]
    idx = RunbookIndex.build([vendor, kube, *filler])
    labelled = firing_alert("KubeletDown", labels={"node": "worker-1", "namespace": "kube-system"})
    result = idx.match(labelled)
    assert result.runbook == "upstream/kubernetes/KubeletDown.md"
    top, other = result.candidates[0], result.candidates[1]
    assert not any("platform" in r for r in top.reasons)
    assert any("unmentioned platform terms: oc" in r for r in other.reasons)
