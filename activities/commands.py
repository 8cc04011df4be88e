"""The agent's only activity: run one already-rendered command and report what happened.

This module is all a customer runs inside their network, so it imports no database, Slack or
LLM code. Each command is a plain `bash -c` in its own session (its own process group); one
guardian process per agent holds the list of running groups and SIGKILLs them when the agent
dies (its pipe from the agent reaches end-of-file, which a SIGKILL cannot skip), so a killed
agent never leaves a half-finished command running behind the next attempt. This replaced a
per-command `setpriv --pdeathsig` plus a trapping bash wrapper: two extra execs and a fork on
every step (bench/step_overhead.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.audit.redact import Redactor
from schemas.incident import RunCommandInput, RunCommandResult

_HEARTBEAT_EVERY_S = 2.0
_KILL_GRACE_S = 5.0


class _BoundedBuffer:
    """Keeps the head and the tail of a stream; a 3am reader needs the start and the end."""

    def __init__(self, limit: int) -> None:
        self._half = limit // 2
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > self._half:
                del self._tail[: len(self._tail) - self._half]

    @property
    def truncated(self) -> bool:
        return self.total > len(self._head) + len(self._tail)

    def text(self) -> str:
        head = self._head.decode(errors="replace")
        tail = self._tail.decode(errors="replace")
        if self.truncated:
            skipped = self.total - len(self._head) - len(self._tail)
            return f"{head}\n… [{skipped} bytes omitted] …\n{tail}"
        return head + tail


async def _pump(stream: asyncio.StreamReader | None, buffer: _BoundedBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        buffer.feed(chunk)


def _argv(command: str) -> list[str]:
    # The command is bash's script argument as the runbook rendered it, never re-parsed.
    return [shutil.which("bash") or "/bin/bash", "-c", command]


# Reads "+PGID"/"-PGID" lines; at end-of-file (the agent exited or was killed) it SIGKILLs every
# group still registered. Its own session, so a signal to the agent's group does not reach it.
_GUARDIAN_CODE = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Guardian:
    """One process per agent that kills the agent's running command groups when the agent dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = 0

    def _pipe(self) -> int:
        proc = self._proc
        if proc is None or self._owner != os.getpid() or proc.poll() is not None:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _GUARDIAN_CODE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
            self._proc, self._owner = proc, os.getpid()
        if proc.stdin is None:  # pragma: no cover - stdin=PIPE always gives one
            raise OSError("guardian has no stdin")
        return proc.stdin.fileno()

    def _send(self, line: str) -> None:
        with self._lock:
            for _ in range(2):  # a guardian killed by hand is replaced once
                try:
                    os.write(self._pipe(), line.encode())
                    return
                except OSError:
                    self._proc = None

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}\n")

    def release(self, pgid: int) -> None:
        self._send(f"-{pgid}\n")


_GUARDIAN = _Guardian()


def _killpg(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class CommandRunner:
    """Runs commands for incidents; built by the agent worker with its limits.

    Output is redacted here, before it is returned: secrets a command prints never reach the
    workflow history, Slack or an export.
    """

    max_output_bytes: int = 16 * 1024  # per stream
    identity: str = ""
    redactor: Redactor = field(default_factory=Redactor)

    def __post_init__(self) -> None:
        if not self.identity:
            self.identity = f"agent@{socket.gethostname()}:{os.getpid()}"

    @activity.defn(name="run_command")
    async def run_command(self, request: RunCommandInput) -> RunCommandResult:
        info = activity.info()
        started = time.monotonic()
        env = {
            **os.environ,
            "DDRUN_INCIDENT_ID": request.incident_id,
            "DDRUN_STEP_ID": request.step_id,
        }
        proc = await asyncio.create_subprocess_exec(
            *_argv(request.command),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        _GUARDIAN.watch(proc.pid)
        out, err = _BoundedBuffer(self.max_output_bytes), _BoundedBuffer(self.max_output_bytes)

        def beat() -> None:
            activity.heartbeat({"pid": proc.pid, "stdout_bytes": out.total, "agent": self.identity})

        async def run_to_exit() -> int:
            await asyncio.gather(_pump(proc.stdout, out), _pump(proc.stderr, err))
            return await proc.wait()

        async def ticker() -> None:
            # The first beat comes after one interval, not at once: the SDK sends a first
            # heartbeat straight to the server, a history write racing the completion of every
            # short command (step_overhead.py: "run" 12.5-14.8 -> 8.0-13.4 ms a step). A dead
            # agent is still noticed by the heartbeat timeout (10 s, counted from the start),
            # and a cancel is still picked up on the next beat's answer.
            while True:
                await asyncio.sleep(_HEARTBEAT_EVERY_S)
                beat()

        tick = asyncio.create_task(ticker())
        try:
            exit_code = await asyncio.wait_for(run_to_exit(), timeout=request.timeout_s)
        except TimeoutError:
            _killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise ApplicationError(
                f"command timed out after {request.timeout_s}s and was killed",
                self._result(proc.returncode or -9, out, err, started, info.attempt).model_dump(),
                type="CommandTimeout",
                non_retryable=True,
            ) from None
        except asyncio.CancelledError:
            # Cancelled by the workflow (abort) or a worker shutdown: stop the whole group, and
            # kill whatever in it outlived the TERM (background children of the command).
            _killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=_KILL_GRACE_S)
            _killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise
        finally:
            tick.cancel()
            _GUARDIAN.release(proc.pid)
        result = self._result(exit_code, out, err, started, info.attempt)
        if exit_code != 0:
            raise ApplicationError(
                f"command exited with code {exit_code}",
                result.model_dump(),
                type="CommandFailed",
            )
        return result

    def _result(
        self, exit_code: int, out: _BoundedBuffer, err: _BoundedBuffer, started: float, attempt: int
    ) -> RunCommandResult:
        return RunCommandResult(
            exit_code=exit_code,
            stdout=self.redactor.redact(out.text()),
            stderr=self.redactor.redact(err.text()),
            stdout_truncated=out.truncated,
            stderr_truncated=err.truncated,
            duration_ms=int((time.monotonic() - started) * 1000),
            attempt=attempt,
            agent=self.identity,
        )
