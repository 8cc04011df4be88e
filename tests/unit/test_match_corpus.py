"""Matching quality on the shared real-world corpus; the figures are printed, floors asserted.

Targets: 108 prometheus-operator runbooks, with the 259 OpenShift alert runbooks loaded as
distractors. "Accepted" also counts a runbook of the other corpus written for the same alert name
(the 30 names both corpora cover), which is a right runbook, just not the answer key's file.

Every figure is taken twice: on the Markdown files (RunbookIndex over document_from_markdown)
and on the same files parsed as `ddrun import` stores them, matched by the product's own
RunbookMatcher (selectors from the parsed H1 included).
"""

from __future__ import annotations

import pytest

from bench.match_bench import (
    GROUP_TITLES,
    Figures,
    Matcher,
    evaluate,
    find_corpus,
    load_documents,
    paraphrased_cases,
    payload_cases,
    product_runbooks,
    rule_cases,
)
from domain.alerts.choose import RunbookMatcher
from domain.alerts.match import RunbookIndex

# Never skipped: a missing corpus raises CorpusMissingError naming $DDRUN_CORPUS.
CORPUS = find_corpus()


@pytest.fixture(scope="module", params=["markdown", "product"])
def index(request: pytest.FixtureRequest) -> Matcher:
    if request.param == "markdown":
        return RunbookIndex.build(load_documents(CORPUS))
    return RunbookMatcher(product_runbooks(CORPUS))


def report(title: str, figures: Figures) -> None:
    lines = ["", figures.line(title), *(f"    miss: {miss}" for miss in figures.misses)]
    print("\n".join(lines))  # noqa: T201 - the figures are the point of this test


def test_corpus_is_the_expected_size() -> None:
    assert len(RunbookIndex.build(load_documents(CORPUS))) == 108 + 259
    assert len(product_runbooks(CORPUS)) == 108 + 259
    rules = rule_cases(CORPUS)
    assert sum(c.expected is not None for c in rules) == 112
    assert sum(c.expected is None for c in rules) == 27
    assert len(payload_cases(CORPUS)) == 33
    groups = [c.group for c in paraphrased_cases()]
    assert {g: groups.count(g) for g in GROUP_TITLES} == {
        "paraphrased": 28,
        "paraphrased-vocabulary": 24,
        "held-out": 45,
        "blind": 36,
        "off-topic": 6,
        "off-topic-held-out": 12,
    }


@pytest.mark.parametrize("strip", [False, True], ids=["with-url", "without-url"])
def test_rules_with_a_runbook(index: Matcher, strip: bool) -> None:
    cases = [c for c in rule_cases(CORPUS) if c.expected is not None]
    figures = evaluate(index, cases, strip=strip)
    report(f"112 rules, {'without' if strip else 'with'} runbook_url", figures)
    assert figures.rate(figures.lenient) == 1.0
    assert figures.wrong == 0
    # Without the URL, 3 of 112 pick the OpenShift runbook of the same alert (a genuine tie).
    assert figures.rate(figures.strict) >= (1.0 if not strip else 0.96)


@pytest.mark.parametrize("strip", [False, True], ids=["with-url", "without-url"])
def test_rules_whose_runbook_is_missing_do_not_get_a_wrong_one(index: Matcher, strip: bool) -> None:
    cases = [c for c in rule_cases(CORPUS) if c.expected is None]
    figures = evaluate(index, cases, strip=strip)
    report(
        f"27 rules without a runbook file, {'without' if strip else 'with'} runbook_url", figures
    )
    # Correct: None, or the OpenShift runbook with exactly the same alert name (3 names, 4 rules).
    assert figures.wrong == 0  # false-match rate 0 %
    assert figures.rate(figures.lenient) == 1.0


@pytest.mark.parametrize("strip", [False, True], ids=["with-url", "without-url"])
def test_captured_alertmanager_payloads(index: Matcher, strip: bool) -> None:
    figures = evaluate(index, payload_cases(CORPUS), strip=strip)
    report(f"33 captured payload alerts, {'without' if strip else 'with'} runbook_url", figures)
    assert figures.wrong == 0
    assert figures.rate(figures.lenient) == 1.0
    assert figures.rate(figures.strict) >= (1.0 if not strip else 0.96)


@pytest.mark.parametrize(
    ("group", "accepted", "wrong"),
    [
        # A trade, not a looser test: the threshold rose 0.64 -> 0.74 so near-miss negatives
        # under a team's own alert name stay unanswered (false matches <= 5% on every tuning
        # set). Two short titles here now say "no runbook" with the right runbook listed first
        # (accepted 89.3 -> 82.1%), so the accepted floor is 0.80 (was 0.85) and the wrong-
        # answer ceilings fall to 0.05 (were 0.10; the blind group had 8.3% wrong before).
        ("paraphrased", 0.80, 0.05),  # tuned on
        ("paraphrased-vocabulary", 0.85, 0.05),  # tuned on
        ("held-out", 0.80, 0.15),  # never tuned on; reported, floor against regressions
        ("blind", 0.80, 0.05),  # never tuned on, first evaluated after tuning
    ],
)
def test_paraphrased_titles(index: Matcher, group: str, accepted: float, wrong: float) -> None:
    cases = [c for c in paraphrased_cases() if c.group == group]
    figures = evaluate(index, cases)
    report(f"{len(cases)} {GROUP_TITLES[group]}", figures)
    assert figures.rate(figures.lenient) >= accepted
    assert figures.rate(figures.wrong) <= wrong


def test_off_topic_titles_get_no_runbook(index: Matcher) -> None:
    tuned = [c for c in paraphrased_cases() if c.group == "off-topic"]
    figures = evaluate(index, tuned)
    report(f"{len(tuned)} {GROUP_TITLES['off-topic']}", figures)
    assert figures.wrong == 0
    held = [c for c in paraphrased_cases() if c.group == "off-topic-held-out"]
    figures = evaluate(index, held)
    report(f"{len(held)} {GROUP_TITLES['off-topic-held-out']}", figures)
    assert figures.wrong <= 2  # "Company wiki is down" and a "degraded" vendor page: see bench
