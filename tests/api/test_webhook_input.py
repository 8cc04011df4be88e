"""Bad input gets a clear 4xx and starts nothing; the source may safely retry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from tests.harness import corpus_payload, generic_alert, running_stack, unique

pytestmark = pytest.mark.temporal


async def _count(client: Client, name: str) -> int:
    return (await client.count_workflows(f'WorkflowId STARTS_WITH "incident-generic-{name}"')).count


async def test_oversized_malformed_and_invalid_bodies_are_refused(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, max_body_bytes=4096) as stack:
        name = unique("Bad")
        big = generic_alert(name, description="x" * 10_000)
        response = await stack.post_generic(big)
        assert response.status_code == 413
        assert "limit" in response.json()["error"]

        response = await stack.http.post("/webhooks/generic", content=b"{not json")
        assert response.status_code == 400
        assert "not valid JSON" in response.json()["error"]

        response = await stack.http.post("/webhooks/generic", content=b"")
        assert response.status_code == 400

        response = await stack.post_generic({"title": "no name"})
        assert response.status_code == 422
        assert any(p["loc"] == "name" for p in response.json()["problems"])

        response = await stack.post_generic({**generic_alert(name), "status": "exploded"})
        assert response.status_code == 422

        am = corpus_payload("13-default-payments-TargetDown-firing.json")
        am["alerts"] = []
        response = await stack.post_alertmanager(am)
        assert response.status_code == 422

        assert await _count(client, name) == 0


async def test_alertmanager_bearer_token_is_enforced_when_configured(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, alertmanager_token="s3cret") as stack:
        payload = corpus_payload("13-default-payments-TargetDown-firing.json", unique("Tok"))
        response = await stack.http.post("/webhooks/alertmanager", content=json.dumps(payload))
        assert response.status_code == 401
        response = await stack.http.post(
            "/webhooks/alertmanager",
            content=json.dumps(payload),
            headers={"Authorization": "Bearer wrong"},
        )
        assert response.status_code == 401
        response = await stack.http.post(
            "/webhooks/alertmanager",
            content=json.dumps(payload),
            headers={"Authorization": "Bearer s3cret"},
        )
        assert response.status_code == 202


async def test_every_captured_alertmanager_payload_is_accepted(
    client: Client, engine: AsyncEngine
) -> None:
    from tests.harness import CORPUS_WEBHOOKS

    async with running_stack(client, engine) as stack:
        files = sorted(p.name for p in CORPUS_WEBHOOKS.glob("[0-9]*.json"))
        assert len(files) == 29
        for filename in files:
            raw = (CORPUS_WEBHOOKS / filename).read_bytes()
            response = await stack.http.post("/webhooks/alertmanager", content=raw)
            assert response.status_code == 202, (filename, response.text)
            body = response.json()
            expected = json.loads(raw)["alerts"]
            assert len(body["alerts"]) == len(expected)
            for sent, answer in zip(expected, body["alerts"], strict=True):
                if sent["labels"].get("severity") == "none":  # Watchdog: issue #19
                    assert (answer["action"], answer["detail"]) == ("ignored", "heartbeat")
                    assert answer["incident_id"] is None
                elif sent["status"] == "firing":
                    # reopened: the same alert's incident closed earlier in this session;
                    # correlated: another captured alert for the same service and runbook is
                    # open (when the bundled runbooks were loaded earlier in the session)
                    assert answer["action"] in ("started_or_attached", "reopened", "correlated"), (
                        filename,
                        answer,
                    )
                    assert answer["incident_id"] is not None
                else:
                    assert answer["action"] in ("resolved_sent", "ignored")


async def test_temporal_down_answers_503_so_the_source_retries(
    engine: AsyncEngine, tmp_path: object
) -> None:
    import httpx
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from api.app import create_app
    from infra.client import FAIL_FAST, connect
    from tests.harness import stack_settings
    from tests.support import temporal_bin

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_bin(), data_converter=pydantic_data_converter
    )
    client = await connect(stack_settings(env.client), retry_config=FAIL_FAST)
    await env.shutdown()  # the workflow engine is now unreachable
    app = create_app(stack_settings(env.client), client=client, engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
    ) as http:
        response = await http.post(
            "/webhooks/generic", content=json.dumps(generic_alert(unique("Down")))
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "unavailable" in response.json()["error"]
