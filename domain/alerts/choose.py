"""The runbook for an alert, rendered and ready to run, or the reason there is none."""

from __future__ import annotations

from collections.abc import Sequence

from domain.alerts.prefill import prepare
from domain.alerts.selectors import select_by_selectors
from schemas.alert import Alert
from schemas.incident import SelectedRunbook
from schemas.runbook import Runbook


def choose_runbook(runbooks: Sequence[Runbook], alert: Alert) -> SelectedRunbook:
    match = select_by_selectors(runbooks, alert)
    if match is None:
        return SelectedRunbook(
            runbook=None,
            reason=f"no runbook matched: no selector of {len(runbooks)} runbook(s) "
            f"fits alert {alert.name!r} (service {alert.service!r})",
        )
    return prepare(match.runbook, alert, reason=f"matched by {match.reason}")
