"""`ddrun parse` and `ddrun classify` as a user runs them (offline, no LLM configured)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import CORPUS, REPO

ENV = {k: v for k, v in os.environ.items() if not k.startswith("DDRUN_LLM")}


def ddrun(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env={**ENV, "COLUMNS": "200"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_parse_json_has_the_documented_shape() -> None:
    path = CORPUS / "prometheus-operator-runbooks" / "kubernetes" / "KubePodCrashLooping.md"
    done = ddrun("parse", str(path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["title"] == "Kube Pod Crash Looping"
    assert isinstance(data["prerequisites"], list)
    assert {v["name"] for v in data["variables"]} >= {"namespace", "pod"}
    for step in data["steps"]:
        assert set(step) >= {"id", "title", "command", "risk", "rollback", "condition"}
        assert step["risk"] in ("safe", "caution", "dangerous")
    commands = [s["command"] for s in data["steps"] if s["command"]]
    assert "kubectl -n {{ namespace }} describe pod {{ pod }}" in commands
    assert all({"step_id", "message"} <= set(a) for a in data["ambiguities"])
    assert data["llm"]["used"] is False


def test_parse_reads_stdin_and_prints_readably() -> None:
    text = (
        "# Restart\n\n1. Check it with `kubectl get pods -n $NAMESPACE`.\n"
        "2. If it is stuck, run `kubectl -n $NAMESPACE rollout restart deploy/api`.\n"
    )
    done = ddrun("parse", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    assert "SAFE" in done.stdout
    assert "CAUTION" in done.stdout
    assert "rollback:" in done.stdout
    assert "rollout undo" in done.stdout


def test_classify_json() -> None:
    done = ddrun("classify", "psql -c 'DROP TABLE users'", "--json")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["command"] == "psql -c 'DROP TABLE users'"
    assert verdict["risk"] == "dangerous"
    assert verdict["reasons"]
    empty = ddrun("parse", "-", stdin="   ")
    assert empty.returncode == 1
    assert "empty" in empty.stdout
