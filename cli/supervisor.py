"""Keep a set of child processes running: restart one that dies, with backoff; stop all cleanly.

`ddrun dev` runs the stack as separate processes. One of them crashing (or being killed) must
not take the others down, and a child that fails at once on every start must neither spin the
CPU nor go unnoticed. Each child runs in its own process group, so stopping it also stops what
it started, and (on Linux) it gets SIGTERM if the supervisor itself dies, so nothing is orphaned.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from infra.parent_death import parent_death_signal


@dataclass(frozen=True)
class Backoff:
    """Delay before restarting a child, doubling with each quick failure in a row.

    A child that stayed up `stable_after_s` has recovered: its next failure counts as a first.
    """

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0
    stable_after_s: float = 30.0

    def delay(self, failures: int) -> float:
        """The wait before the restart that follows the `failures`-th quick failure (1-based)."""
        return float(min(self.max_s, self.initial_s * self.factor ** max(failures - 1, 0)))


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    log: Path


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0  # supervisor clock
    started_wall: datetime = field(default_factory=lambda: datetime.now(UTC))
    restart_at: float | None = None  # a restart is due then
    died_at: float | None = None
    failures: int = 0  # quick failures in a row
    restarts: int = 0
    crash_looping: bool = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def log_tail(path: Path, lines: int = 5, max_bytes: int = 4096) -> list[str]:
    """The last lines of a child's log, to show why it keeps failing without opening the file."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - max_bytes, 0))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


class Supervisor:
    """Starts children, restarts the ones that die (call `poll` often), stops them on request.

    `say` receives one line per event (start, death, restart, crash loop); `clock` is injectable
    so the backoff can be tested without waiting.
    """

    def __init__(
        self,
        specs: Iterable[ChildSpec],
        *,
        backoff: Backoff | None = None,
        crash_loop_after: int = 5,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = {spec.name: Child(spec) for spec in specs}
        self.backoff = backoff or Backoff()
        self.crash_loop_after = crash_loop_after
        self.say = say
        self.clock = clock
        self.stopping = False
        self._preexec = parent_death_signal(signal.SIGTERM)  # dies with the supervisor

    def __getitem__(self, name: str) -> Child:
        return self.children[name]

    def start(self, name: str) -> Child:
        child = self.children[name]
        spec = child.spec
        spec.log.parent.mkdir(parents=True, exist_ok=True)
        with spec.log.open("ab") as log:
            child.proc = subprocess.Popen(
                list(spec.argv),
                env=dict(spec.env),
                cwd=spec.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its descendants
                preexec_fn=self._preexec,  # only a prctl call, resolved before the fork
            )
        child.started_at = self.clock()
        child.started_wall = datetime.now(UTC)
        child.restart_at = None
        return child

    def poll(self) -> list[Child]:
        """Notice children that died and restart those that are due; returns the restarted."""
        restarted: list[Child] = []
        if self.stopping:
            return restarted
        now = self.clock()
        for child in self.children.values():
            if child.proc is None:
                continue
            code = child.proc.poll()
            if code is None:
                self._note_stable(child, now)
                continue
            if child.restart_at is None:
                self._schedule_restart(child, code, now)
            elif now >= child.restart_at:
                child.restarts += 1
                self.start(child.spec.name)
                self.say(f"{child.spec.name} restarted (pid {child.pid}, restart {child.restarts})")
                restarted.append(child)
        return restarted

    def _note_stable(self, child: Child, now: float) -> None:
        if child.failures and now - child.started_at >= self.backoff.stable_after_s:
            if child.crash_looping:
                self.say(f"{child.spec.name} has stayed up {self.backoff.stable_after_s:g} s again")
            child.failures = 0
            child.crash_looping = False

    def _schedule_restart(self, child: Child, code: int, now: float) -> None:
        name = child.spec.name
        uptime = now - child.started_at
        if uptime >= self.backoff.stable_after_s:
            child.failures = 0
        child.failures += 1
        child.died_at = now
        delay = self.backoff.delay(child.failures)
        child.restart_at = now + delay
        self.say(
            f"{name} (pid {child.pid}) {describe_exit(code)} after {uptime:.1f} s; "
            f"restarting in {delay:g} s (log: {child.spec.log})"
        )
        if child.failures >= self.crash_loop_after and not child.crash_looping:
            child.crash_looping = True
            tail = "".join(f"\n    | {line}" for line in log_tail(child.spec.log))
            self.say(
                f"{name} is crash-looping: {child.failures} exits in a row, each within "
                f"{self.backoff.stable_after_s:g} s of starting; still retrying, at most every "
                f"{self.backoff.max_s:g} s; the other parts keep running. "
                f"Last lines of {child.spec.log}:{tail or ' (empty)'}"
            )

    def stop(self, names: Sequence[str] | None = None, timeout_s: float = 15.0) -> None:
        """SIGTERM the named children's process groups together (all: every child), wait up to
        `timeout_s` for them to exit, then SIGKILL what is left. Nothing is restarted after."""
        self.stopping = True
        chosen = [self.children[n] for n in (names or list(self.children))]
        procs = [c.proc for c in chosen if c.proc is not None]
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            _signal_group(proc, signal.SIGKILL)  # descendants that outlived their parent


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
