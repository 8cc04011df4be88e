"""How fast `ddrun` answers: `--help`, `--version` and `version` against a bare interpreter.

    .venv/bin/python bench/cli_startup.py --runs 15 [--also /work/main]

Each case runs as its own process, interleaved round by round so a noisy neighbour hits every
case alike; reported: median and p90 wall time, the median's excess over bare `python -c pass`
measured in the same run, CPU time (user + system, steadier than wall time on a shared
machine) and each process's peak RSS (both from wait4). `--also DIR` measures the
same commands from another checkout (e.g. the code before the CLI was split), in the same run;
a two-command typer app shows the framework's own floor (typer and rich help rendering).
Goal (issue #14): help and simple commands ≤ 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS: dict[str, list[str]] = {
    "ddrun --help": ["-m", "cli.main", "--help"],
    "ddrun --version": ["-m", "cli.main", "--version"],
    "ddrun version": ["-m", "cli.main", "version"],
}


#: The least any typer CLI costs: import typer, build two commands, render help with rich.
TYPER_FLOOR = """
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "x") -> None:
    "Say hello."


@app.command()
def bye() -> None:
    "Say bye."


app()
"""


def run_once(args: list[str], pythonpath: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system), peak RSS MiB) of one process."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "COLUMNS": "100"}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=pythonpath,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 2):  # 2: an old CLI without `version`
        raise RuntimeError(f"{args} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--also", type=Path, action="append", default=[])
    opts = parser.parse_args()
    cases: dict[str, tuple[list[str], Path]] = {
        "python -c pass": (["-c", "pass"], REPO),
        "bare typer app --help (framework floor)": (["-c", TYPER_FLOOR, "--help"], REPO),
    }
    for name, args in COMMANDS.items():
        cases[name] = (args, REPO)
        for other in opts.also:
            cases[f"{name} [{other}]"] = (args, other)
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
    for args, where in cases.values():  # warm the file cache once
        run_once(args, where)
    for _ in range(opts.runs):
        for name, (args, where) in cases.items():
            samples[name].append(run_once(args, where))
    bare = statistics.median(w for w, _, _ in samples["python -c pass"])
    print(f"{'case':<48} {'median s':>9} {'p90 s':>7} {'- bare s':>9} {'cpu s':>7} {'RSS MiB':>8}")
    for name, got in samples.items():
        walls = sorted(w for w, _, _ in got)
        p90 = walls[min(len(walls) - 1, int(0.9 * len(walls)))]
        median = statistics.median(walls)
        cpu = statistics.median(c for _, c, _ in got)
        rss = statistics.median(r for _, _, r in got)
        print(f"{name:<48} {median:9.3f} {p90:7.3f} {median - bare:9.3f} {cpu:7.3f} {rss:8.1f}")
    print(f"runs: {opts.runs} per case, interleaved; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
