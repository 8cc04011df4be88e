"""Every change the incident flow guards is answered from the run's flow version, decided when
the run starts (workflows/incident/versions.py): a patch asked for only where it is used could
find its marker in another workflow task on replay."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO
from workflows.incident import versions

VERSIONS_PY = REPO / "workflows" / "incident" / "versions.py"


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    calls = []
    for path in sorted((REPO / "workflows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                calls.append((path, node))
    return calls


def test_only_versions_asks_temporal_for_patches() -> None:
    for name in ("patched", "deprecate_patch"):
        for path, call in _calls(name):
            assert path == VERSIONS_PY, f"{path.relative_to(REPO)}:{call.lineno}: use versions.has"


def test_every_guarded_change_is_a_listed_patch() -> None:
    calls = [(p, c) for p, c in _calls("has") if p != VERSIONS_PY]
    assert len(calls) >= len(versions.CURRENT)
    for path, call in calls:
        where = f"{path.relative_to(REPO)}:{call.lineno}"
        (argument,) = call.args
        assert isinstance(argument, ast.Name), f"{where}: name the patch in versions.py"
        assert getattr(versions, argument.id) in versions.CURRENT, where


def test_each_patch_came_with_a_flow_version() -> None:
    assert len(set(versions.CURRENT)) == len(versions.CURRENT)
    assert set(versions.INTRODUCED_IN) == set(versions.CURRENT)
    assert set(versions.INTRODUCED_IN.values()) <= set(range(1, len(versions.FLOW_VERSIONS) + 1))
    assert not set(versions.FLOW_VERSIONS) & set(versions.CURRENT)


def test_a_run_older_than_flow_versions_never_takes_a_later_versions_change() -> None:
    """Answered without asking Temporal (no marker mid-run): the old run keeps its old path."""
    old = versions.Versions()  # flow 0
    later = [p for p in versions.CURRENT if versions.INTRODUCED_IN[p] > 1]
    assert later
    for patch in later:
        assert not old.has(patch)
