"""The README's "Your first incident in five minutes", run as written: a fresh stack, the demo
service, and the walk-through's commands, reaching a resolved incident with no traceback.

The commands are read from the README, so the text cannot drift from what works. Only where the
stack is differs, through what the README itself documents: `make run` is `ddrun dev` (the
Makefile's `run` target) started with free ports and a scratch data folder, and every other
command gets `DDRUN_API_URL`, `DDRUN_DATA_DIR`, `DDRUN_DEMO_PORT` and `DDRUN_TEMPORAL_ADDRESS`.
They run from a scratch folder holding a link to this checkout's `.venv`, so `.venv/bin/ddrun`
resolves as it does in a clone and the export lands there (PYTHONPATH: this checkout's code).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from schemas.incident import IncidentState, IncidentStatus, StepState
from tests.e2e.test_dev_supervisor import DevRun, _free_ports
from tests.support import REPO

pytestmark = pytest.mark.e2e

SECTION = "## Your first incident in five minutes"
INCIDENT = "incident-generic-demo-disk-full"


def walkthrough_blocks(readme: str) -> list[list[str]]:
    """The section's ```bash blocks, each as its command lines (comments and blanks kept out)."""
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    blocks = re.findall(r"```bash\n(.*?)```", readme[start:end], flags=re.S)
    return [
        [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        for block in blocks
    ]


def test_the_walkthrough_is_three_blocks_stack_demo_commands() -> None:
    """The shape the test below relies on: if the README changes shape, this says how."""
    blocks = walkthrough_blocks((REPO / "README.md").read_text())
    assert [len(b) for b in blocks[:2]] == [1, 1], blocks
    assert blocks[0] == ["make run"]
    assert blocks[1] == [".venv/bin/ddrun demo"]
    assert len(blocks) == 3, blocks
    assert len(blocks[2]) >= 5, blocks


def _no_traceback(where: str, text: str) -> None:
    assert "Traceback" not in text, f"traceback in {where}:\n{text}"


async def test_readme_walkthrough_reaches_a_resolved_incident(tmp_path: Path) -> None:
    stack, demo_block, commands = walkthrough_blocks((REPO / "README.md").read_text())
    assert stack == ["make run"]
    assert demo_block == [".venv/bin/ddrun demo"]
    api_port, temporal_port, ui_port, demo_port = _free_ports(4)
    data_dir = tmp_path / "data"
    here = tmp_path / "clone"
    here.mkdir()
    (here / ".venv").symlink_to(REPO / ".venv")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")},
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "DDRUN_API_URL": f"http://127.0.0.1:{api_port}",
        "DDRUN_DATA_DIR": str(data_dir),
        "DDRUN_DEMO_PORT": str(demo_port),
        "DDRUN_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # no saved `ddrun login` credential
    }
    # `make run` = `ddrun dev $(ARGS)`, here with ports and a data folder of its own.
    dev_proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "cli.main", "dev", "--data-dir", str(data_dir)],
        *["--api-port", str(api_port), "--temporal-port", str(temporal_port)],
        *["--ui-port", str(ui_port)],
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    dev = DevRun(dev_proc)
    demo_proc: asyncio.subprocess.Process | None = None
    demo: DevRun | None = None
    ran: list[str] = []
    try:
        await dev.wait_for(r"dd0c/run is up", timeout=120)
        demo_proc = await asyncio.create_subprocess_shell(
            demo_block[0],
            cwd=here,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        demo = DevRun(demo_proc)
        await demo.wait_for(rf"demo service on http://127\.0\.0\.1:{demo_port}", timeout=30)
        for command in commands:
            done = await asyncio.to_thread(
                subprocess.run,
                ["bash", "-c", command],
                cwd=here,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            output = done.stdout + done.stderr
            ran.append(f"$ {command}\n{output}")
            _no_traceback(command, output)
            assert done.returncode == 0, "\n".join(ran)

        async with httpx.AsyncClient(base_url=env["DDRUN_API_URL"], timeout=10) as http:
            token = (data_dir / "admin.token").read_text().strip()
            got = await http.get(
                f"/api/incidents/{INCIDENT}", headers={"Authorization": f"Bearer {token}"}
            )
        state = IncidentState.model_validate(got.json())
        assert state.status is IncidentStatus.RESOLVED, "\n".join(ran)
        assert {s.id: s.state for s in state.steps} == dict.fromkeys(
            ["check-health", "read-logs", "disk-usage", "free-disk", "verify"], StepState.SUCCEEDED
        ), "\n".join(ran)
        assert state.steps[3].approved_by == "admin"
        assert (here / "first-incident.jsonl").is_file()
        assert "resolved" in next(r for r in ran if "demo status --wait" in r)

        # A newcomer breaks it again: the alert reopens the incident as a new run, and `break`
        # waits for that run, not the resolved one.
        again = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-c", ".venv/bin/ddrun demo break disk"],
            cwd=here,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        _no_traceback("break again", again.stdout + again.stderr)
        assert again.returncode == 0, again.stdout + again.stderr
        assert re.search(r"free-disk +awaiting_approval", again.stdout), again.stdout
    finally:
        for proc in (demo_proc, dev_proc):
            if proc is not None and proc.returncode is None:
                os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in its terminal
                try:
                    await asyncio.wait_for(proc.wait(), timeout=60)
                except TimeoutError:
                    os.killpg(proc.pid, signal.SIGKILL)
        await dev.reader
        if demo is not None:
            await demo.reader
    _no_traceback("ddrun dev", dev.output())
    assert demo is not None
    _no_traceback("ddrun demo", demo.output())
    for log in sorted((data_dir / "logs").glob("*.log")):
        _no_traceback(str(log), log.read_text(errors="replace"))
