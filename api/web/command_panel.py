"""The incident-command panel of the live incident page, as plain values for the template:
the level and what it means, the response deadlines of that level (met, due, overdue, breached),
the soak and the next status update due, and the prefilled status update.

Read from the incident's state (the one the page already has) and the settings alone: the panel
adds no query. The deadlines are the configured ones (`severity_policy.slas`, when
`sla_timers` is on), the same the workflow's timers were started with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from domain.status_page import draft_update
from schemas.incident import IncidentState
from schemas.roles import IncidentRole
from schemas.settings import Settings
from schemas.severity import Severity, SlaKind
from schemas.status_updates import UpdatePhase

#: met in time; due (still to come); overdue (passed, the workflow has not recorded it yet);
#: breached (recorded by the workflow); missed (met late, or closed without it).
SlaStatus = Literal["met", "due", "overdue", "breached", "missed"]

#: The roles a person can be given from the page, with their label.
ROLES: tuple[tuple[IncidentRole, str], ...] = (
    (IncidentRole.COMMANDER, "Incident commander"),
    (IncidentRole.COMMS_LEAD, "Communications lead"),
    (IncidentRole.SCRIBE, "Scribe"),
    (IncidentRole.RESPONDER, "Responder"),
)
ROLE_LABELS = dict(ROLES)


@dataclass(frozen=True)
class SlaRow:
    kind: SlaKind
    within_s: int
    deadline: datetime
    status: SlaStatus
    #: What follows the status word: "(met) 2 min after opening", "(due) in 3 min", ...
    note: str

    @property
    def label(self) -> str:
        return self.kind.value.replace("_", " ")


@dataclass(frozen=True)
class CommandPanel:
    level: Severity | None
    meaning: str
    slas: list[SlaRow]
    #: "in 12 min" / "overdue by 3 min" (None: no update is due).
    update_due: str | None
    update_overdue: bool
    #: "in 4 min" while soaking.
    soak_left: str | None
    draft: dict[str, Any]
    levels: tuple[Severity, ...] = tuple(Severity)
    phases: tuple[UpdatePhase, ...] = tuple(UpdatePhase)
    roles: tuple[tuple[IncidentRole, str], ...] = ROLES


def minutes(delta: timedelta) -> str:
    """A span at minute precision, so the live page changes once a minute, not every poll."""
    seconds = abs(int(delta.total_seconds()))
    if seconds < 60:
        return "< 1 min"
    if seconds < 3600:
        return f"{seconds // 60} min"
    hours, rest = divmod(seconds // 60, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _met_at(incident: IncidentState, kind: SlaKind) -> datetime | None:
    """When a deadline was met: acknowledged, engaged; the checkpoints by closing."""
    if kind is SlaKind.ACKNOWLEDGE:
        return incident.acknowledged_at
    if kind is SlaKind.ENGAGE:
        return incident.engaged_at
    return incident.closed_at


def sla_rows(
    incident: IncidentState, slas: dict[Severity, dict[SlaKind, int]], now: datetime
) -> list[SlaRow]:
    """Each deadline of the incident's level, in order, with where it stands now."""
    level = incident.severity_level
    if level is None:
        return []
    opened = _aware(incident.opened_at)
    breached = {b.kind for b in incident.sla_breaches if b.severity is level}
    rows = []
    for kind, within in sorted(slas.get(level, {}).items(), key=lambda kv: kv[1]):
        deadline = opened + timedelta(seconds=within)
        met = _met_at(incident, kind)
        status: SlaStatus
        if kind in breached:
            status, note = (
                "breached",
                f"not met within {minutes(timedelta(seconds=within))}",
            )
        elif met is not None and _aware(met) <= deadline:
            status, note = "met", f"{minutes(_aware(met) - opened)} after opening"
        elif met is not None:
            status, note = "missed", f"late: {minutes(_aware(met) - opened)} after opening"
        elif incident.status.is_closed:
            status, note = "missed", "closed without it"
        elif deadline > now:
            status, note = "due", f"in {minutes(deadline - now)}"
        else:
            status, note = "overdue", f"by {minutes(now - deadline)}"
        rows.append(SlaRow(kind, within, deadline, status, note))
    return rows


def command_panel(
    incident: IncidentState, settings: Settings, now: datetime | None = None
) -> CommandPanel:
    now = now or datetime.now(UTC)
    policy = settings.severity_policy
    level = incident.severity_level
    slas = policy.slas if settings.sla_timers else {}
    due = incident.update_due_at
    closed = incident.status.is_closed
    update_due = None
    overdue = False
    if due is not None and not closed:
        overdue = _aware(due) <= now
        left = minutes(_aware(due) - now)
        update_due = f"overdue by {left}" if overdue else f"in {left}"
    soak = incident.soak_until
    soak_left = None
    if soak is not None and not closed:
        soak_left = f"in {minutes(_aware(soak) - now)}" if _aware(soak) > now else "now"
    return CommandPanel(
        level=level,
        meaning=policy.meanings.get(level, "") if level else "",
        slas=sla_rows(incident, slas, now),
        update_due=update_due,
        update_overdue=overdue,
        soak_left=soak_left,
        draft=draft_update(incident),
    )
