"""The agent's command activity, run directly: timeouts, bounded output, exit codes, cancels."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment

from activities.commands import CommandRunner, _Guardian
from schemas.incident import RunCommandInput


def _request(command: str, timeout_s: int = 30) -> RunCommandInput:
    return RunCommandInput(incident_id="i", step_id="s", command=command, timeout_s=timeout_s)


async def test_success_returns_output_and_environment() -> None:
    runner = CommandRunner(max_output_bytes=4096)
    result = await ActivityEnvironment().run(
        runner.run_command, _request('echo "$DDRUN_INCIDENT_ID/$DDRUN_STEP_ID"; echo err >&2')
    )
    assert result.exit_code == 0
    assert result.stdout == "i/s\n"
    assert result.stderr == "err\n"
    assert result.agent.startswith("agent@")


async def test_nonzero_exit_fails_with_the_output_in_the_details() -> None:
    runner = CommandRunner()
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(runner.run_command, _request("echo partial; exit 4"))
    assert err.value.type == "CommandFailed"
    details = err.value.details[0]
    assert details["exit_code"] == 4
    assert details["stdout"] == "partial\n"


async def test_output_keeps_head_and_tail_within_the_bound() -> None:
    runner = CommandRunner(max_output_bytes=2048)
    result = await ActivityEnvironment().run(
        runner.run_command,
        _request("echo FIRST; head -c 100000 /dev/zero | tr '\\0' x; echo; echo LAST"),
    )
    assert result.stdout_truncated
    assert result.stdout.startswith("FIRST")
    assert result.stdout.rstrip().endswith("LAST")
    assert "bytes omitted" in result.stdout
    assert len(result.stdout) < 2048 + 100


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    runner = CommandRunner()
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(
            runner.run_command, _request(f"(sleep 3; touch {marker}) & sleep 3", timeout_s=1)
        )
    assert err.value.type == "CommandTimeout"
    assert err.value.non_retryable
    await asyncio.sleep(3.5)
    assert not marker.exists(), "a background child survived the timeout"


async def test_cancellation_stops_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "after"
    env = ActivityEnvironment()
    runner = CommandRunner()
    task = asyncio.ensure_future(env.run(runner.run_command, _request(f"sleep 3; touch {marker}")))
    await asyncio.sleep(0.5)
    env.cancel()
    with pytest.raises((asyncio.CancelledError, CancelledError)):
        await task
    await asyncio.sleep(3)
    assert not marker.exists()


async def test_the_guardian_kills_running_groups_when_the_agent_goes(tmp_path: Path) -> None:
    """The agent's death closes the guardian's pipe; every group still registered dies with
    it, background children included (what setpriv --pdeathsig used to guarantee)."""
    marker = tmp_path / "orphan"
    guardian = _Guardian()
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", f"(sleep 2; touch {marker}) & sleep 2", start_new_session=True
    )
    guardian.watch(proc.pid)
    guardian_proc = guardian._proc
    assert guardian_proc is not None
    assert guardian_proc.stdin is not None
    guardian_proc.stdin.close()  # as when the kernel closes a SIGKILLed agent's descriptors
    assert await asyncio.wait_for(proc.wait(), timeout=1.5) == -9
    await asyncio.sleep(2.5)
    assert not marker.exists(), "a background child outlived the agent"
    assert guardian_proc.wait(timeout=5) == 0
