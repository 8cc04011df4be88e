"""The incident-command panel's values (api/web/command_panel.py): where each response deadline
of the level stands (met, due, overdue, breached, missed), the next status update and the soak,
at minute precision so the live page does not change on every poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.web.command_panel import command_panel, minutes, sla_rows
from schemas.incident import IncidentState, IncidentStatus
from schemas.settings import Settings
from schemas.severity import DEFAULT_SLAS, Severity, SlaBreach, SlaKind

OPENED = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def incident(**fields: object) -> IncidentState:
    base: dict[str, object] = {
        "id": "incident-x",
        "status": IncidentStatus.TRIGGERED,
        "service": "checkout",
        "severity": "critical",
        "title": "Payments failing",
        "opened_at": OPENED,
        "severity_level": Severity.P1,
    }
    return IncidentState.model_validate({**base, **fields})


def by_kind(state: IncidentState, now: datetime) -> dict[SlaKind, tuple[str, str]]:
    return {r.kind: (r.status, r.note) for r in sla_rows(state, DEFAULT_SLAS, now)}


def test_minutes_is_coarse() -> None:
    assert minutes(timedelta(seconds=59)) == "< 1 min"
    assert minutes(timedelta(seconds=-125)) == "2 min"
    assert minutes(timedelta(hours=2)) == "2 h"
    assert minutes(timedelta(minutes=75)) == "1 h 15 min"


def test_deadlines_of_the_level_in_order() -> None:
    now = OPENED + timedelta(minutes=10)
    rows = sla_rows(incident(), DEFAULT_SLAS, now)
    assert [r.kind for r in rows] == [SlaKind.ACKNOWLEDGE, SlaKind.ENGAGE, SlaKind.ESCALATE]
    assert rows[0].deadline == OPENED + timedelta(minutes=5)
    assert by_kind(incident(), now) == {
        SlaKind.ACKNOWLEDGE: ("overdue", "by 5 min"),
        SlaKind.ENGAGE: ("due", "in 5 min"),
        SlaKind.ESCALATE: ("due", "in 20 min"),
    }


def test_met_breached_and_missed() -> None:
    now = OPENED + timedelta(minutes=40)
    state = incident(
        acknowledged_by="ana",
        acknowledged_at=OPENED + timedelta(minutes=2),
        engaged_at=OPENED + timedelta(minutes=20),
        sla_breaches=[
            SlaBreach(
                kind=SlaKind.ESCALATE, severity=Severity.P1, within_s=1800, at=OPENED
            ).model_dump()
        ],
    )
    assert by_kind(state, now) == {
        SlaKind.ACKNOWLEDGE: ("met", "2 min after opening"),
        SlaKind.ENGAGE: ("missed", "late: 20 min after opening"),
        SlaKind.ESCALATE: ("breached", "not met within 30 min"),
    }
    # A breach at another level does not count at this one.
    p0 = incident(severity_level=Severity.P0, sla_breaches=state.sla_breaches)
    assert by_kind(p0, now)[SlaKind.ALL_HANDS] == ("overdue", "by 25 min")


def test_checkpoints_are_met_by_closing_in_time() -> None:
    state = incident(
        status=IncidentStatus.RESOLVED,
        acknowledged_by="ana",
        acknowledged_at=OPENED + timedelta(minutes=1),
        engaged_at=OPENED + timedelta(minutes=1),
        closed_at=OPENED + timedelta(minutes=10),
    )
    assert by_kind(state, OPENED + timedelta(hours=2))[SlaKind.ESCALATE][0] == "met"
    unacknowledged = incident(
        status=IncidentStatus.RESOLVED, closed_at=OPENED + timedelta(minutes=10)
    )
    assert by_kind(unacknowledged, OPENED + timedelta(hours=1))[SlaKind.ACKNOWLEDGE] == (
        "missed",
        "closed without it",
    )


def test_no_level_no_deadlines_and_timers_off() -> None:
    assert sla_rows(incident(severity_level=None), DEFAULT_SLAS, OPENED) == []
    off = command_panel(incident(), Settings(sla_timers=False), OPENED)
    assert off.slas == []
    on = command_panel(incident(), Settings(), OPENED)
    assert len(on.slas) == 3
    assert on.meaning.startswith("high")


def test_update_due_and_soak() -> None:
    now = OPENED + timedelta(minutes=30)
    panel = command_panel(
        incident(
            update_due_at=OPENED + timedelta(minutes=60),
            soak_until=OPENED + timedelta(minutes=45),
        ),
        Settings(),
        now,
    )
    assert (panel.update_due, panel.update_overdue) == ("in 30 min", False)
    assert panel.soak_left == "in 15 min"
    late = command_panel(incident(update_due_at=OPENED), Settings(), now)
    assert (late.update_due, late.update_overdue) == ("overdue by 30 min", True)
    closed = command_panel(
        incident(status=IncidentStatus.RESOLVED, update_due_at=OPENED), Settings(), now
    )
    assert closed.update_due is None
    assert closed.draft["impact"] == "P1 checkout: Payments failing"
