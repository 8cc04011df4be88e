"""What the workflow engine refuses for good is a 4xx, never a 503 that invites retries (#16).

A workflow id over the server's 1,000-byte limit is refused by the real Temporal server with
INVALID_ARGUMENT. The test app gets one extra route that makes exactly that call, so the
server's own error goes through the API's error mapping (api/errors.py) unaltered.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from tests.harness import stack_settings
from workflows.incident import IncidentWorkflow

pytestmark = pytest.mark.temporal

TOO_LONG = "incident-generic-" + "x" * 1500


async def _start(client: Client) -> None:
    await client.start_workflow(IncidentWorkflow.run, id=TOO_LONG, task_queue="nobody-serves-this")  # type: ignore[call-overload]


async def test_an_id_temporal_refuses_is_a_4xx_not_a_503(
    client: Client, engine: AsyncEngine
) -> None:
    with pytest.raises(RPCError) as raised:  # what the server itself says about this id
        await _start(client)
    assert raised.value.status is RPCStatusCode.INVALID_ARGUMENT

    app = create_app(stack_settings(client), client=client, engine=engine)

    @app.post("/test/start-too-long")
    async def start_too_long() -> None:
        await _start(client)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
    ) as http:
        response = await http.post("/test/start-too-long")
    assert response.status_code == 422, response.text
    assert "Retry-After" not in response.headers
    assert "the workflow engine refused the request" in response.json()["error"]
