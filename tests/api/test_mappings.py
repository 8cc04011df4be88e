"""/api/mappings: list, add with validation and clear errors, remove; a mapping then wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from db.mappings import MappingStore
from db.runbooks import RunbookStore
from domain.alerts.choose import choose_runbook
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.identity import Role
from schemas.runbook import Runbook
from tests.harness import as_person, stack_settings, unique

pytestmark = pytest.mark.temporal


#: Who writes mappings in these tests (mappings take the author scope).
AUTHOR = "mapping-author"


@pytest_asyncio.fixture
async def http(client: Client, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The API, every request authenticated as AUTHOR."""
    app = create_app(stack_settings(client), client=client, engine=engine)
    transport = httpx.ASGITransport(app=app)
    headers = await as_person(engine, AUTHOR, (Role.AUTHOR,))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://ddrun.test", headers=headers
    ) as http:
        yield http


async def _runbook(engine: AsyncEngine) -> Runbook:
    runbook = Runbook.model_validate(
        {
            "id": unique("mapped-"),
            "title": "Restart payments",
            "steps": [{"id": "s", "title": "S", "command": "echo restart", "risk": "safe"}],
        }
    )
    return (await RunbookStore(engine).save(runbook)).runbook


async def test_add_list_get_remove(http: httpx.AsyncClient, engine: AsyncEngine) -> None:
    runbook = await _runbook(engine)
    name = unique("PaymentsDown")
    labels = {"namespace": "~pay.*"}
    body = {
        "selector": {"alertname": name, "labels": labels},
        "runbook": runbook.id,
        "note": "payments owns this",
    }
    created = await http.post("/api/mappings", json=body)
    assert created.status_code == 201, created.text
    mapping = created.json()
    assert mapping["runbook"] == runbook.id
    assert mapping["selector"] == {"alertname": name, "service": None, "labels": labels}
    # Who added it is the authenticated author, not a name in the body.
    assert (mapping["created_by"], mapping["note"]) == (AUTHOR, "payments owns this")
    mapping_id = mapping["id"]

    listed = (await http.get("/api/mappings")).json()
    assert mapping in listed
    assert (await http.get(f"/api/mappings/{mapping_id}")).json() == mapping

    # The stored mapping is what the matcher obeys.
    alert = Alert(
        source=AlertSource.GENERIC,
        dedup_key=name,
        event_id="e",
        status=AlertStatus.FIRING,
        name=name,
        title="payments is down",
        labels={"alertname": name, "namespace": "payments"},
        received_at=datetime.now(UTC),
        payload_digest="0" * 64,
    )
    stored = await MappingStore(engine).list()
    chosen = choose_runbook(await RunbookStore(engine).latest(), alert, mappings=stored)
    assert chosen.runbook is not None
    assert (chosen.runbook.id, chosen.method, chosen.confidence) == (runbook.id, "mapping", 1.0)

    removed = await http.delete(f"/api/mappings/{mapping_id}")
    assert removed.status_code == 200
    assert removed.json() == mapping
    gone = await http.delete(f"/api/mappings/{mapping_id}")
    assert gone.status_code == 404
    assert gone.json()["error"] == f"no mapping #{mapping_id}"
    assert (await http.get(f"/api/mappings/{mapping_id}")).status_code == 404


async def test_duplicate_selector_is_a_conflict(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    runbook = await _runbook(engine)
    body = {"selector": {"service": unique("svc-")}, "runbook": runbook.id}
    first = await http.post("/api/mappings", json=body)
    assert first.status_code == 201
    again = await http.post("/api/mappings", json=body)
    assert again.status_code == 409
    assert f"#{first.json()['id']} -> {runbook.id}" in again.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"selector": {}, "runbook": "{rid}"}, 422, "at least one of alertname, service or labels"),
        (
            {"selector": {"labels": {"pod": "~(oops"}}, "runbook": "{rid}"},
            422,
            "not a valid regex",
        ),
        ({"selector": {"alertname": "X"}, "runbook": ""}, 422, "runbook"),
        ({"selector": {"alertname": "X"}, "runbook": "no-such-runbook"}, 422, "no runbook"),
        ({"selector": {"alertname": "X"}, "runbook": "{rid}", "extra": 1}, 422, "extra"),
        ({"selector": {"alertname": "X"}, "runbook": "{rid}", "actor": "alice"}, 422, "actor"),
        ({"selector": {"alertname": 5}, "runbook": "{rid}"}, 422, "selector.alertname"),
    ],
)
async def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    http: httpx.AsyncClient, engine: AsyncEngine, body: dict[str, object], status: int, says: str
) -> None:
    runbook = await _runbook(engine)
    if body.get("runbook") == "{rid}":
        body = {**body, "runbook": runbook.id}
    before = await http.get("/api/mappings")
    answer = await http.post("/api/mappings", json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert (await http.get("/api/mappings")).json() == before.json()


async def test_not_json_and_bad_ids(http: httpx.AsyncClient) -> None:
    broken = await http.post("/api/mappings", content=b"{not json")
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]
    assert (await http.delete("/api/mappings/not-a-number")).status_code == 422
