"""Alert → runbook matching: accuracy on the shared corpus, and latency/memory at 1,000 runbooks.

Accuracy (with and without the runbook_url annotation):
  * the 112 kube-prometheus rules that have a runbook file, rendered as Alerts;
  * the 27 rules whose runbook file is missing (must give None: the false-match rate);
  * every alert of the 29 captured Alertmanager payloads (answer key: index.json);
  * hand-written paraphrased alerts (PagerDuty-style titles, no alertname) and off-topic ones.
The 108 prometheus-operator runbooks are the targets; the 259 OpenShift alert runbooks are loaded
too, as distractors.

Performance: index build time, match latency per alert (median, p99) and tracemalloc peak with
1,000 runbooks (the 367 corpus runbooks plus synthetic variants), beside a same-run baseline: a
plain case-insensitive substring scan of the alert name over all runbook titles.

Usage: python bench/match_bench.py [--corpus /work/shared/corpus] [--runbooks 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from domain.alerts.match import RunbookDocument, RunbookIndex, document_from_markdown
from domain.alerts.normalize.alertmanager import normalize
from domain.alerts.normalize.keys import service_of
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.webhooks.alertmanager import AlertmanagerWebhook

DEFAULT_CORPUS = Path("/work/shared/corpus")
PROM_OP = "prometheus-operator-runbooks"
OPENSHIFT = "openshift-runbooks"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# corpus loading


def load_documents(corpus: Path) -> list[RunbookDocument]:
    """The 108 prometheus-operator runbooks and the 259 OpenShift *alert* runbooks.

    OpenShift's helper pages (`helpers/`, `hierarchy/README.md`) are not alert runbooks.
    """
    docs = []
    for top in (PROM_OP, OPENSHIFT):
        for path in sorted((corpus / top).rglob("*.md")):
            rel = path.relative_to(corpus).as_posix()
            if "/helpers/" in rel or "/hierarchy/" in rel:
                continue
            docs.append(document_from_markdown(rel, path.read_text(encoding="utf-8")))
    return docs


@dataclass
class Case:
    """One alert to match: the expected key (None: no runbook), and any also-acceptable keys."""

    label: str
    alert: Alert
    expected: str | None
    also_ok: tuple[str, ...] = ()
    group: str = ""


def make_alert(
    name: str,
    title: str,
    *,
    description: str = "",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    generator_url: str | None = None,
    source: AlertSource = AlertSource.GENERIC,
) -> Alert:
    labels = dict(labels or {})
    return Alert(
        source=source,
        dedup_key=f"{name}"[:255] or "x",
        event_id="e1",
        status=AlertStatus.FIRING,
        name=name,
        title=title,
        description=description,
        service=service_of(labels),
        severity=labels.get("severity", "unknown"),
        labels=labels,
        annotations=dict(annotations or {}),
        received_at=NOW,
        generator_url=generator_url,
        payload_digest="0" * 64,
    )


def strip_runbook_url(alert: Alert) -> Alert:
    annotations = {k: v for k, v in alert.annotations.items() if k != "runbook_url"}
    return alert.model_copy(update={"annotations": annotations})


def rule_cases(corpus: Path) -> list[Case]:
    """Every kube-prometheus rule as an Alertmanager-style Alert, templates left unrendered."""
    cases = []
    for rule in json.loads((corpus / "alert-rules.json").read_text()):
        name = rule["alertname"]
        annotations = dict(rule["annotations"])
        expr = " ".join(
            line for line in rule["expr"].splitlines() if not line.lstrip().startswith("#")
        )
        alert = make_alert(
            name,
            annotations.get("summary") or annotations.get("message") or name,
            description=annotations.get("description", ""),
            labels={"alertname": name, **rule["labels"]},
            annotations=annotations,
            generator_url=f"http://prometheus-k8s-0:9090/graph?g0.expr={quote_plus(expr)}&g0.tab=1",
            source=AlertSource.ALERTMANAGER,
        )
        expected = rule["runbook_file"]
        group = "rule-with-runbook" if expected else "rule-missing-runbook"
        # A missing prometheus-operator page but an OpenShift runbook for the very same alert
        # name: that runbook is a correct answer too (so is None).
        also = tuple(rule["openshift_runbook_files"]) if expected is None else ()
        cases.append(
            Case(f"{name}/{rule['labels'].get('severity', '')}", alert, expected, also, group)
        )
    return cases


def payload_cases(corpus: Path) -> list[Case]:
    """Each alert of each captured webhook, normalised exactly as the webhook endpoint does."""
    folder = corpus / "alertmanager-webhooks"
    cases = []
    for entry in json.loads((folder / "index.json").read_text()):
        body = AlertmanagerWebhook.model_validate_json((folder / entry["file"]).read_text())
        expected = {a["alertname"]: a["runbook_file"] for a in entry["alerts"]}
        for alert in normalize(body, NOW, "0" * 64):
            cases.append(
                Case(f"{entry['file']}:{alert.name}", alert, expected[alert.name], group="payload")
            )
    return cases


def _k(path: str) -> str:
    return f"{PROM_OP}/{path}.md"


# Written as an on-call engineer would title a page or a PagerDuty incident: no alertname label,
# sometimes a service label. Expected: the prometheus-operator runbook; `also` lists other
# runbooks that are just as right (the OpenShift runbook for the same alert, or a sibling alert
# that equally fits the words used).
PARAPHRASED: list[tuple[str, dict[str, str], str, tuple[str, ...]]] = [
    (
        "Payments pods keep crashing in prod",
        {"service": "payments"},
        _k("kubernetes/KubePodCrashLooping"),
        (),
    ),
    (
        "checkout-api container restarting over and over (CrashLoopBackOff)",
        {"service": "checkout"},
        _k("kubernetes/KubePodCrashLooping"),
        (),
    ),
    (
        "Worker node ip-10-0-3-17 is NotReady",
        {},
        _k("kubernetes/KubeNodeNotReady"),
        (f"{OPENSHIFT}/machine-config-operator/KubeNodeNotReady.md",),
    ),
    ("Kubelet down on worker-3", {}, _k("kubernetes/KubeletDown"), ()),
    ("Kubernetes API server is unreachable", {}, _k("kubernetes/KubeAPIDown"), ()),
    (
        "Client certificate for the Kubernetes API expires in 6 days",
        {},
        _k("kubernetes/KubeClientCertificateExpiration"),
        (),
    ),
    (
        "Checkout deployment has fewer available replicas than desired",
        {"service": "checkout"},
        _k("kubernetes/KubeDeploymentReplicasMismatch"),
        (),
    ),
    (
        "Orders statefulset replicas not ready for 15 minutes",
        {"service": "orders"},
        _k("kubernetes/KubeStatefulSetReplicasMismatch"),
        (),
    ),
    (
        "Nightly settlement job failed in payments namespace",
        {"namespace": "payments"},
        _k("kubernetes/KubeJobFailed"),
        (),
    ),
    (
        "HPA for payments-api stuck at max replicas",
        {"service": "payments"},
        _k("kubernetes/KubeHpaMaxedOut"),
        (),
    ),
    (
        "Postgres persistent volume is nearly full",
        {"service": "postgres"},
        _k("kubernetes/KubePersistentVolumeFillingUp"),
        (),
    ),
    (
        "fraud-scorer containers heavily CPU throttled",
        {"service": "fraud-detection"},
        _k("kubernetes/CPUThrottlingHigh"),
        (),
    ),
    (
        "Namespace payments exceeded its resource quota",
        {"namespace": "payments"},
        _k("kubernetes/KubeQuotaExceeded"),
        (),
    ),
    (
        "NTP: clock on node not synchronising",
        {},
        _k("node/NodeClockNotSynchronising"),
        (_k("node/NodeClockSkewDetected"),),
    ),
    (
        "Alertmanager cannot deliver notifications to Slack",
        {"service": "alertmanager"},
        _k("alertmanager/AlertmanagerFailedToSendAlerts"),
        (_k("alertmanager/AlertmanagerClusterFailedToSendAlerts"),),
    ),
    (
        "Prometheus failing to evaluate rules",
        {"service": "prometheus"},
        _k("prometheus/PrometheusRuleFailures"),
        (),
    ),
    (
        "Prometheus remote write falling behind",
        {"service": "prometheus"},
        _k("prometheus/PrometheusRemoteWriteBehind"),
        (),
    ),
    (
        "Scrape target for payments service is down",
        {"service": "payments"},
        _k("general/TargetDown"),
        (),
    ),
    ("Pod container stuck waiting for over an hour", {}, _k("kubernetes/KubeContainerWaiting"), ()),
    (
        "Network interface eth0 on node keeps flapping",
        {},
        _k("general/NodeNetworkInterfaceFlapping"),
        (),
    ),
    ("Node running out of file descriptors", {}, _k("node/NodeFileDescriptorLimit"), ()),
    (
        "etcd cluster has no leader",
        {"service": "etcd"},
        _k("etcd/etcdNoLeader"),
        (f"{OPENSHIFT}/cluster-etcd-operator/etcdNoLeader.md",),
    ),
    ("Conntrack table almost full on node", {}, _k("node/NodeHighNumberConntrackEntriesUsed"), ()),
    (
        "Alertmanager configuration reload failed",
        {"service": "alertmanager"},
        _k("alertmanager/AlertmanagerFailedReload"),
        (),
    ),
    (
        "Cluster memory overcommitted, cannot tolerate a node failure",
        {},
        _k("kubernetes/KubeMemoryOvercommit"),
        (),
    ),
    (
        "Prometheus operator fails to reconcile",
        {"service": "prometheus-operator"},
        _k("prometheus-operator/PrometheusOperatorReconcileErrors"),
        (),
    ),
    (
        "RAID array degraded on storage node",
        {},
        _k("node/NodeRAIDDegraded"),
        (f"{OPENSHIFT}/cluster-monitoring-operator/NodeRAIDDegraded.md",),
    ),
    (
        "DaemonSet pods are not scheduled on some nodes",
        {},
        _k("kubernetes/KubeDaemonSetNotScheduled"),
        (),
    ),
]

# Pages with no runbook in the corpus: these must come back as None.
OFF_TOPIC: list[tuple[str, dict[str, str]]] = [
    ("Coffee machine on floor 3 is out of beans", {}),
    ("Quarterly sales report generation delayed", {"service": "reporting"}),
    ("Customer NPS dropped below 30", {}),
    ("Marketing email campaign bounce rate high", {"service": "mailer"}),
    ("Stripe payout reconciliation mismatch", {"service": "payments"}),
    ("Office VPN login slow for London staff", {}),
]


def paraphrased_cases() -> list[Case]:
    cases = []
    for title, labels, expected, also in PARAPHRASED:
        alert = make_alert(title, title, labels={"alertname": title, **labels})
        cases.append(Case(title, alert, expected, also, "paraphrased"))
    for title, labels in OFF_TOPIC:
        alert = make_alert(title, title, labels={"alertname": title, **labels})
        cases.append(Case(title, alert, None, (), "off-topic"))
    return cases


# ---------------------------------------------------------------------------------------------
# evaluation


@dataclass
class Figures:
    total: int = 0
    strict: int = 0
    lenient: int = 0
    wrong: int = 0
    none_when_expected: int = 0
    misses: list[str] = field(default_factory=list)

    def rate(self, n: int) -> float:
        return n / self.total if self.total else 1.0

    def line(self, title: str) -> str:
        return (
            f"{title:<44} n={self.total:>3}  top-1 strict {self.rate(self.strict):6.1%}  "
            f"accepted {self.rate(self.lenient):6.1%}  wrong runbook {self.rate(self.wrong):6.1%}  "
            f"None {self.none_when_expected:>2}"
        )


def same_alert(got: str | None, expected: str | None) -> bool:
    """Another corpus's runbook for the very same alert name (e.g. the OpenShift one)."""
    if got is None or expected is None:
        return False
    return got.rsplit("/", 1)[-1].lower() == expected.rsplit("/", 1)[-1].lower()


