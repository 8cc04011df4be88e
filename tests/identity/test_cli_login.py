"""The CLI acts as the person whose token it holds: `ddrun login` saves it (mode 0600),
`whoami` says who, every action goes through the API, `logout` forgets it; `--as` is only for
a server with authentication off, and the history says so."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from schemas.incident import IncidentStatus, StepState
from schemas.settings import Settings
from tests.harness import Stack, generic_alert, run_cli, running_stack, serving, unique
from tests.support import REPO, assert_eventually

pytestmark = pytest.mark.temporal


async def ddrun(api: str, home: Path, *args: str, **env: str) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DDRUN_TOKEN", "XDG_CONFIG_HOME")}
    environ.update(
        {
            "DDRUN_API_URL": api,
            "XDG_CONFIG_HOME": str(home),
            "DDRUN_DATA_DIR": str(home / "no-stack"),
            "COLUMNS": "200",
            **env,
        }
    )
    code, out, _ = await run_cli(*args, env=environ)
    return code, out


async def _waiting_incident(stack: Stack) -> str:
    name = unique("CliLogin")
    await stack.add_runbook(
        {
            "id": unique("login-"),
            "title": "Login runbook",
            "selectors": [{"alertname": name}],
            "steps": [{"id": "fix", "title": "Fix", "command": "echo fix", "risk": "caution"}],
        }
    )
    incident_id: str = (
        await stack.post_generic(
            generic_alert(name, severity="warning", service=unique("cli-svc-"))
        )
    ).json()["incident_id"]
    await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: s.status is IncidentStatus.AWAITING_APPROVAL,
        what="waiting",
    )
    return incident_id


async def test_login_whoami_act_logout(client: Client, engine: AsyncEngine, tmp_path: Path) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        incident_id = await _waiting_incident(stack)
        handle = unique("carol-")
        token = (await stack.person(handle))["Authorization"].split(" ", 1)[1]

        code, out = await ddrun(api, tmp_path, "approve", incident_id, "fix")
        assert code == 2, out
        assert "ddrun login" in out
        assert "Traceback" not in out

        code, out = await ddrun(api, tmp_path, "login", "--token", token)
        assert code == 0, out
        assert handle in out
        saved = tmp_path / "ddrun" / "credentials.json"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert token not in out

        code, out = await ddrun(api, tmp_path, "whoami")
        assert code == 0, out
        assert handle in out
        assert "api-token" in out

        # --as cannot override the credential's person on a server with authentication on.
        code, out = await ddrun(api, tmp_path, "approve", incident_id, "fix", "--as", "mallory")
        assert code == 0, out
        state = await assert_eventually(
            lambda: stack.state(incident_id),
            lambda s: s.steps[0].state is StepState.SUCCEEDED,
            what="approved and run",
        )
        approval = state.steps[0].approvals[0]
        assert approval.approver == handle
        assert approval.channel == "cli"
        assert approval.authenticated_by is not None
        assert approval.authenticated_by.startswith("api-token ")

        code, out = await ddrun(api, tmp_path, "logout")
        assert code == 0, out
        code, out = await ddrun(api, tmp_path, "incidents", "show", incident_id)
        assert code == 2, out
        assert "ddrun login" in out

        # DDRUN_TOKEN works without a saved login; a revoked one is refused with one line.
        code, out = await ddrun(api, tmp_path, "incidents", "list", "--json", DDRUN_TOKEN=token)
        assert code == 0, out
        code, out = await ddrun(api, tmp_path, "tokens", "list", DDRUN_TOKEN=token)
        assert code == 0, out
        token_id = token.split("_")[1]
        assert token_id in out
        code, out = await ddrun(api, tmp_path, "tokens", "revoke", token_id, DDRUN_TOKEN=token)
        assert code == 0, out
        code, out = await ddrun(api, tmp_path, "whoami", DDRUN_TOKEN=token)
        assert code == 2, out
        assert "refused" in out
        assert "Traceback" not in out


async def test_unreachable_api_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = await ddrun(f"http://127.0.0.1:{port}", tmp_path, "incidents", "list")
    assert code == 1
    assert "not reachable" in out
    assert "Traceback" not in out
    assert len(out.strip().splitlines()) <= 3


async def test_with_auth_off_as_names_the_actor_and_history_says_so(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine) as stack:
        off = stack.settings.model_copy(update={"auth_enabled": False})
        async with serving(stack, off) as api:
            incident_id = await _waiting_incident(stack)
            code, out = await ddrun(api, tmp_path, "approve", incident_id, "fix", "--as", "dana")
            assert code == 0, out
            state = await assert_eventually(
                lambda: stack.state(incident_id),
                lambda s: s.steps[0].state is StepState.SUCCEEDED,
                what="approved and run",
            )
            approval = state.steps[0].approvals[0]
            assert approval.approver == "dana"
            assert approval.authenticated_by == "dev-unauthenticated"


def test_auth_off_refuses_a_non_loopback_bind() -> None:
    from api.auth import InsecureBindError, check_bind

    check_bind(Settings(auth_enabled=False, api_host="127.0.0.1"))
    check_bind(Settings(auth_enabled=True, api_host="0.0.0.0"))  # noqa: S104
    with pytest.raises(InsecureBindError, match="loopback"):
        check_bind(Settings(auth_enabled=False, api_host="0.0.0.0"))  # noqa: S104


async def test_dev_bootstrap_makes_one_first_admin(tmp_path: Path) -> None:
    from cli.identity import bootstrap_admin

    settings = Settings(data_dir=tmp_path / "stack")
    token = await bootstrap_admin(settings)
    assert token is not None
    saved = settings.data_dir / "admin.token"
    assert saved.read_text().strip() == token
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert await bootstrap_admin(settings) is None  # an admin exists: nothing new is made


async def test_one_setting_finds_a_dev_stack(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    """`ddrun --stack DIR` (or DDRUN_DATA_DIR alone) reaches the stack `ddrun dev` described in
    DIR/stack.json, with the admin token it left there: no other setting."""
    async with running_stack(client, engine) as stack, serving(stack) as api:
        folder = tmp_path / "stack-b"
        folder.mkdir()
        (folder / "stack.json").write_text(
            json.dumps({"api_url": api, "temporal_address": "127.0.0.1:1"})
        )
        handle = unique("stacker-")
        token = (await stack.person(handle))["Authorization"].split(" ", 1)[1]
        (folder / "admin.token").write_text(token + "\n")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")} | {
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "COLUMNS": "200",
        }
        for args, extra in (
            (["--stack", str(folder), "whoami"], {}),
            (["whoami"], {"DDRUN_DATA_DIR": str(folder)}),
        ):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli.main", *args,
                cwd=tmp_path, env={**environ, **extra, "PYTHONPATH": str(REPO)},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            out = (await proc.communicate())[0].decode()
            assert proc.returncode == 0, out
            assert handle in out


def test_explicit_settings_win_over_the_stack_file(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(
        json.dumps({"api_url": "http://127.0.0.1:1111", "temporal_address": "127.0.0.1:2222"})
    )
    found = Settings(data_dir=tmp_path)
    assert (found.api_url, found.temporal_address) == ("http://127.0.0.1:1111", "127.0.0.1:2222")
    explicit = Settings(data_dir=tmp_path, api_url="http://127.0.0.1:3333")
    assert explicit.api_url == "http://127.0.0.1:3333"
    assert explicit.temporal_address == "127.0.0.1:2222"
    (tmp_path / "stack.json").write_text("not json")
    assert Settings(data_dir=tmp_path).api_url == "http://127.0.0.1:8080"
