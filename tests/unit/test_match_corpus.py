"""Matching quality on the shared real-world corpus; the figures are printed, floors asserted.

Targets: 108 prometheus-operator runbooks, with the 259 OpenShift alert runbooks loaded as
distractors. "Accepted" also counts a runbook of the other corpus written for the same alert name
(the 30 names both corpora cover), which is a right runbook, just not the answer key's file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.match_bench import (
    DEFAULT_CORPUS,
    Figures,
    evaluate,
    load_documents,
    paraphrased_cases,
    payload_cases,
    rule_cases,
)
from domain.alerts.match import RunbookIndex

pytestmark = pytest.mark.skipif(
    not (DEFAULT_CORPUS / "alert-rules.json").exists(), reason="shared corpus not available"
)


@pytest.fixture(scope="module")
def index() -> RunbookIndex:
    return RunbookIndex.build(load_documents(DEFAULT_CORPUS))


def report(title: str, figures: Figures) -> None:
    lines = ["", figures.line(title), *(f"    miss: {miss}" for miss in figures.misses)]
    print("\n".join(lines))  # noqa: T201 - the figures are the point of this test


def test_corpus_is_the_expected_size(index: RunbookIndex) -> None:
    assert len(index) == 108 + 259
    rules = rule_cases(Path(DEFAULT_CORPUS))
    assert sum(c.expected is not None for c in rules) == 112
    assert sum(c.expected is None for c in rules) == 27
    assert len(payload_cases(DEFAULT_CORPUS)) == 33


@pytest.mark.parametrize("strip", [False, True], ids=["with-url", "without-url"])
def test_rules_with_a_runbook(index: RunbookIndex, strip: bool) -> None:
    cases = [c for c in rule_cases(DEFAULT_CORPUS) if c.expected is not None]
    figures = evaluate(index, cases, strip=strip)
    report(f"112 rules, {'without' if strip else 'with'} runbook_url", figures)
    assert figures.rate(figures.lenient) == 1.0
    assert figures.wrong == 0
    # Without the URL, 4 of 112 pick the OpenShift runbook of the same alert (a genuine tie).
    assert figures.rate(figures.strict) >= (1.0 if not strip else 0.95)


@pytest.mark.parametrize("strip", [False, True], ids=["with-url", "without-url"])
def test_rules_whose_runbook_is_missing_do_not_get_a_wrong_one(
    index: RunbookIndex, strip: bool
) -> None:
    cases = [c for c in rule_cases(DEFAULT_CORPUS) if c.expected is None]
    figures = evaluate(index, cases, strip=strip)
    report(
        f"27 rules without a runbook file, {'without' if strip else 'with'} runbook_url", figures
    )
    # Correct: None, or the OpenShift runbook with exactly the same alert name (3 names, 4 rules).
    assert figures.wrong == 0  # false-match rate 0 %
    assert figures.rate(figures.lenient) == 1.0


@pytest.mark.parametrize("strip", [False, True], ids=["with-url", "without-url"])
def test_captured_alertmanager_payloads(index: RunbookIndex, strip: bool) -> None:
    figures = evaluate(index, payload_cases(DEFAULT_CORPUS), strip=strip)
    report(f"33 captured payload alerts, {'without' if strip else 'with'} runbook_url", figures)
    assert figures.wrong == 0
    assert figures.rate(figures.lenient) == 1.0
    assert figures.rate(figures.strict) >= (1.0 if not strip else 0.90)


def test_paraphrased_titles(index: RunbookIndex) -> None:
    cases = [c for c in paraphrased_cases() if c.group == "paraphrased"]
    assert len(cases) >= 20
    figures = evaluate(index, cases)
    report(f"{len(cases)} paraphrased PagerDuty-style titles", figures)
    assert figures.rate(figures.lenient) >= 0.75
    assert figures.rate(figures.wrong) <= 0.10


def test_off_topic_titles_get_no_runbook(index: RunbookIndex) -> None:
    cases = [c for c in paraphrased_cases() if c.group == "off-topic"]
    figures = evaluate(index, cases)
    report(f"{len(cases)} off-topic titles", figures)
    assert figures.wrong == 0
