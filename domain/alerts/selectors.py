"""Explicit runbook choice: a runbook's selectors (alertname, service, labels) against an alert."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.alert import Alert
from schemas.runbook import AlertSelector, Runbook


def selector_matches(selector: AlertSelector, alert: Alert) -> bool:
    """Every condition of the selector holds for the alert (`~regex` values match in full)."""
    if selector.alertname is not None and selector.alertname != alert.name:
        return False
    if selector.service is not None and selector.service != alert.service:
        return False
    for key, expected in selector.labels.items():
        actual = alert.labels.get(key)
        if actual is None:
            return False
        if expected.startswith("~"):
            if re.fullmatch(expected[1:], actual) is None:
                return False
        elif actual != expected:
            return False
    return True


def specificity(selector: AlertSelector) -> int:
    """More conditions, and exact rather than regex values, make a selector more specific."""
    score = 0
    if selector.alertname is not None:
        score += 4
    if selector.service is not None:
        score += 2
    for value in selector.labels.values():
        score += 1 if value.startswith("~") else 2
    return score


@dataclass(frozen=True)
class SelectorMatch:
    runbook: Runbook
    selector: AlertSelector
    specificity: int

    @property
    def reason(self) -> str:
        parts = []
        if self.selector.alertname is not None:
            parts.append(f"alertname={self.selector.alertname}")
        if self.selector.service is not None:
            parts.append(f"service={self.selector.service}")
        parts.extend(f"{k}={v}" for k, v in sorted(self.selector.labels.items()))
        return f"selector {{{', '.join(parts)}}} of runbook {self.runbook.id}"


def select_by_selectors(runbooks: Iterable[Runbook], alert: Alert) -> SelectorMatch | None:
    """The runbook whose matching selector is most specific; ties go to the lowest runbook id."""
    best: SelectorMatch | None = None
    for runbook in runbooks:
        for selector in runbook.selectors:
            if not selector_matches(selector, alert):
                continue
            found = SelectorMatch(runbook, selector, specificity(selector))
            if (
                best is None
                or found.specificity > best.specificity
                or (found.specificity == best.specificity and runbook.id < best.runbook.id)
            ):
                best = found
    return best
