"""Bad input gets a clear 4xx and starts nothing; the source may safely retry."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
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


async def test_an_alert_taken_while_temporal_is_down_is_kept_and_delivered_when_it_is_back(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Issue 13: a firing alert is acknowledged once it is in the database; Temporal down for a
    while (stopped, then started again on the same address and data) loses nothing."""
    import socket

    import httpx
    from temporalio.client import WorkflowExecutionDescription
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.service import RPCError
    from temporalio.testing import WorkflowEnvironment

    from api.app import create_app, stop_intake
    from db.intake_queue import IntakeQueue
    from infra.client import FAIL_FAST, connect
    from schemas import search_attributes as sa
    from tests.harness import stack_settings
    from tests.support import assert_eventually, temporal_bin

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def temporal() -> WorkflowEnvironment:
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_bin(),
            port=port,
            search_attributes=sa.ALL,
            data_converter=pydantic_data_converter,
            dev_server_extra_args=["--db-filename", str(tmp_path / "temporal.db")],
        )

    env = await temporal()
    settings = stack_settings(env.client, intake_ack_wait_s=2.0)
    client = await connect(settings, retry_config=FAIL_FAST)
    await env.shutdown()  # the workflow engine is now unreachable
    app = create_app(settings, client=client, engine=engine)
    names = [unique("Down"), unique("DownToo")]
    try:
        answers, waited = [], []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
        ) as http:
            for name in names:
                began = time.monotonic()
                response = await http.post(
                    "/webhooks/generic",
                    content=json.dumps(generic_alert(name, service=name.lower())),
                )
                waited.append(time.monotonic() - began)
                assert response.status_code == 202, response.text
                (answer,) = response.json()["alerts"]
                answers.append(answer)
        assert [a["queued"] for a in answers] == [True, True]
        # The first, alone on its way, waited for Temporal as long as it may; the second found
        # the first still on its way and was answered as soon as its alert was in the database.
        assert waited[0] >= 2.0, waited
        assert waited[1] < 1.5, waited
        ids = [a["incident_id"] for a in answers]
        assert all(name in i for name, i in zip(names, ids, strict=True))
        queue = IntakeQueue(engine, settings.intake_lease_s)
        for incident_id in ids:
            assert await queue.start_waiting(incident_id)  # kept until Temporal is back

        env = await temporal()  # back, same address, same data
        for name, incident_id in zip(names, ids, strict=True):
            handle = client.get_workflow_handle(incident_id)

            async def described() -> WorkflowExecutionDescription | None:
                try:
                    return await handle.describe()  # noqa: B023 - awaited in this iteration
                except RPCError:  # not there yet, or the server is still starting
                    return None

            description = await assert_eventually(
                described, lambda d: d is not None, what="the queued alert delivered"
            )
            assert description is not None
            assert description.typed_search_attributes.get(sa.SERVICE) == name.lower()
            await assert_eventually(
                lambda: queue.start_waiting(incident_id),  # noqa: B023
                lambda waiting: not waiting,
                what="the delivered alert removed from the queue",
            )
            await handle.terminate("test done")
    finally:
        await stop_intake(app)
        await env.shutdown()


async def test_an_alert_temporal_refuses_for_good_is_answered_422_kept_as_failed_and_released(
    engine: AsyncEngine,
) -> None:
    """A refusal no retry can change (here the server's blob size limit, set below the size of
    an incident's input): the waiting sender hears it, the queue keeps the alert as failed with
    the reason, and its claim is released so a later alert decides afresh."""
    import httpx
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from api.app import create_app, stop_intake
    from db.incident_claims import IncidentClaimStore
    from db.intake_queue import IntakeQueue, IntakeRecord
    from schemas import search_attributes as sa
    from tests.harness import stack_settings
    from tests.support import temporal_bin

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_bin(),
        search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.blobSize.warn=500",
            "--dynamic-config-value",
            "limit.blobSize.error=1000",
        ],
    )
    settings = stack_settings(env.client)
    app = create_app(settings, client=env.client, engine=engine)
    queue = IntakeQueue(engine, settings.intake_lease_s)
    failed_before = (await queue.counts()).failed
    name = unique("Refused")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
        ) as http:
            response = await http.post(
                "/webhooks/generic", content=json.dumps(generic_alert(name, service=name))
            )
        assert response.status_code == 422, response.text
        assert "refused" in response.json()["error"]
        assert (await queue.counts()).failed == failed_before + 1
        assert await _count(env.client, name) == 0
        async with engine.connect() as conn:
            (row,) = (
                await conn.execute(
                    select(IntakeRecord.incident_id, IntakeRecord.last_error).where(  # type: ignore[call-overload]
                        col(IntakeRecord.incident_id).contains(name),
                        col(IntakeRecord.failed_at).is_not(None),
                    )
                )
            ).all()
        assert row.last_error.startswith("INVALID_ARGUMENT"), row.last_error
        # Released: the same alert's next claim starts afresh instead of finding it open.
        claim = await IncidentClaimStore(engine).claim(
            row.incident_id, None, correlation_window_s=0, reopen_window_s=0
        )
        assert claim.action == "start"
    finally:
        await stop_intake(app)
        await env.shutdown()
