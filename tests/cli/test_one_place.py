"""The CLI talks to one place (issue #13): with a second stack found only through its data folder
(`--stack DIR` / DDRUN_DATA_DIR: its stack.json and admin token), `ddrun import` writes the
runbooks that stack's API serves, and `ddrun run … --dry-run` then finds them, by id or as a
file. Nothing is written under the data folder: the CLI opened no database of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.runbooks import RunbookStore
from schemas.identity import Role
from schemas.incident import StepState
from tests.harness import generic_alert, run_cli, running_stack, serving, token_of, unique

pytestmark = pytest.mark.temporal

MARKDOWN = """# {title}

## Mitigation

1. Look at the pods: `kubectl -n payments get pods`
2. Restart: `kubectl -n payments rollout restart deployment/api`
"""


def _runbook(runbook_id: str, name: str) -> dict[str, object]:
    return {
        "id": runbook_id,
        "title": "One place",
        "selectors": [{"alertname": name}],
        "steps": [
            {"id": "look", "title": "Look around", "command": "echo look", "risk": "safe"},
            {"id": "fix", "title": "Fix it", "command": "echo fix", "risk": "caution"},
        ],
    }


async def test_import_then_dry_run_on_a_second_stack(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(client, engine) as stack, serving(stack) as api:
        # The second stack's data folder, as `ddrun dev --data-dir` leaves it: where its API
        # listens, and its first admin's token. Nothing else points the CLI at that stack.
        data = tmp_path / "stack-b"
        data.mkdir()
        (data / "stack.json").write_text(json.dumps({"api_url": api}))
        admin = token_of(await stack.person(unique("admin-"), (Role.ADMIN,)))
        (data / "admin.token").write_text(admin + "\n")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")},
            "XDG_CONFIG_HOME": str(tmp_path / "config"),  # no saved login
            "COLUMNS": "200",
        }

        name = unique("OnePlace")
        imported_id, file_id = unique("oneplace-"), unique("oneplace-file-")
        folder = tmp_path / "runbooks"
        (folder / "team").mkdir(parents=True)
        (folder / "team" / "restart.yml").write_text(yaml.safe_dump(_runbook(imported_id, name)))
        (folder / "team" / "Api Restart.md").write_text(MARKDOWN.format(title=unique("Api ")))
        alert = tmp_path / "alert.json"
        alert.write_text(json.dumps(generic_alert(name, service=unique("svc-"))))

        code, out, err = await run_cli("--stack", str(data), "import", str(folder), env=env)
        assert code == 0, out + err
        assert f"team/restart.yml → {imported_id} v1: new" in out
        assert "team/Api Restart.md → team-api-restart v" in out
        assert await RunbookStore(engine).get(imported_id) is not None  # the stack's database

        by_env = {**env, "DDRUN_DATA_DIR": str(data)}  # the same, by the environment
        code, out, err = await run_cli("runbooks", "list", "--json", env=by_env)
        assert code == 0, out + err
        assert imported_id in [r["id"] for r in json.loads(out)]

        code, out, err = await run_cli(
            "--stack", str(data), "run", imported_id, "--dry-run", "--alert", str(alert),
            "--json", env=env, stderr_apart=True,
        )  # fmt: skip
        assert code == 0, out + err
        plan = json.loads(out)
        assert plan["dry_run"] is True
        assert plan["runbook"] == imported_id
        assert [s["id"] for s in plan["steps"]] == ["look", "fix"]
        assert all(s["state"] == StepState.PLANNED.value for s in plan["steps"])

        # A runbook file that was never imported: walked as it is, saved nowhere.
        draft = tmp_path / "draft.yaml"
        draft.write_text(yaml.safe_dump(_runbook(file_id, name)))
        code, out, err = await run_cli(
            "--stack", str(data), "run", str(draft), "--dry-run", "--alert", str(alert),
            "--json", env=env, stderr_apart=True,
        )  # fmt: skip
        assert code == 0, out + err
        plan = json.loads(out)
        assert (plan["dry_run"], plan["runbook"]) == (True, file_id)
        assert [s["title"] for s in plan["steps"]] == ["Look around", "Fix it"]
        assert await RunbookStore(engine).get(file_id) is None

        code, out, err = await run_cli(
            "--stack", str(data), "run", unique("no-such-"), "--dry-run", "--alert", str(alert),
            env=env, stderr_apart=True,
        )  # fmt: skip
        assert code == 1, out + err
        assert "no runbook" in err

        # The data folder holds what the stack wrote, and nothing the CLI made.
        assert sorted(p.name for p in data.iterdir()) == ["admin.token", "stack.json"]


async def test_uploads_need_an_author_and_stay_in_their_folder(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, with_agent=False) as stack:
        viewer = await stack.person(unique("viewer-"), (Role.VIEWER,))
        author = await stack.person(unique("author-"), (Role.AUTHOR,))
        text = yaml.safe_dump(_runbook(unique("upload-"), unique("Upload")))
        body = {"files": [{"path": "a.yml", "text": text}]}
        refused = await stack.http.post("/api/runbooks/import", headers=viewer, json=body)
        assert refused.status_code == 403
        named = await stack.http.post(
            "/api/runbooks/import",
            headers=author,
            json={"files": [{"path": "a.yml", "text": text, "actor": "mallory"}]},
        )
        assert named.status_code == 422  # nobody names who acts in a body
        escaping = await stack.http.post(
            "/api/runbooks/import",
            headers=author,
            json={"files": [{"path": "../../etc/x.md", "text": "# x\n\n1. `true`\n"}]},
        )
        assert escaping.status_code == 200
        assert escaping.json()["files"] == []
        assert "relative to the runbook folder" in escaping.json()["errors"][0]
