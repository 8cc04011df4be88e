"""Fit the text-match confidence (scoring.CALIBRATION) on the tuning sets, never the held-out set.

Every tuning alert is matched with threshold 0; the evidence of its best text match and whether
that answer was right (a negative answered is wrong) become one sample of a logistic regression
(L2, gradient descent: a few hundred samples, seven features). The coefficients are printed for
scoring.py, with the in-sample reliability by confidence bucket.

Tuning data: tests/data/tuning/*.yaml, the first and second held-out sets
(tests/data/heldout/alerts, tests/data/heldout2/alerts: their results have been seen, so they are
tuning data now), the tuned paraphrase and off-topic groups
of bench/match_bench.py, and the corpus rules without a runbook file (identifier names).
Evidence no sample carries (url_elsewhere) keeps its prior from scoring.CALIBRATION.

Usage: python bench/match_calibrate.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.match_bench import find_corpus, paraphrased_cases, rule_cases, same_alert
from bench.match_eval import Report, build_matcher, load_set
from domain.alerts.scoring import CALIBRATION
from schemas.alert import Alert

TUNED_GROUPS = ("paraphrased", "paraphrased-vocabulary", "off-topic")
SEEN_SETS = (  # held out once, now seen
    REPO / "tests/data/heldout/alerts/alerts.yaml",
    REPO / "tests/data/heldout2/alerts/alerts.yaml",
)
L2 = 0.001
STEPS = 4000
RATE = 0.5


def samples(corpus: Path) -> list[tuple[dict[str, float], bool]]:
    matcher = build_matcher(corpus, "product")
    cases: list[tuple[Alert, frozenset[str], str | None]] = []
    for path in [*sorted((REPO / "tests/data/tuning").glob("*.yaml")), *SEEN_SETS]:
        for case in load_set(path):
            cases.append((case.alert, case.acceptable, case.expected))
    for case in paraphrased_cases():
        if case.group in TUNED_GROUPS:
            cases.append(
                (case.alert, frozenset({*case.also_ok, case.expected} - {None}), case.expected)
            )  # type: ignore[arg-type]
    for case in rule_cases(corpus):
        if case.expected is None:
            alert = case.alert.model_copy(update={"annotations": {}})
            cases.append((alert, frozenset(case.also_ok), None))
    out = []
    for alert, acceptable, expected in cases:
        result = matcher.match(alert, threshold=0.0)  # type: ignore[call-arg]
        if not result.evidence:
            continue  # decided by name, selector or URL: not a text confidence
        got = result.runbook
        right = got in acceptable or (expected is not None and same_alert(got, expected))
        out.append((result.evidence, bool(right)))
    return out


def fit(data: list[tuple[dict[str, float], bool]]) -> dict[str, float]:
    names = sorted({k for x, _ in data for k in x})
    w = dict.fromkeys(["bias", *names], 0.0)
    for _ in range(STEPS):
        grad = dict.fromkeys(w, 0.0)
        for x, y in data:
            z = w["bias"] + sum(w[k] * v for k, v in x.items())
            p = 1.0 / (1.0 + math.exp(-z))
            err = p - float(y)
            grad["bias"] += err
            for k, v in x.items():
                grad[k] += err * v
        for k in w:
            reg = 0.0 if k == "bias" else L2 * w[k]
            w[k] -= RATE * (grad[k] / len(data) + reg)
    return {k: round(v, 3) for k, v in w.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    args = parser.parse_args()
    data = samples(args.corpus or find_corpus())
    print(f"{len(data)} samples, {sum(y for _, y in data)} right")
    weights = fit(data)
    for name, prior in CALIBRATION.items():
        if name != "bias" and not any(x.get(name) for x, _ in data):
            weights[name] = prior  # no sample carries it: keep the prior
    print("CALIBRATION =", weights)
    for title, model in (("current", CALIBRATION), ("fitted", weights)):
        report = Report()
        for x, y in data:
            z = model["bias"] + sum(model.get(k, 0.0) * v for k, v in x.items())
            report.answered.append((1.0 / (1.0 + math.exp(-z)), y))
        print("\n".join(report.lines(f"{title} model, in-sample")[3:]))


if __name__ == "__main__":
    main()
