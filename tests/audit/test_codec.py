"""Payload encryption: the server stores ciphertext; the UI codec endpoint and exports decrypt."""

from __future__ import annotations

import base64
import dataclasses
import json
import os

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from infra.codec import EncryptionCodec
from schemas.identity import Role
from schemas.incident import IncidentStatus
from services.audit.export import export_incident
from tests.harness import as_person, generic_alert, running_stack, stack_settings, unique

pytestmark = pytest.mark.temporal

PLAIN = "visible-only-with-the-key"


async def test_encrypted_history_codec_endpoint_and_export_round_trip(
    client: Client, engine: AsyncEngine
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    codec = EncryptionCodec.from_setting(key)
    encrypted = await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        data_converter=dataclasses.replace(pydantic_data_converter, payload_codec=codec),
        interceptors=[TracingInterceptor()],
    )
    async with running_stack(encrypted, engine, payload_key=key) as stack:
        name = unique("Codec")
        await stack.add_runbook(
            {
                "id": unique("codec-"),
                "title": "Encrypted",
                "selectors": [{"alertname": name}],
                "steps": [
                    {"id": "say", "title": "Say", "command": f"echo {PLAIN}", "risk": "safe"}
                ],
            }
        )
        incident_id = (await stack.post_generic(generic_alert(name))).json()["incident_id"]
        result = await stack.handle(incident_id).result()
        assert result.status is IncidentStatus.RESOLVED
        assert result.steps[0].stdout.strip() == PLAIN

        # What the server stores, read without the key: ciphertext only.
        raw = (await client.get_workflow_handle(incident_id).fetch_history()).to_json()
        assert PLAIN not in raw
        assert base64.b64encode(PLAIN.encode()).decode()[:16] not in raw
        assert "YmluYXJ5L2VuY3J5cHRlZA" in raw  # "binary/encrypted" encoding, base64

        # The Temporal UI's remote codec: decode what the server holds, and round trip.
        settings = stack_settings(client, payload_key=key, codec_token="ui-secret")
        app = create_app(settings, client=client, engine=engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
        ) as http:
            events = json.loads(raw)["events"]
            completed = next(
                e
                for e in events
                if e.get("eventType")
                in ("EVENT_TYPE_ACTIVITY_TASK_COMPLETED", "ActivityTaskCompleted")
            )
            payloads = completed["activityTaskCompletedEventAttributes"]["result"]["payloads"]
            refused = await http.post("/codec/decode", json={"payloads": payloads})
            assert refused.status_code == 401
            headers = {"Authorization": "Bearer ui-secret", "Origin": "http://localhost:8233"}
            decoded = await http.post("/codec/decode", json={"payloads": payloads}, headers=headers)
            assert decoded.status_code == 200, decoded.text
            assert decoded.headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
            data = base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
            assert PLAIN in data
            plain_payload = {
                "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                "data": base64.b64encode(b'"hello"').decode(),
            }
            sealed = (
                await http.post(
                    "/codec/encode", json={"payloads": [plain_payload]}, headers=headers
                )
            ).json()["payloads"]
            assert sealed[0]["data"] != plain_payload["data"]
            opened = (
                await http.post("/codec/decode", json={"payloads": sealed}, headers=headers)
            ).json()["payloads"]
            assert opened == [plain_payload]

            # The UI's codec token opens the codec and nothing else; a person who may read may
            # decode with their own token.
            ui_token = {"Authorization": "Bearer ui-secret"}
            assert (await http.get("/api/incidents", headers=ui_token)).status_code == 401
            reader = await as_person(engine, "codec-reader", (Role.VIEWER,))
            by_person = await http.post("/codec/decode", json={"payloads": sealed}, headers=reader)
            assert by_person.status_code == 200, by_person.text
            assert by_person.json()["payloads"] == [plain_payload]

        # Export decrypts with the key.
        export = await export_incident(encrypted, incident_id)
        ran = next(r for r in export.chain if r["kind"] == "command_ran")
        assert PLAIN in ran["data"]["output_excerpt"]
        assert ran["data"]["command"] == f"echo {PLAIN}"
