"""Alert → runbook matching on hand-written alert sets: top-1, top-3, negatives, calibration.

Each set is a YAML list of alerts as people write them in PagerDuty, Opsgenie, Grafana and
in-house tools (format: tests/data/heldout/alerts/README.md): `title`, `description`, `labels`,
`tags`, `severity`, `expected` (a path relative to the corpus, or null for a negative) and `also`
(other acceptable paths). Runbooks: the 108 prometheus-operator and 259 OpenShift runbooks of
the shared corpus, parsed as `ddrun import` stores them (the product path), or as Markdown.

Per set it reports:
  * top-1: the answer is `expected` or one of `also` (a None answer is a miss);
  * top-3: an acceptable runbook is among the first three candidates shown (even when the
    confidence was below the threshold and the incident says "no runbook matched");
  * wrong: a positive answered with a wrong runbook; false matches: a negative given a runbook;
  * calibration: answered alerts bucketed by confidence, with the share right in each bucket,
    and the expected calibration error (ECE).

Usage: python bench/match_eval.py SET.yaml [SET.yaml ...] [--corpus DIR] [--documents markdown]
       [--rules] [--threshold T] [--verbose]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.match_bench import NOW, Matcher, find_corpus, load_documents, product_runbooks
from domain.alerts.choose import RunbookMatcher
from domain.alerts.documents import AlertRule, with_rules
from domain.alerts.match import RunbookIndex
from domain.alerts.normalize.keys import service_of
from schemas.alert import Alert, AlertSource, AlertStatus

BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
_SOURCES = {
    "pagerduty": AlertSource.PAGERDUTY,
    "opsgenie": AlertSource.OPSGENIE,
    "grafana": AlertSource.GRAFANA,
}


@dataclass(frozen=True)
class LabelledAlert:
    id: str
    source: str
    alert: Alert
    expected: str | None
    also: tuple[str, ...] = ()

    @property
    def acceptable(self) -> frozenset[str]:
        return frozenset({self.expected, *self.also} - {None})  # type: ignore[arg-type]


def alert_of(entry: dict[str, Any]) -> Alert:
    """The entry as the product's normaliser would hand it over: the title is the name unless a
    label `alertname` says otherwise (Grafana), Opsgenie tags land in the `tags` annotation."""
    labels = {str(k): str(v) for k, v in (entry.get("labels") or {}).items()}
    tags = [str(t) for t in entry.get("tags") or []]
    title = str(entry["title"])
    return Alert(
        source=_SOURCES.get(entry.get("source", ""), AlertSource.GENERIC),
        dedup_key=str(entry["id"]),
        event_id=str(entry["id"]),
        status=AlertStatus.FIRING,
        name=labels.get("alertname") or title,
        title=title,
        description=str(entry.get("description") or ""),
        service=service_of(labels),
        severity=str(entry.get("severity") or "unknown"),
        labels=labels,
        annotations={"tags": ", ".join(tags)} if tags else {},
        received_at=NOW,
        payload_digest="0" * 64,
    )


def load_set(path: Path) -> list[LabelledAlert]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a YAML list of alerts")
    return [
        LabelledAlert(
            id=str(e["id"]),
            source=str(e.get("source", "generic")),
            alert=alert_of(e),
            expected=e.get("expected"),
            also=tuple(e.get("also") or ()),
        )
        for e in entries
    ]


@dataclass
class Report:
    positives: int = 0
    negatives: int = 0
    top1: int = 0
    top3: int = 0
    wrong: int = 0
    none: int = 0
    false_matches: int = 0
    answered: list[tuple[float, bool]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def lines(self, title: str) -> list[str]:
        p, n = self.positives or 1, self.negatives or 1
        out = [
            f"{title}: {self.positives} positives, {self.negatives} negatives",
            f"  top-1 {self.top1 / p:6.1%} ({self.top1}/{self.positives})   "
            f"top-3 {self.top3 / p:6.1%} ({self.top3}/{self.positives})   "
            f"wrong runbook {self.wrong}   no runbook {self.none}",
            f"  false matches on negatives {self.false_matches / n:6.1%} "
            f"({self.false_matches}/{self.negatives})",
            f"  calibration (answered alerts; ECE {self.ece():.3f}):",
        ]
        for low, high, count, right, mean in self.buckets():
            if count:
                out.append(
                    f"    confidence [{low:.1f}, {min(high, 1.0):.1f}{']' if high > 1 else ')'}: "
                    f"n={count:>3}  right {right / count:6.1%}  mean confidence {mean:.2f}"
                )
        return out

    def buckets(self) -> list[tuple[float, float, int, int, float]]:
        out = []
        for low, high in itertools.pairwise(BUCKETS):
            inside = [(c, ok) for c, ok in self.answered if low <= c < high]
            mean = sum(c for c, _ in inside) / len(inside) if inside else 0.0
            out.append((low, high, len(inside), sum(ok for _, ok in inside), mean))
        return out

    def ece(self) -> float:
        total = len(self.answered) or 1
        return sum(
            count / total * abs(right / count - mean)
            for _, _, count, right, mean in self.buckets()
            if count
        )


def evaluate(
    matcher: Matcher, cases: Sequence[LabelledAlert], threshold: float | None = None
) -> Report:
    """`threshold`: the confidence below which no runbook is given (None: the matcher's own)."""
    report = Report()
    for case in cases:
        result = (
            matcher.match(case.alert)
            if threshold is None
            else matcher.match(case.alert, threshold=threshold)  # type: ignore[call-arg]
        )
        shown = [c.runbook for c in result.candidates[:3]]
        if result.runbook is not None and result.runbook not in shown:
            shown = [result.runbook, *shown][:3]
        if case.expected is None:
            report.negatives += 1
            if result.runbook is not None:
                report.false_matches += 1
                report.answered.append((result.confidence, False))
                report.misses.append(
                    f"{case.id} negative got {result.runbook} ({result.confidence:.2f}): "
                    f"{case.alert.title}"
                )
            continue
        report.positives += 1
        right = result.runbook in case.acceptable
        report.top1 += right
        report.top3 += any(key in case.acceptable for key in shown)
        if result.runbook is None:
            report.none += 1
        else:
            report.answered.append((result.confidence, right))
            report.wrong += not right
        if not right:
            report.misses.append(
                f"{case.id} expected {case.expected} got {result.runbook} "
                f"({result.confidence:.2f}; top-3 {shown}): {case.alert.title}"
            )
    return report


def corpus_rules(corpus: Path) -> list[AlertRule]:
    """The corpus's kube-prometheus rules, as a user importing the rules file would give them."""
    return [
        AlertRule(alertname=r["alertname"], expr=r["expr"], annotations=r["annotations"])
        for r in json.loads((corpus / "alert-rules.json").read_text())
    ]


def build_matcher(corpus: Path, documents: str, rules: bool = False) -> Matcher:
    """`rules`: the corpus's alert rules imported too (their summaries and metric names)."""
    imported = corpus_rules(corpus) if rules else []
    if documents == "markdown":
        return RunbookIndex.build(with_rules(load_documents(corpus), imported))
    return RunbookMatcher(product_runbooks(corpus), imported)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--documents", choices=("product", "markdown"), default="product")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument("--rules", action="store_true", help="import the corpus alert rules")
    parser.add_argument("--threshold", type=float, default=None, help="default: the matcher's")
    args = parser.parse_args()
    corpus = args.corpus or find_corpus()
    matcher = build_matcher(corpus, args.documents, args.rules)
    for path in args.sets:
        cases = load_set(path)
        report = evaluate(matcher, cases, args.threshold)
        rules = ", alert rules imported" if args.rules else ""
        print("\n".join(report.lines(f"{path} ({args.documents} documents{rules})")))
        by_source: dict[str, list[LabelledAlert]] = {}
        for case in cases:
            by_source.setdefault(case.source, []).append(case)
        for source, group in sorted(by_source.items()):
            part = evaluate(matcher, group, args.threshold)
            print(
                f"  {source:<10} top-1 {part.top1:>3}/{part.positives:<3} "
                f"top-3 {part.top3:>3}/{part.positives:<3} "
                f"false matches {part.false_matches}/{part.negatives}"
            )
        if args.verbose:
            print("\n".join(f"    miss: {m}" for m in report.misses))


if __name__ == "__main__":
    main()
