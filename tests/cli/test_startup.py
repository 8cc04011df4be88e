"""`ddrun --help` and simple commands answer without loading the product (issue #14): no database
engine, Temporal client, LLM client or web framework is imported before a command needs it.
Checked with `python -X importtime`, which lists every module a process imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPO

HEAVY = ("sqlalchemy", "temporalio", "litellm", "fastapi", "httpx", "pydantic_settings")


def _imported(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert modules, done.stderr[-2000:]  # importtime did report
    return modules


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("version",),
        ("--version",),
        ("incidents", "--help"),
        ("runbooks", "--help"),
        ("run", "--help"),
        ("db", "--help"),
    ],
)
def test_help_and_simple_commands_load_no_product(args: tuple[str, ...]) -> None:
    modules = _imported(*args)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"ddrun {' '.join(args)} imported {heavy}"
    ours = sorted(
        m for m in modules if m.split(".")[0] in ("db", "workflows", "activities", "api", "infra")
    )
    assert ours == [], f"ddrun {' '.join(args)} imported {ours}"


def test_a_command_imports_what_it_needs_when_it_runs() -> None:
    """The check sees lazy imports: a command that classifies loads the classifier then."""
    modules = _imported("classify", "kubectl get pods")
    assert "domain.runbooks.risk" in modules
