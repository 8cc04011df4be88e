"""Every patch the incident flow asks for is one a new run decides at its start
(workflows/incident/versions.py): a patch asked for only where it is used could find its marker
in another workflow task on replay."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO
from workflows.incident import versions


def _patched_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for path in sorted((REPO / "workflows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("patched", "deprecate_patch")
            ):
                calls.append((path, node))
    return calls


def test_every_patch_asked_for_is_decided_at_the_start() -> None:
    calls = _patched_calls()
    assert len(calls) >= len(versions.CURRENT)
    for path, call in calls:
        where = f"{path.relative_to(REPO)}:{call.lineno}"
        (argument,) = call.args
        assert isinstance(argument, ast.Name), f"{where}: name the patch in versions.py"
        if argument.id == "patch" and path.name == "versions.py":
            continue  # decide_at_start's own loop
        assert argument.id.startswith("PATCH_"), where
        value = getattr(versions, argument.id)
        assert value in versions.CURRENT or value == versions.PATCH_DECIDED_AT_START, where


def test_patch_ids_are_unique() -> None:
    assert len(set(versions.CURRENT)) == len(versions.CURRENT)
    assert versions.PATCH_DECIDED_AT_START not in versions.CURRENT
