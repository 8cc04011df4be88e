"""`ddrun incident declare|severity|false-positive` as a user runs them: through the HTTP API
with a token (the actor is the token's person), against real Temporal."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.identity import Role
from schemas.incident import IncidentStatus
from tests.harness import run_cli, running_stack, serving, token_of, unique
from tests.support import assert_eventually

pytestmark = pytest.mark.temporal


async def test_declare_change_severity_and_close_as_false_positive(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        hana = unique("hana-")
        env = {
            **os.environ,
            "DDRUN_API_URL": api,
            "DDRUN_TOKEN": token_of(await stack.person(hana, (Role.RESPONDER,))),
            "COLUMNS": "200",
        }
        service = unique("cli-decl-")
        code, out, err = await run_cli(
            "incident", "declare", "--severity", "P9", "--title", "x", env=env, stderr_apart=True
        )
        assert code != 0
        assert "P0, P1, P2, P3" in err
        code, out, err = await run_cli(
            "incident",
            "declare",
            "--severity",
            "p1",
            "--title",
            "Payments delayed",
            "--service",
            service,
            env=env,
            stderr_apart=True,
        )
        assert code == 0, (out, err)
        found = re.search(r"(incident-\S+) declared P1", out)
        assert found, out
        incident = found.group(1)
        state = await assert_eventually(
            lambda: stack.state(incident), lambda s: s is not None, what="declared"
        )
        assert state.declared_by == hana
        assert state.service == service

        code, out, err = await run_cli(
            "incident", "severity", incident, "P2", "--reason", "only EU", env=env
        )
        assert code == 0, out
        assert "severity P2 set by" in out
        code, out, _ = await run_cli(
            "incident", "false-positive", incident, "--reason", "test traffic", env=env
        )
        assert code == 0, out
        closed = await stack.handle(incident).result()
        assert closed.status is IncidentStatus.RESOLVED
        assert closed.severity_changes[-1].actor == hana
        assert closed.false_positive is not None
        assert closed.false_positive.reason == "test traffic"


async def test_hand_over_command_and_print_the_handoff(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        ivo, jun = unique("ivo-"), unique("jun-")
        await stack.person(jun, (Role.RESPONDER,))
        env = {
            **os.environ,
            "DDRUN_API_URL": api,
            "DDRUN_TOKEN": token_of(await stack.person(ivo, (Role.RESPONDER,))),
            "COLUMNS": "200",
        }
        code, out, _ = await run_cli(
            "incident", "declare", "--severity", "P0", "--title", "Checkout down", env=env
        )
        assert code == 0, out
        found = re.search(r"(incident-\S+) declared P0", out)
        assert found, out
        incident = found.group(1)
        await assert_eventually(
            lambda: stack.state(incident), lambda s: s is not None, what="declared"
        )
        code, out, _ = await run_cli("incident", "ic", incident, jun, env=env)
        assert code == 0, out
        assert f"{jun} is commander" in out
        code, out, _ = await run_cli("incident", "role", incident, "scribe", ivo, env=env)
        assert code == 0, out
        state = await stack.state(incident)
        assert (state.commander, state.scribe) == (jun, ivo)
        assert state.role_changes[-2].actor == ivo
        code, out, _ = await run_cli("incident", "handoff", incident, env=env)
        assert code == 0, out
        assert f"# Handoff: {incident}" in out
        assert f"- Incident commander: {jun}" in out
        assert f"- Declared by: {ivo}" in out


async def test_post_and_publish_a_status_update(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        kai = unique("kai-")
        env = {
            **os.environ,
            "DDRUN_API_URL": api,
            "DDRUN_TOKEN": token_of(await stack.person(kai, (Role.RESPONDER,))),
            "COLUMNS": "200",
        }
        code, out, _ = await run_cli(
            "incident", "declare", "--severity", "P1", "--title", "Search down", env=env
        )
        found = re.search(r"(incident-\S+) declared P1", out)
        assert code == 0, out
        assert found, out
        incident = found.group(1)
        await assert_eventually(
            lambda: stack.state(incident), lambda s: s is not None, what="declared"
        )
        await run_cli("incident", "role", incident, "comms_lead", kai, env=env)
        code, out, _ = await run_cli(
            "incident", "update", incident, "--phase", "identified", "--impact",
            "Search fails for 30% of users", "--public", env=env,
        )  # fmt: skip
        assert code == 0, out
        assert "status update #1 posted" in out
        code, out, _ = await run_cli("incident", "publish", incident, "1", env=env)
        assert code == 0, out
        assert "published by" in out
        page = (await stack.http.get("/status.json")).json()
        [shown] = [i for i in page["incidents"] if i["id"] == incident]
        assert shown["updates"][0]["message"] == "Search fails for 30% of users"
