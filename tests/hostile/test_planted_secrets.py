"""Planted secrets never reach the audit trail (#16).

Secrets are planted where they really live: the agent's settings and environment (the payload
key, PagerDuty routing keys, webhook secrets, a Slack token, an AWS secret key, a database URL)
and alerts from three sources (a bearer token in a PagerDuty title, `user:pass@…?token=…` in
generator URLs, "password is …" in an Opsgenie message, a JWT in an annotation, a bare AWS
secret key in a description). Real incidents run on the real Temporal server, and a step
prints the agent's environment (`env`, and one value base64-encoded) and echoes the alert's
fields. Then everything the run wrote is collected: the raw history (payloads decoded), the
workflows' query state, the JSON Lines export with its `.history.json`, CSV, PDF text, and the
logs. None of it may contain any planted secret, nor its base64 or URL encoding.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from hashlib import sha256
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.step_outputs import StepOutputStore
from domain.audit.redact import Redactor
from schemas.identity import Role
from schemas.incident import IncidentStatus
from services.audit.export import export_incident, write_export
from tests.harness import Stack, running_stack, unique
from tests.standins.pagerduty_events import PagerDutyStandin
from tests.standins.server import StandinServer
from tests.support import CONTRACTS, assert_eventually

pytestmark = pytest.mark.temporal

# --- the agent's own secrets (settings read from DDRUN_* and other secret-named variables)
PAYLOAD_KEY = base64.b64encode(b"planted-payload-key-of-32-bytes!").decode()
ROUTING_KEYS = ["e93facc04764012d7bfb002500d5d1a6", "5b7d01c2a9f84e3c8d6b2a1f0e9c7d35"]
GENERIC_TOKEN = "gen-webhook-t0ken-Plant3d"
OPSGENIE_TOKEN = "og-header-s3cret-Plant3d"
PAGERDUTY_SECRET = "pd-v3-subscr1ption-Plant3d"
GRAFANA_SECRET = "graf-hmac-s3cret-Plant3d"
SIGNING_KEY = "export-s1gning-key-Plant3d"
AM_BASIC_PASSWORD = "Am-b4sic-Pl4nted"
SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
LLM_API_KEY = "sk-proj-PlantedLlmKey0123456789abcdefXYZ"
SLACK_TOKEN = "xoxb-112233445566-778899001122-PlantedSlackT0ken"
AWS_SECRET = "kV9sQ2mZ7xL4pR8tN1wB6yC3dF0gH5jK2lM7nP4q"
DB_PASSWORD = "Db-pl4nted-pw"
# --- secrets in alerts
PD_BEARER = "pdTitleBearerPl4nted0123456789"
GEN_URL_PASSWORD = "GenUrlPassw0rd-planted"
GEN_URL_TOKEN = "GenUrlTok3n-planted-9876"
PD_URL_TOKEN = "PdClientTok3n-planted-4321"
OPSGENIE_PASSWORD = "hunter2-xyz"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwbGFudGVkIiwibmFtZSI6ImRkcnVuIn0"
    ".Pl4nt3dSignatureXyZ0123456789abcdefABCDEF"
)
BARE_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPlanted1KY"
FREE_TEXT_PWD = "Pwd-in-Pr0se-planted"

AGENT_ENV = {
    "DDRUN_PAYLOAD_KEY": PAYLOAD_KEY,
    "DDRUN_PAGERDUTY_ROUTING_KEYS": json.dumps(ROUTING_KEYS),
    "DDRUN_GENERIC_WEBHOOK_TOKEN": GENERIC_TOKEN,
    "DDRUN_OPSGENIE_TOKEN": OPSGENIE_TOKEN,
    "DDRUN_PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET,
    "DDRUN_GRAFANA_WEBHOOK_SECRET": GRAFANA_SECRET,
    "DDRUN_EXPORT_SIGNING_KEY": SIGNING_KEY,
    "DDRUN_ALERTMANAGER_BASIC_AUTH": f"ddrun:{AM_BASIC_PASSWORD}",
    "DDRUN_SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
    "DDRUN_LLM_API_KEY": LLM_API_KEY,
    "SLACK_BOT_TOKEN": SLACK_TOKEN,
    "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
    "CHECKOUT_DATABASE_URL": f"postgresql://app:{DB_PASSWORD}@db.internal:5432/checkout",
}
PLANTED = [
    PAYLOAD_KEY,
    *ROUTING_KEYS,
    GENERIC_TOKEN,
    OPSGENIE_TOKEN,
    PAGERDUTY_SECRET,
    GRAFANA_SECRET,
    SIGNING_KEY,
    AM_BASIC_PASSWORD,
    SLACK_SIGNING_SECRET,
    LLM_API_KEY,
    SLACK_TOKEN,
    AWS_SECRET,
    DB_PASSWORD,
    PD_BEARER,
    GEN_URL_PASSWORD,
    GEN_URL_TOKEN,
    PD_URL_TOKEN,
    OPSGENIE_PASSWORD,
    JWT,
    BARE_AWS_SECRET,
    FREE_TEXT_PWD,
]


def _forms(secret: str) -> set[str]:
    """The secret as it may be written: plain, base64, URL-encoded, JSON-escaped."""
    b64 = base64.b64encode(secret.encode()).decode()
    return {secret, b64, b64.rstrip("="), quote(secret, safe=""), json.dumps(secret)[1:-1]}


def found_secrets(blobs: dict[str, str]) -> list[tuple[str, str]]:
    """(where, which secret) for every planted secret in any of the texts."""
    found = []
    for where, text in blobs.items():
        squeezed = re.sub(r"\s+", "", text)  # PDF text may wrap a long word
        for secret in PLANTED:
            if any(form in text or form in squeezed for form in _forms(secret)):
                found.append((where, secret))
    return found


def _decoded_strings(obj: Any) -> Iterator[str]:
    """Every string in a protobuf-JSON document, and the text of every base64 string in it."""
    if isinstance(obj, dict):
        for value in obj.values():
            yield from _decoded_strings(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _decoded_strings(item)
    elif isinstance(obj, str):
        yield obj
        yield _base64_text(obj)


def _base64_text(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""


def history_text(history_json: str) -> str:
    return "\n".join(_decoded_strings(json.loads(history_json)))


def _runbook(name: str) -> dict[str, Any]:
    return {
        "id": unique("planted-"),
        "title": "Print what the agent sees",
        "selectors": [{"alertname": name}],
        "variables": [
            {"name": "title", "source": "alert:title"},
            {"name": "url", "source": "annotation:url"},
            {"name": "desc", "source": "alert:description"},
            {"name": "session", "source": "annotation:session"},
        ],
        "steps": [
            {"id": "env", "title": "Print the environment", "command": "env", "risk": "safe"},
            {
                "id": "encoded",
                "title": "Print a key encoded",
                "command": 'printf %s "$DDRUN_PAYLOAD_KEY" | base64 -w0; echo',
                "risk": "safe",
            },
            {
                "id": "echo",
                "title": "Echo the alert",
                "command": "echo {{ title }}; echo {{ url }}; echo {{ desc }}; echo {{ session }}",
                "risk": "safe",
            },
        ],
    }


def _pagerduty_body(pd_id: str) -> bytes:
    body = json.loads((CONTRACTS / "pagerduty/webhooks-v3/incident.triggered.json").read_text())
    event = body["event"]
    event["id"] = unique("01PLANTED")
    event["data"]["id"] = pd_id
    event["data"]["title"] = f"Checkout down, call API with Authorization: Bearer {PD_BEARER}"
    event["client"]["url"] = f"https://am.example.com/#/alerts?receiver=pd&token={PD_URL_TOKEN}"
    return json.dumps(body).encode()


def _opsgenie_body(alias: str) -> bytes:
    body = json.loads((CONTRACTS / "opsgenie/webhook.create.json").read_text())
    alert = body["alert"]
    alert["alias"] = alias
    alert["alertId"] = unique("og-")
    alert["message"] = f"Checkout DB refuses logins; the password is {OPSGENIE_PASSWORD}"
    alert["description"] = f"rotate the leaked key {BARE_AWS_SECRET} and pwd={FREE_TEXT_PWD}"
    alert["details"]["dashboard_url"] = f"https://grafana.example.com/d/x?api_key={GEN_URL_TOKEN}"
    return json.dumps(body).encode()


@pytest_asyncio.fixture(loop_scope="session")
async def pagerduty_events() -> AsyncIterator[str]:
    """Pages go to a stand-in, never to PagerDuty: the routing keys are real settings here."""
    async with StandinServer(PagerDutyStandin()) as server:
        yield f"{server.url}/v2/enqueue"


async def _post_all(stack: Stack) -> dict[str, str]:
    """One firing alert from each of three sources, each signed with its planted secret."""
    name = unique("Planted")
    await stack.add_runbook(_runbook(name))
    generic = {
        "name": name,
        "title": f"{name}: login failing, Authorization: Bearer {PD_BEARER}",
        "service": "checkout",
        "severity": "critical",
        "description": f"the password is {OPSGENIE_PASSWORD}; leaked {BARE_AWS_SECRET}",
        "url": f"https://gen-user:{GEN_URL_PASSWORD}@grafana.example.com/explore"
        f"?orgId=1&token={GEN_URL_TOKEN}",
        "labels": {"namespace": "checkout"},
        "annotations": {"session": JWT, "runbook_url": f"https://u:{DB_PASSWORD}@wiki/x"},
    }
    sent = await stack.http.post(
        "/webhooks/generic",
        content=json.dumps(generic),
        headers={"Authorization": f"Bearer {GENERIC_TOKEN}"},
    )
    assert sent.status_code == 202, sent.text
    pd_raw = _pagerduty_body(unique("QPLANT"))
    pd_sent = await stack.http.post(
        "/webhooks/pagerduty",
        content=pd_raw,
        headers={
            "Content-Type": "application/json",
            "X-PagerDuty-Signature": "v1="
            + hmac.new(PAGERDUTY_SECRET.encode(), pd_raw, sha256).hexdigest(),
        },
    )
    assert pd_sent.status_code == 202, pd_sent.text
    og_sent = await stack.http.post(
        "/webhooks/opsgenie",
        content=_opsgenie_body(unique("og-alias-")),
        headers={stack.settings.opsgenie_token_header: OPSGENIE_TOKEN},
    )
    assert og_sent.status_code == 202, og_sent.text
    return {
        "generic": str(sent.json()["incident_id"]),
        "pagerduty": str(pd_sent.json()["incident_id"]),
        "opsgenie": str(og_sent.json()["incident_id"]),
    }


async def _artefacts(stack: Stack, incident_id: str, folder: Path) -> dict[str, str]:
    """Everything an incident leaves behind, as text, keyed by where it came from."""
    handle = stack.handle(incident_id)
    blobs = {
        "history": history_text((await handle.fetch_history()).to_json()),
        "query state": (await stack.state(incident_id)).model_dump_json(),
        "describe": str((await handle.describe()).raw_description),
    }
    export = await export_incident(
        stack.client,
        incident_id,
        redactor=Redactor(stack.settings.redact_patterns),
        signing_key=SIGNING_KEY.encode(),
    )
    for fmt in ("json", "csv", "pdf"):
        for path in write_export(export, fmt, folder / f"{incident_id}.{fmt}"):
            data = path.read_bytes()
            if fmt == "pdf":
                text = "\n".join(p.extract_text() or "" for p in PdfReader(BytesIO(data)).pages)
            elif path.name.endswith(".history.json"):
                text = history_text(data.decode())
            else:
                text = data.decode("utf-8-sig")
            blobs[path.name] = text
    reader = await stack.person(unique("auditor-"), (Role.VIEWER,))
    for fmt in ("json", "csv"):
        response = await stack.http.get(
            f"/api/incidents/{incident_id}/export?format={fmt}", headers=reader
        )
        assert response.status_code == 200, response.text
        blobs[f"api export {fmt}"] = response.text
    return blobs


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_no_planted_secret_reaches_history_exports_or_logs(
    client: Client,
    engine: AsyncEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    pagerduty_events: str,
) -> None:
    for name, value in AGENT_ENV.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    async with running_stack(client, engine, pagerduty_events_url=pagerduty_events) as stack:
        # The agent really holds them: its settings came from this environment.
        assert [k.get_secret_value() for k in stack.settings.pagerduty_routing_keys] == ROUTING_KEYS
        assert stack.settings.payload_key is not None
        incidents = await _post_all(stack)
        generic = incidents["generic"]
        done = await assert_eventually(
            lambda: stack.state(generic),
            lambda s: s.status.is_closed,
            what="the generic incident closed",
            timeout=60,
        )
        assert done.status is IncidentStatus.RESOLVED, done
        for incident_id in incidents.values():
            await assert_eventually(
                lambda i=incident_id: stack.state(i),
                lambda s: bool(s.alerts),
                what="alert received",
            )
        blobs: dict[str, str] = {}
        for source, incident_id in incidents.items():
            for where, text in (await _artefacts(stack, incident_id, tmp_path)).items():
                blobs[f"{source}: {where}"] = text
        # The full command output is kept outside the history (step_outputs): check it too.
        for step_id in ("env", "encoded", "echo"):
            stored = await StepOutputStore(engine).for_step(generic, step_id)
            assert stored, f"the full output of {step_id} was stored"
            blobs[f"generic: stored output of {step_id}"] = "\n".join(
                o.stdout + o.stderr for o in stored
            )
        for incident_id in (incidents["pagerduty"], incidents["opsgenie"]):
            await stack.handle(incident_id).terminate("test over")

    state = json.loads(blobs["generic: query state"])
    outputs = "\n".join(step["stdout"] for step in state["steps"])
    # The steps ran and printed what they were asked to: the check below sees real output.
    assert "DDRUN_PAYLOAD_KEY=" in outputs, outputs
    assert "AWS_SECRET_ACCESS_KEY=" in outputs
    assert "grafana.example.com/explore" in outputs
    blobs["logs"] = caplog.text + "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    for file in tmp_path.rglob("*"):
        if file.is_file() and file.suffix != ".pdf":
            blobs[f"file {file.name}"] = file.read_text(errors="replace")
    assert len(blobs) > 30  # history, state, 4 files and 2 API exports per incident, logs
    found = found_secrets(blobs)
    assert not found, f"{len(found)} planted secrets found:\n" + "\n".join(map(str, found))


def test_the_check_finds_what_it_looks_for() -> None:
    """The grep itself is not blind: each secret, plain or encoded, is found where planted."""
    for secret in PLANTED:
        for form in _forms(secret):
            assert found_secrets({"x": f"before {form} after"}) == [("x", secret)]
    encoded = base64.b64encode(json.dumps({"out": PAYLOAD_KEY}).encode()).decode()
    history = json.dumps({"events": [{"payload": {"data": encoded}}]})
    assert found_secrets({"history": history_text(history)}) == [("history", PAYLOAD_KEY)]
