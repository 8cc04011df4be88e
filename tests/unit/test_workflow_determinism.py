"""What Temporal's sandbox refuses at run time, refused in every module of `workflows/` before
anything runs: the production worker runs the workflows unsandboxed (workers/orchestrator.py),
the test suite's workers and every replay run them in the strict sandbox.

A workflow reads the time with `workflow.now()`, sleeps with timers, gets randomness and ids from
`workflow.random()` / `workflow.uuid4()`, and reaches the world only through activities.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO

WORKFLOWS = sorted((REPO / "workflows").rglob("*.py"))
#: Modules whose use makes a replay differ from the run (or does I/O from a workflow).
FORBIDDEN_MODULES = {
    "random",
    "secrets",
    "uuid",
    "time",
    "os",
    "socket",
    "subprocess",
    "threading",
    "multiprocessing",
    "requests",
}
#: Calls on otherwise allowed names that read the machine's clock or the world.
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
FORBIDDEN_NAMES = {"open", "input", "print"}


def _offences(path: Path, root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{where} import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _forbidden(node.module):
            found.append(f"{where} from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                found.append(f"{where} {func.id}()")
            elif (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id, func.attr) in FORBIDDEN_CALLS
            ):
                found.append(f"{where} {func.value.id}.{func.attr}()")
    return found


def _forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN_MODULES


def test_there_are_workflow_modules_to_check() -> None:
    assert len(WORKFLOWS) >= 20


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(REPO)))
def test_workflow_code_makes_no_non_deterministic_call(path: Path) -> None:
    assert _offences(path) == []


def test_the_check_finds_what_the_sandbox_would_refuse(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import random\nfrom datetime import datetime\nimport uuid\n"
        "def f():\n    return datetime.now(), random.random(), uuid.uuid4(), open('x')\n"
    )
    offences = _offences(bad, tmp_path)
    assert len(offences) == 4, offences
    assert any("datetime.now()" in o for o in offences)
    assert any("open()" in o for o in offences)