def evaluate(index: RunbookIndex, cases: list[Case], *, strip: bool = False) -> Figures:
    """Strict: exactly the expected key (or None). Accepted: that, an also-ok key, or a runbook
    of another corpus written for the same alert name (same file name).

    `wrong` counts answers that are neither (a wrong runbook); `None` counts runbook=None where a
    runbook was expected (a miss, not a false match).
    """
    figures = Figures()
    for case in cases:
        alert = strip_runbook_url(case.alert) if strip else case.alert
        got = index.match(alert).runbook
        figures.total += 1
        ok_strict = got == case.expected
        ok = (
            ok_strict or (got is not None and got in case.also_ok) or same_alert(got, case.expected)
        )
        figures.strict += ok_strict
        figures.lenient += ok
        if not ok:
            if got is None:
                figures.none_when_expected += 1
            else:
                figures.wrong += 1
            figures.misses.append(f"{case.label}: expected {case.expected} got {got}")
    return figures


def accuracy_report(corpus: Path, verbose: bool = False) -> dict[str, Figures]:
    index = RunbookIndex.build(load_documents(corpus))
    rules = rule_cases(corpus)
    groups = {
        "rules with runbook": [c for c in rules if c.group == "rule-with-runbook"],
        "rules with missing runbook": [c for c in rules if c.group == "rule-missing-runbook"],
        "captured payload alerts": payload_cases(corpus),
    }
    paraphrased = paraphrased_cases()
    out: dict[str, Figures] = {}
    for name, cases in groups.items():
        for strip in (False, True):
            label = f"{name} ({'without' if strip else 'with'} runbook_url)"
            out[label] = evaluate(index, cases, strip=strip)
    out["paraphrased titles"] = evaluate(
        index, [c for c in paraphrased if c.group == "paraphrased"]
    )
    out["off-topic titles"] = evaluate(index, [c for c in paraphrased if c.group == "off-topic"])
    print(f"runbooks loaded: {len(index)}")
    for label, figures in out.items():
        print(figures.line(label))
        if verbose:
            for miss in figures.misses:
                print("    miss:", miss)
    return out


