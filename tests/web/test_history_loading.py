"""Pages never wait on the first (slow) incident-history read: the API's start-up begins it, and
until it is done the dashboard and library show 'loading history' and poll; SLA targets come
from settings; suggestions leave out matches a mapping would only repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.web.dashboard import SlaTargets, compute
from api.web.history import IncidentHistory, IncidentRow
from api.web.mappings import suggestion_of
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import IncidentState, IncidentStatus
from schemas.settings import Settings
from tests.harness import running_stack, unique
from tests.support import assert_eventually
from tests.web.support import sign_in


@pytest.mark.temporal
async def test_pages_show_loading_until_the_first_read_then_fill_in(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(
        client, engine, with_agent=False, web_cookie_secure=False, web_history_wait_s=0
    ) as stack:
        viewer = await sign_in(stack, unique("wload-"))
        app = stack.http._transport.app  # type: ignore[attr-defined]
        for path in ("/web/dashboard", "/web/runbooks?q=x"):
            app.state.web_history = IncidentHistory(client)  # a fresh cache: nothing read yet
            page = await viewer.get(path)
            assert page.status_code == 200
            assert "Loading incident history" in page.text
            assert f'hx-get="{path}"' in page.text  # it polls the same page
            assert 'hx-select="#main"' in page.text
        await app.state.web_history.rows()  # the read started by the first page finishes

        dash = await viewer.get(
            "/web/dashboard", headers={"HX-Request": "true", "HX-Target": "main"}
        )
        assert "Loading incident history" not in dash.text
        assert 'id="kpi-incidents"' in dash.text
        lib = await viewer.get(
            "/web/runbooks?q=x", headers={"HX-Request": "true", "HX-Target": "main"}
        )
        assert '<main id="main">' in lib.text  # the whole page for the poll, not the rows only
        await viewer.aclose()


@pytest.mark.temporal
async def test_the_api_lifespan_starts_the_first_read(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False) as stack:
        app = stack.http._transport.app  # type: ignore[attr-defined]
        app.state.web_history = IncidentHistory(client)
        async with app.router.lifespan_context(app):
            history = app.state.web_history
            assert not history.ready
            await assert_eventually(
                lambda: _ready(history), lambda ready: ready, what="history read at start-up"
            )
            assert history.warming is not None
            await history.warming  # then the dashboard's figures, from that read
            assert app.state.web_dashboard[0][0] == history.generation


async def _ready(history: IncidentHistory) -> bool:
    return history.ready


def _row(severity: str, minutes: float) -> IncidentRow:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    return IncidentRow(
        id=unique("sla-"),
        service="s",
        severity=severity,
        status="resolved",
        runbook="rb",
        started_at=start,
        closed_at=start + timedelta(minutes=minutes),
        clean=True,
        automated=False,
        escalated=False,
    )


def test_sla_targets_come_from_settings() -> None:
    rows = [_row("critical", 90), _row("critical", 30), _row("Minor", 100)]
    now = datetime(2026, 12, 2, tzinfo=UTC)
    default = compute(rows, [], now, SlaTargets.of(Settings()))
    assert dict(default.sla) == {"critical": 50.0, "Minor": 100.0}  # 1 h; a day for the rest
    strict = Settings(web_sla_minutes={"CRITICAL": 120, "minor": 60}, web_sla_default_minutes=5)
    assert dict(compute(rows, [], now, SlaTargets.of(strict)).sla) == {
        "critical": 100.0,
        "Minor": 0.0,
    }
    assert SlaTargets.of(strict).for_severity("other") == timedelta(minutes=5)


def _incident(method: str, runbook: str | None, confidence: float | None) -> IncidentState:
    return IncidentState(
        id=unique("sug-"),
        status=IncidentStatus.RESOLVED,
        service="payments",
        severity="warning",
        title="t",
        opened_at=datetime.now(UTC),
        alerts=[
            Alert(
                source=AlertSource.GENERIC,
                dedup_key="k",
                event_id="e",
                status=AlertStatus.FIRING,
                name="DiskFull",
                title="Disk full",
                received_at=datetime.now(UTC),
                payload_digest="0" * 64,
            )
        ],
        runbook=runbook,
        match_method=method,
        match_confidence=confidence,
    )


def test_suggestions_leave_out_matches_a_mapping_would_repeat() -> None:
    assert suggestion_of(_incident("selector", "disk", 1.0), set()) is None
    assert suggestion_of(_incident("runbook_url", "disk", 1.0), set()) is None
    assert suggestion_of(_incident("mapping", "disk", 1.0), set()) is None
    inferred = suggestion_of(_incident("text", "disk", 0.62), set())
    assert inferred is not None
    assert (inferred.runbook, inferred.confidence, inferred.method) == ("disk", 0.62, "text")
    assert suggestion_of(_incident("text", "disk", 0.62), {"DiskFull"}) is None  # mapped already
