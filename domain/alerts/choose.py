"""The runbook for an alert, rendered and ready to run, or the reason there is none.

Order: explicit mappings, then runbook selectors, then the alert's runbook_url, then a scored
match over every runbook (name and text). The index behind the scored match is built once per
set of runbooks (ids and versions) and reused, so a webhook pays a dictionary lookup, not a
rebuild, per alert.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping as KeyedRunbooks
from collections.abc import Sequence

from domain.alerts.documents import AlertRule, with_rules
from domain.alerts.match import (
    DEFAULT_THRESHOLD,
    Mapping,
    MatchResult,
    RunbookIndex,
    document_from_runbook,
)
from domain.alerts.prefill import prepare
from domain.alerts.rules_file import ImportedRules
from schemas.alert import Alert
from schemas.incident import SelectedRunbook
from schemas.runbook import Runbook

_CACHED_MATCHERS = 2  # the current set and the one before it (each ~20 MiB at 1,000 runbooks)

RunbookSetKey = tuple[tuple[str, int, str], ...]


def runbook_set_key(runbooks: Sequence[Runbook]) -> RunbookSetKey:
    """Identifies a set of runbooks: id and version; an unsaved runbook (version 0) by content."""
    return tuple(
        (
            r.id,
            r.version,
            hashlib.sha256(r.model_dump_json().encode()).hexdigest() if r.version == 0 else "",
        )
        for r in runbooks
    )


class RunbookMatcher:
    """One set of runbooks, indexed once, each under its key (the runbook id in the product;
    a file path for `ddrun match --runbooks DIR`)."""

    def __init__(
        self, runbooks: KeyedRunbooks[str, Runbook], rules: Sequence[AlertRule] = ()
    ) -> None:
        """`rules`: alert rules imported from a rules file; each lends its summary,
        description and metric names to the runbook named for its alert."""
        self.runbooks = dict(runbooks)
        documents = [document_from_runbook(key, r) for key, r in self.runbooks.items()]
        self.index = RunbookIndex.build(with_rules(documents, rules) if rules else documents)

    @classmethod
    def by_id(cls, runbooks: Sequence[Runbook], rules: Sequence[AlertRule] = ()) -> RunbookMatcher:
        keyed = {r.id: r for r in runbooks}
        if len(keyed) != len(runbooks):
            raise ValueError("runbook ids must be unique")
        return cls(keyed, rules)

    def match(
        self,
        alert: Alert,
        *,
        mappings: Sequence[Mapping] = (),
        threshold: float = DEFAULT_THRESHOLD,
    ) -> MatchResult:
        return self.index.match(alert, mappings=mappings, threshold=threshold)

    def choose(
        self,
        alert: Alert,
        *,
        mappings: Sequence[Mapping] = (),
        threshold: float = DEFAULT_THRESHOLD,
    ) -> SelectedRunbook:
        return self.select(alert, self.match(alert, mappings=mappings, threshold=threshold))

    def select(self, alert: Alert, result: MatchResult) -> SelectedRunbook:
        """The runbook a match result names, rendered for the alert (or the reason there is
        none); the result may come from the offline match or a re-ranking of its candidates."""
        if result.runbook is None:
            reason = result.reason
            if not self.runbooks:
                reason = "no runbook matched: no runbooks are loaded"
            return SelectedRunbook(
                runbook=None,
                reason=reason,
                confidence=result.confidence,
                method=result.method,
                candidates=result.candidates,
                close=result.close,
            )
        selected = prepare(
            self.runbooks[result.runbook], alert, reason=f"matched by {result.reason}"
        )
        selected.confidence = result.confidence
        selected.method = result.method
        selected.candidates = result.candidates
        selected.close = result.close
        return selected

    def summary(self, key: str, chars: int = 600) -> tuple[str, str]:
        """A candidate's title and a short summary (description, then step titles)."""
        runbook = self.runbooks[key]
        text = " ".join([runbook.description, *(step.title for step in runbook.steps)])
        return runbook.title, " ".join(text.split())[:chars]


_matchers: OrderedDict[tuple[RunbookSetKey, str], RunbookMatcher] = OrderedDict()


def matcher_for(runbooks: Sequence[Runbook], rules: ImportedRules | None = None) -> RunbookMatcher:
    """The matcher for this exact set of runbooks (and imported alert rules), built on first
    use and kept (a few sets)."""
    key = (runbook_set_key(runbooks), rules.digest if rules is not None else "")
    matcher = _matchers.get(key)
    if matcher is None:
        matcher = RunbookMatcher.by_id(runbooks, rules.rules if rules is not None else ())
        _matchers[key] = matcher
        while len(_matchers) > _CACHED_MATCHERS:
            _matchers.popitem(last=False)
    else:
        _matchers.move_to_end(key)
    return matcher


def cached_matcher(
    runbooks: Sequence[Runbook], rules: ImportedRules | None = None
) -> RunbookMatcher | None:
    """The matcher for this set when it is already built (no building, so no thread needed)."""
    key = (runbook_set_key(runbooks), rules.digest if rules is not None else "")
    matcher = _matchers.get(key)
    if matcher is not None:
        _matchers.move_to_end(key)
    return matcher


def clear_matchers() -> None:
    """Forget every cached index (benchmarks measure the first alert after a change)."""
    _matchers.clear()


def choose_runbook(
    runbooks: Sequence[Runbook],
    alert: Alert,
    *,
    mappings: Sequence[Mapping] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> SelectedRunbook:
    """The matched runbook with its variables filled, its confidence, method and runners-up;
    below `threshold` runbook=None ("no runbook matched") with the candidates still shown."""
    return matcher_for(runbooks).choose(alert, mappings=mappings, threshold=threshold)