# ---------------------------------------------------------------------------------------------
# performance


def synthetic_variants(docs: list[RunbookDocument], n: int, seed: int = 7) -> list[RunbookDocument]:
    """Extra runbooks that look like real ones: renamed copies with shuffled sections."""
    rng = random.Random(seed)
    prefixes = ["Team", "Legacy", "Edge", "Batch", "Payments", "Search", "Billing", "Infra"]
    out = []
    for i in range(n):
        base = docs[i % len(docs)]
        prefix = prefixes[(i // len(docs)) % len(prefixes)]
        lines = base.body.splitlines()
        rng.shuffle(lines)
        title = f"{prefix}{base.title.replace(' ', '')}V{i}"
        out.append(
            RunbookDocument(
                key=f"synthetic/{prefix.lower()}/{title}.md",
                title=title,
                headings=list(base.headings),
                body="\n".join(lines),
            )
        )
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def perf_report(corpus: Path, n_runbooks: int, rounds: int) -> None:
    docs = load_documents(corpus)
    docs += synthetic_variants(docs, max(0, n_runbooks - len(docs)))
    alerts = [c.alert for c in rule_cases(corpus) + payload_cases(corpus) + paraphrased_cases()]
    alerts += [strip_runbook_url(a) for a in alerts]

    builds = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        index = RunbookIndex.build(docs)
        builds.append(time.perf_counter() - t0)
    build_s = statistics.median(builds)
    tracemalloc.start()
    RunbookIndex.build(docs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    titles = [(d.key, d.title.lower()) for d in docs]

    def baseline(alert: Alert) -> str | None:
        needle = alert.name.lower()
        for key, title in titles:
            if needle in title:
                return key
        return None

    by_name = {d.title.replace(" ", "").lower(): d.key for d in docs}
    lat: list[float] = []
    base: list[float] = []
    dict_lat: list[float] = []
    for _ in range(rounds):
        for alert in alerts:
            t = time.perf_counter()
            index.match(alert)
            lat.append(time.perf_counter() - t)
            t = time.perf_counter()
            baseline(alert)
            base.append(time.perf_counter() - t)
            t = time.perf_counter()
            by_name.get(alert.name.lower())
            dict_lat.append(time.perf_counter() - t)

    tracemalloc.start()
    for alert in alerts[:50]:
        index.match(alert)
    _, match_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    med, p99 = statistics.median(lat), pct(lat, 0.99)
    bmed, bp99 = statistics.median(base), pct(base, 0.99)
    print(f"runbooks indexed: {len(index)}; alerts timed: {len(lat)} ({rounds} rounds)")
    print(
        f"index build: median {build_s * 1000:.1f} ms of {rounds}; tracemalloc peak during build {peak / 2**20:.1f} MiB"
    )
    print(f"tracemalloc peak during 50 matches: {match_peak / 2**10:.0f} KiB")
    print(f"match latency: median {med * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
    print(
        f"baseline substring scan over titles: median {bmed * 1e3:.3f} ms, p99 {bp99 * 1e3:.3f} ms"
    )
    print(f"baseline dict lookup by name: median {statistics.median(dict_lat) * 1e6:.2f} us")
    print(f"ratio match/substring-scan: median {med / bmed:.1f}x, p99 {p99 / bp99:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runbooks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--skip-perf", action="store_true")
    args = parser.parse_args()
    accuracy_report(args.corpus, verbose=args.verbose)
    if not args.skip_perf:
        perf_report(args.corpus, args.runbooks, args.rounds)


if __name__ == "__main__":
    main()
