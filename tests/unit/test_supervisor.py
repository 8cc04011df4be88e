"""The dev-stack supervisor: backoff, restarts, crash loops and stopping, on real child processes.

The clock is a fake one, so the backoff is checked exactly without waiting for it; the children
are real (`sh`), so exits, signals and process groups are the kernel's.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cli.supervisor import Backoff, ChildSpec, Supervisor, describe_exit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _spec(tmp_path: Path, name: str, script: str) -> ChildSpec:
    return ChildSpec(
        name=name,
        argv=["sh", "-c", script],
        env=dict(os.environ),
        cwd=tmp_path,
        log=tmp_path / f"{name}.log",
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_backoff_doubles_from_half_a_second_to_thirty() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_exit_descriptions_name_the_signal() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"


def test_a_child_that_keeps_failing_is_restarted_later_each_time_and_reported_once(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    said: list[str] = []
    sup = Supervisor(
        [_spec(tmp_path, "flaky", "echo 'cannot bind port 7233' >&2; exit 3")],
        say=said.append,
        clock=clock,
    )
    child = sup.start("flaky")
    delays: list[float] = []
    pids = [child.pid]
    for _ in range(6):
        assert child.proc is not None
        child.proc.wait()
        assert sup.poll() == []  # the death is noticed; the restart waits for its delay
        assert child.restart_at is not None
        delays.append(child.restart_at - clock.now)
        clock.now = child.restart_at - 0.01
        assert sup.poll() == []
        clock.now = child.restart_at
        assert sup.poll() == [child]
        pids.append(child.pid)
    assert delays == [0.5, 1, 2, 4, 8, 16]
    assert len(set(pids)) == len(pids)
    assert child.restarts == 6
    deaths = [line for line in said if "exited with code 3" in line]
    assert len(deaths) == 6
    assert "restarting in 0.5 s" in deaths[0]
    assert "restarting in 16 s" in deaths[5]
    loops = [line for line in said if "crash-looping" in line]
    assert len(loops) == 1  # said once, not at every restart
    assert "flaky is crash-looping: 5 exits in a row" in loops[0]
    assert "cannot bind port 7233" in loops[0]  # why, without opening the log
    sup.stop()


def test_a_child_that_stayed_up_a_while_starts_its_backoff_again(tmp_path: Path) -> None:
    clock = FakeClock()
    said: list[str] = []
    sup = Supervisor([_spec(tmp_path, "svc", "exec sleep 60")], say=said.append, clock=clock)
    child = sup.start("svc")
    for _ in range(3):  # three quick deaths: 0.5, 1, 2
        assert child.proc is not None
        child.proc.kill()
        child.proc.wait()
        sup.poll()
        assert child.restart_at is not None
        clock.now = child.restart_at
        assert sup.poll() == [child]
    assert child.failures == 3
    clock.now += 30  # up long enough: recovered
    sup.poll()
    assert child.failures == 0
    assert child.proc is not None
    child.proc.kill()
    child.proc.wait()
    sup.poll()
    assert child.restart_at == pytest.approx(clock.now + 0.5)
    assert "svc (pid" in said[-1]
    assert "killed by SIGKILL" in said[-1]
    sup.stop()


def test_a_dead_child_does_not_stop_the_others(tmp_path: Path) -> None:
    clock = FakeClock()
    sup = Supervisor(
        [_spec(tmp_path, "dies", "exit 1"), _spec(tmp_path, "stays", "exec sleep 60")],
        say=lambda _line: None,
        clock=clock,
    )
    dies, stays = sup.start("dies"), sup.start("stays")
    assert dies.proc is not None
    dies.proc.wait()
    clock.now += 100
    sup.poll()
    assert stays.running
    assert stays.restarts == 0
    sup.stop()


def test_stop_ends_the_whole_process_group_and_restarts_nothing(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    sup = Supervisor(
        [
            # a grandchild in the child's group, and a child that ignores SIGTERM
            _spec(tmp_path, "parent", f"sleep 60 & echo $! > {pidfile}; wait"),
            _spec(tmp_path, "stubborn", "trap '' TERM; while true; do sleep 0.1; done"),
        ],
        say=lambda _line: None,
    )
    parent, stubborn = sup.start("parent"), sup.start("stubborn")
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    time.sleep(0.2)  # let the trap be installed
    began = time.monotonic()
    sup.stop(timeout_s=1.0)
    assert time.monotonic() - began < 5
    assert parent.proc is not None
    assert stubborn.proc is not None
    assert parent.proc.returncode is not None
    assert stubborn.proc.returncode == -signal.SIGKILL
    assert _wait_gone(grandchild)
    assert sup.poll() == []  # stopping: nothing comes back
    assert not parent.running
    assert not stubborn.running
