"""Who closed an incident, as a late human input is told: read from the incident's own record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.incident import IncidentState, IncidentStatus, TimelineEntry
from workflows.incident_record import closed_by, closed_message

AT = datetime(2026, 12, 2, 22, 40, 1, 500_000, tzinfo=UTC)


def _closed(
    status: IncidentStatus, outcome: str, *timeline: tuple[str, str, str | None]
) -> IncidentState:
    return IncidentState(
        id="inc-1",
        status=status,
        service="checkout",
        severity="critical",
        title="t",
        opened_at=AT,
        closed_at=AT,
        outcome=outcome,
        timeline=[TimelineEntry(at=AT, kind=k, message=m, actor=a) for k, m, a in timeline],
    )


@pytest.mark.parametrize(
    ("state", "who"),
    [
        (
            _closed(
                IncidentStatus.RESOLVED,
                "resolved by gus: disk freed",
                ("approval_requested", "fix: Fix", None),
                ("resolve_requested", "disk freed", "gus"),
            ),
            "gus",
        ),
        (_closed(IncidentStatus.RESOLVED, "runbook completed"), "dd0c/run"),
        (_closed(IncidentStatus.RESOLVED, "alert resolved at its source"), "its alert source"),
        (  # held open after the runbook (issue #19) until the alert resolved
            _closed(IncidentStatus.RESOLVED, "runbook completed; alert resolved at its source"),
            "its alert source",
        ),
        (
            _closed(
                IncidentStatus.ABORTED,
                "aborted by ann: wrong cluster",
                ("abort_requested", "wrong cluster", "ann"),
            ),
            "ann",
        ),
        (
            _closed(
                IncidentStatus.ABORTED,
                "aborted by unknown: ",
                ("human_decision", "abort fix", "bob"),
            ),
            "bob",
        ),
        (
            _closed(
                IncidentStatus.ROLLED_BACK,
                "step fix failed; bob chose to roll back",
                ("human_decision", "rollback fix", "bob"),
            ),
            "bob",
        ),
        (
            # a retry earlier does not make its decider the one who rolled back
            _closed(
                IncidentStatus.ROLLED_BACK,
                "step fix failed: exit 1",
                ("human_decision", "retry fix", "bob"),
            ),
            "dd0c/run",
        ),
    ],
)
def test_closed_by_names_the_human_or_what_closed_it(state: IncidentState, who: str) -> None:
    assert closed_by(state) == who


def test_closed_message_says_when_by_whom_and_how() -> None:
    state = _closed(
        IncidentStatus.RESOLVED, "resolved by gus: ok", ("resolve_requested", "ok", "gus")
    )
    assert closed_message(state) == (
        "incident inc-1 already closed at 2026-12-02 22:40:01 UTC by gus: resolved "
        "(resolved by gus: ok)"
    )
