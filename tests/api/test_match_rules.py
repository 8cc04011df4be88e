"""/api/rules/import teaches the matcher a rule's words; /api/match answers with candidates and
close calls; the webhook's choice asks the LLM (stand-in) only when one is configured."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from api.deps import AppState
from api.match import choose_for_alert
from db.runbooks import RunbookStore
from schemas.identity import Role
from schemas.runbook import Runbook
from tests.harness import as_person, generic_alert, stack_settings
from tests.llm_standin import LlmStandin, serve
from tests.unit.alert_support import firing_alert

pytestmark = pytest.mark.temporal


async def _http(client: Client, engine: AsyncEngine, **settings: Any) -> httpx.AsyncClient:
    app = create_app(stack_settings(client, **settings), client=client, engine=engine)
    headers = await as_person(engine, f"rules-author-{uuid.uuid4().hex[:6]}", (Role.AUTHOR,))
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test", headers=headers
    )


@pytest_asyncio.fixture
async def http(client: Client, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with await _http(client, engine) as http:
        yield http


def _word() -> str:
    """A made-up word no other test's runbook holds (letters only: tokenised whole)."""
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


async def _runbook(engine: AsyncEngine, rid: str, title: str, description: str) -> Runbook:
    runbook = Runbook.model_validate(
        {
            "id": rid,
            "title": title,
            "description": description,
            "steps": [{"id": "look", "title": "Look", "command": "uptime", "risk": "safe"}],
        }
    )
    return (await RunbookStore(engine).save(runbook)).runbook


def _rules_yaml(alert: str, summary: str) -> str:
    return f"""groups:
- name: test.rules
  rules:
  - record: job:requests:rate5m
    expr: sum(rate(requests_total[5m])) by (job)
  - alert: {alert}
    expr: {alert.lower()}_backlog_messages{{job="x"}} > 1000
    for: 10m
    annotations:
      summary: {summary}
"""


async def _match(http: httpx.AsyncClient, title: str) -> dict[str, Any]:
    body = {"name": title, "title": title, "service": _word()}
    response = await http.post("/api/match", content=json.dumps(body))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["alerts"][0]
    return answer


