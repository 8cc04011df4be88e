"""The health dashboard: is the operation getting better? Computed from incident history
(Temporal visibility) and the runbook store, drawn as server-side SVG charts."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.deps import AppState, State
from api.web import charts
from api.web.history import IncidentRow, history_of, history_or_none
from api.web.library import STALE_DAYS, LibraryRow, library_of
from api.web.render import loading, render
from api.web.session import Viewer
from schemas.settings import Settings

router = APIRouter(prefix="/web/dashboard", include_in_schema=False)

WEEKS = 8


@dataclass(frozen=True)
class SlaTargets:
    """Time to resolve that meets the SLA, by severity (settings: DDRUN_WEB_SLA_MINUTES as
    JSON, DDRUN_WEB_SLA_DEFAULT_MINUTES for any other severity)."""

    minutes: dict[str, float]
    default_minutes: float

    @classmethod
    def of(cls, settings: Settings) -> SlaTargets:
        by_severity = {k.lower(): v for k, v in settings.web_sla_minutes.items()}
        return cls(by_severity, settings.web_sla_default_minutes)

    def for_severity(self, severity: str) -> timedelta:
        return timedelta(minutes=self.minutes.get(severity.lower(), self.default_minutes))


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Health:
    total: int = 0
    covered: int = 0
    mttr_with: float | None = None
    mttr_without: float | None = None
    levels: dict[str, int] = field(default_factory=dict)
    sla: list[tuple[str, float]] = field(default_factory=list)
    sla_overall: float | None = None
    staleness: list[tuple[str, float]] = field(default_factory=list)
    effectiveness: list[tuple[str, float]] = field(default_factory=list)
    weeks: list[str] = field(default_factory=list)
    weekly_with: list[float | None] = field(default_factory=list)
    weekly_without: list[float | None] = field(default_factory=list)
    weekly_coverage: list[float | None] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return 100 * self.covered / self.total if self.total else None


def level_of(row: IncidentRow) -> str:
    """L1: the runbook resolved it on its own; L2: a person with a runbook; L3: escalated, or
    no runbook at all."""
    if row.escalated or row.runbook is None:
        return "L3"
    return "L1" if row.automated else "L2"


def compute(
    rows: list[IncidentRow], library: list[LibraryRow], now: datetime, sla: SlaTargets
) -> Health:
    health = Health(total=len(rows), covered=sum(1 for r in rows if r.runbook))
    closed = [r for r in rows if r.seconds_to_resolve is not None]
    health.mttr_with = _median([r.seconds_to_resolve or 0 for r in closed if r.runbook])
    health.mttr_without = _median([r.seconds_to_resolve or 0 for r in closed if not r.runbook])
    health.levels = {"L1": 0, "L2": 0, "L3": 0}
    for r in rows:
        health.levels[level_of(r)] += 1
    by_severity: dict[str, list[bool]] = {}
    for r in closed:
        met = (r.seconds_to_resolve or 0) <= sla.for_severity(r.severity).total_seconds()
        by_severity.setdefault(r.severity, []).append(met)
    health.sla = sorted(
        ((sev, 100 * sum(v) / len(v)) for sev, v in by_severity.items()), key=lambda p: p[0]
    )[:8]
    every = [m for v in by_severity.values() for m in v]
    health.sla_overall = 100 * sum(every) / len(every) if every else None
    fresh = sum(1 for lr in library if lr.age_days is not None and lr.age_days <= 30)
    aging = sum(1 for lr in library if lr.age_days is not None and 30 < lr.age_days <= STALE_DAYS)
    stale = sum(1 for lr in library if lr.stale)
    health.staleness = [
        ("≤ 30 days", fresh),
        ("31-90 days", aging),
        (f"> {STALE_DAYS} days", stale),
    ]
    used = sorted((lr for lr in library if lr.clean_rate is not None), key=lambda lr: -lr.incidents)
    health.effectiveness = [(lr.runbook.id, 100 * (lr.clean_rate or 0)) for lr in used[:8]]
    start = (now - timedelta(weeks=WEEKS - 1)).date()
    start -= timedelta(days=start.weekday())
    weeks: list[list[IncidentRow]] = [[] for _ in range(WEEKS)]
    for r in rows:  # one pass: each row into its week
        if r.started_at is not None:
            index = (r.started_at.date() - start).days // 7
            if 0 <= index < WEEKS:
                weeks[index].append(r)
    for week, in_week in enumerate(weeks):
        health.weeks.append((start + timedelta(weeks=week)).strftime("%d %b"))
        done = [r for r in in_week if r.seconds_to_resolve is not None]
        mins = [(r.seconds_to_resolve or 0) / 60 for r in done if r.runbook]
        health.weekly_with.append(_median(mins))
        mins = [(r.seconds_to_resolve or 0) / 60 for r in done if not r.runbook]
        health.weekly_without.append(_median(mins))
        covered = [1.0 if r.runbook else 0.0 for r in in_week]
        health.weekly_coverage.append(100 * sum(covered) / len(covered) if covered else None)
    health.actions = action_items(rows, library)
    return health


def action_items(rows: list[IncidentRow], library: list[LibraryRow]) -> list[str]:
    items: list[str] = []
    uncovered: dict[str, int] = {}
    for r in rows:
        if r.runbook is None:
            uncovered[r.service] = uncovered.get(r.service, 0) + 1
    for service, count in sorted(uncovered.items(), key=lambda p: -p[1])[:5]:
        items.append(f"Write a runbook for {service}: {count} incidents had none.")
    for lr in library:
        if lr.stale and lr.incidents:
            items.append(
                f"Review {lr.runbook.id}: used {lr.incidents} times, unchanged for "
                f"{lr.age_days} days."
            )
        elif lr.clean_rate is not None and lr.clean_rate < 0.5 and lr.incidents >= 3:
            items.append(
                f"Fix {lr.runbook.id}: only {100 * lr.clean_rate:.0f}% of its "
                f"{lr.incidents} runs were clean."
            )
    return items[:12]


@dataclass(frozen=True)
class Charts:
    levels: Markup
    mttr: Markup
    trend: Markup
    coverage: Markup
    sla: Markup
    staleness: Markup
    effectiveness: Markup


def draw(health: Health) -> Charts:
    minutes = [
        ("with a runbook", (health.mttr_with or 0) / 60),
        ("without a runbook", (health.mttr_without or 0) / 60),
    ]
    return Charts(
        levels=charts.donut(
            [(k, float(v)) for k, v in health.levels.items()],
            title="L1 / L2 / L3 split",
            center=str(health.total),
        ),
        mttr=charts.bars(minutes, title="Median time to resolve, minutes", unit=" min"),
        trend=charts.lines(
            health.weeks,
            [("with runbook", health.weekly_with), ("without", health.weekly_without)],
            title="Median time to resolve per week (minutes)",
            unit=" min",
        ),
        coverage=charts.lines(
            health.weeks,
            [("coverage %", health.weekly_coverage)],
            title="Incidents with a runbook, per week (%)",
            unit="%",
        ),
        sla=charts.bars(health.sla, title="SLA met, by severity (%)", unit="%", maximum=100),
        staleness=charts.bars(health.staleness, title="Runbooks by last change"),
        effectiveness=charts.bars(
            health.effectiveness, title="Clean runs by runbook (%)", unit="%", maximum=100
        ),
    )


async def health_of(
    app: FastAPI, state: AppState, rows: list[IncidentRow], generation: int
) -> tuple[Health, Charts, int]:
    """The figures and charts, computed again only when the runbooks or the history changed
    (also called once at start-up, right after the first history read, to warm them)."""
    runbooks = await state.runbooks.latest()
    key = (generation, id(runbooks), len(runbooks))
    cached = getattr(app.state, "web_dashboard", None)
    if cached is None or cached[0] != key:
        library = await library_of(app, state, runbooks, rows, generation)
        # In a thread: 10,000 rows take ~0.1 s of CPU the event loop must not stall for.
        sla = SlaTargets.of(state.settings)
        health = await asyncio.to_thread(compute, rows, library, datetime.now(UTC), sla)
        cached = app.state.web_dashboard = (key, health, draw(health), len(library))
    _, health, charts, count = cached
    return health, charts, count


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, state: State, user: Viewer) -> Response:
    rows = await history_or_none(request, state)
    if rows is None:
        return loading(request, user, "dashboard", "/web/dashboard")
    generation = history_of(request, state).generation
    health, charts, count = await health_of(request.app, state, rows, generation)
    return render(
        request,
        "dashboard.html",
        user,
        nav="dashboard",
        health=health,
        charts=charts,
        runbooks=count,
    )
