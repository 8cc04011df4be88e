"""What bytecode saves the workflow sandbox: replay time of recorded incident histories from a
copy of our packages without `__pycache__` (as PYTHONDONTWRITEBYTECODE left them), then from
the same copy after `infra.bytecode.ensure_bytecode`, each in a fresh process, in one run.

Usage: python bench/replay_bytecode.py [--histories 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from infra.bytecode import PACKAGES, ensure_bytecode

PROBE = """
import asyncio, json, sys, time
from pathlib import Path
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from workflows.incident import IncidentWorkflow

async def main():
    files = sorted(Path(sys.argv[1]).glob("*.json"))[: int(sys.argv[2])]
    out = []
    for f in files:
        history = WorkflowHistory.from_json("h", f.read_text())
        replayer = Replayer(workflows=[IncidentWorkflow], data_converter=pydantic_data_converter)
        start = time.perf_counter()
        await replayer.replay_workflow(history)
        out.append((time.perf_counter() - start) * 1000)
    print(json.dumps(out))

asyncio.run(main())
"""


def replay_ms(root: Path, histories: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    folder = REPO / "tests" / "replay" / "histories"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), str(histories)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    values: list[float] = json.loads(out.stdout)
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="ddrun-bytecode-") as tmp:
            root = Path(tmp)
            for name in PACKAGES:
                shutil.copytree(
                    REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__")
                )
            cold += replay_ms(root, args.histories)
            ensure_bytecode(root)
            warm += replay_ms(root, args.histories)
    report = {
        "replays": len(cold),
        "without_bytecode_median_ms": statistics.median(cold),
        "with_bytecode_median_ms": statistics.median(warm),
        "ratio": statistics.median(cold) / statistics.median(warm),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