async def test_imported_rule_words_find_the_runbook_named_for_the_alert(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    tag, word = uuid.uuid4().hex[:8], _word()
    alertname = f"Queue{_word().capitalize()}Saturated"
    await _runbook(engine, f"rb-{tag}", alertname, "Check the service and restart it.")
    title = f"{word} glorbnax backlog growing on consumer"
    before = await _match(http, title)
    assert f"rb-{tag}" not in {c["runbook"] for c in before["candidates"]}

    source = f"rules-{tag}.yaml"
    imported = await http.post(
        f"/api/rules/import?source={source}",
        content=_rules_yaml(alertname, f"{word} glorbnax backlog growing"),
        headers={"content-type": "application/yaml"},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json() == {
        "source": source,
        "imported": 1,
        "replaced": 0,
        "recording_rules_skipped": 1,
        "alertnames": [alertname],
    }
    listed = (await http.get("/api/rules")).json()
    assert any(r["alertname"] == alertname for r in listed)
    after = await _match(http, title)
    # The rule's summary is the runbook's now: the best candidate, by what the alert says.
    assert after["candidates"][0]["runbook"] == f"rb-{tag}", after
    assert after["candidates"][0]["evidence"]["coverage"] > 0.3

    # Importing the same source again replaces its rules (as JSON {source, content} here).
    again = await http.post(
        "/api/rules/import",
        json={"source": source, "content": _rules_yaml(f"Other{_word()}", "something else")},
    )
    assert again.status_code == 201, again.text
    assert (again.json()["imported"], again.json()["replaced"]) == (1, 1)
    replaced = await _match(http, title)
    assert f"rb-{tag}" not in {c["runbook"] for c in replaced["candidates"]}


async def test_a_file_that_is_not_a_rules_file_is_refused(http: httpx.AsyncClient) -> None:
    for content in ("just: [a, mapping]", "groups: 3", "{{{"):
        response = await http.post(
            "/api/rules/import",
            json={"source": "bad.yaml", "content": content},
        )
        assert response.status_code == 422, (content, response.text)


async def test_match_answer_shows_close_calls_with_their_evidence(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    tag, word = uuid.uuid4().hex[:8], _word()
    await _runbook(engine, f"a-{tag}", f"{word} server certificate expiring", "Renew it.")
    await _runbook(engine, f"b-{tag}", f"{word} client certificate expiring", "Renew it.")
    answer = await _match(http, f"{word} certificate expiring")
    keys = {f"a-{tag}", f"b-{tag}"}
    assert {c["runbook"] for c in answer["candidates"][:2]} == keys
    assert answer["close"], answer
    close = answer["close"][0]
    assert close["runbook"] in keys
    assert close["runbook"] != answer["candidates"][0]["runbook"]
    assert close["evidence"]["relative_to_best"] >= 0.9
    assert any(r.startswith("scored ") for r in close["reasons"])


async def test_webhook_choice_asks_the_llm_only_when_configured(
    client: Client, engine: AsyncEngine
) -> None:
    tag, word = uuid.uuid4().hex[:8], _word()
    disk = await _runbook(engine, f"disk-{tag}", f"{word} node disk almost full", "Disk.")
    pvc = await _runbook(engine, f"pvc-{tag}", f"{word} persistent volume filling up", "PVC.")
    alert = firing_alert(f"{word} volume almost full")
    runbooks = await RunbookStore(engine).latest()
    standin = LlmStandin({"runbook": pvc.id, "confidence": 0.8, "reason": "a PVC"})
    async with serve(standin) as base:
        offline_app = create_app(stack_settings(client), client=client, engine=engine)
        offline: AppState = offline_app.state.ddrun
        plain = await choose_for_alert(offline, runbooks, alert, [])
        assert standin.requests == []  # no model configured: none asked
        assert plain.method in {"text", "none"}

        settings = {
            "llm_model": "openai/standin",
            "llm_api_base": base,
            "llm_api_key": "sk-test",
            "match_llm_timeout_s": 1.0,
        }
        app = create_app(stack_settings(client, **settings), client=client, engine=engine)
        state: AppState = app.state.ddrun
        chosen = await choose_for_alert(state, runbooks, alert, [])
        assert chosen.runbook is not None
        assert chosen.runbook.id == pvc.id
        assert chosen.method == "llm"
        assert len(standin.requests) == 1
        cached = await choose_for_alert(state, runbooks, alert, [])
        assert cached.runbook is not None
        assert cached.runbook.id == pvc.id
        assert len(standin.requests) == 1  # the LLM cache answered

        # A slow model: the intake waits match_llm_timeout_s, then the offline answer stands.
        standin.script, standin.slow_s = ["slow"], 5.0
        slow_alert = firing_alert(f"{word} disk almost full on node")
        started = time.monotonic()
        fallback = await choose_for_alert(state, runbooks, slow_alert, [])
        assert time.monotonic() - started < 4.0
        assert "not used" in fallback.reason
        assert fallback.method in {"text", "none"}
        assert disk.id in {c.runbook for c in fallback.candidates}

        # And the webhook makes that same choice: the stand-in is asked once more.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
        ) as http:
            before = len(standin.requests)
            body = generic_alert(f"{word} volume almost full again")
            response = await http.post("/webhooks/generic", content=json.dumps(body))
            assert response.status_code == 202, response.text
            assert len(standin.requests) == before + 1


async def test_intake_blends_embeddings_when_a_model_is_configured(
    client: Client, engine: AsyncEngine
) -> None:
    tag, word = uuid.uuid4().hex[:8], _word()
    await _runbook(engine, f"disk-{tag}", f"{word} node disk almost full", "Disk.")
    await _runbook(engine, f"pvc-{tag}", f"{word} persistent volume filling up", "PVC.")
    alert = firing_alert(f"{word} volume almost full")
    runbooks = await RunbookStore(engine).latest()
    standin = LlmStandin({})
    async with serve(standin) as base:
        settings = {
            "embedding_model": "openai/standin-embed",
            "embedding_api_base": base,
            "embedding_api_key": "sk-test",
        }
        app = create_app(stack_settings(client, **settings), client=client, engine=engine)
        state: AppState = app.state.ddrun
        chosen = await choose_for_alert(state, runbooks, alert, [])
    assert standin.requests == []  # no LLM configured: embeddings only
    assert any(word in t for t in standin.embedded), chosen.reason
    assert "embedding_similarity" in chosen.candidates[0].evidence
