"""`ddrun match` on real captured payloads against the corpus runbooks, and `ddrun mappings`."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from db.engine import create_schema, make_engine
from schemas.identity import Role
from tests.harness import running_stack, serving, token_of, unique
from tests.support import CORPUS, REPO

WEBHOOKS = CORPUS / "alertmanager-webhooks"
INDEX = {e["file"]: e for e in json.loads((WEBHOOKS / "index.json").read_text())}
ENV = {k: v for k, v in os.environ.items() if not k.startswith("DDRUN_")}


def ddrun(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env={**ENV, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def json_lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def assert_shape(answer: dict[str, Any]) -> None:
    assert set(answer) == {"runbook", "confidence", "candidates"}
    assert answer["runbook"] is None or isinstance(answer["runbook"], str)
    assert isinstance(answer["confidence"], float)
    assert 0.0 <= answer["confidence"] <= 1.0
    for candidate in answer["candidates"]:
        assert set(candidate) == {"runbook", "score", "reasons"}
        assert isinstance(candidate["runbook"], str)
        assert 0.0 <= candidate["score"] <= 1.0
        assert candidate["reasons"]
        assert all(isinstance(r, str) for r in candidate["reasons"])


@pytest.mark.parametrize(
    "payload",
    [
        "02-critical-cluster-scope-KubeletDown-firing.json",
        "05-critical-monitoring-NodeFilesystemSpaceFillingUp-firing.json",
        "10-critical-payments-KubePersistentVolumeFillingUp-firing.json",
        "13-default-payments-TargetDown-firing.json",
        "26-default-checkout-KubeDeploymentReplicasMismatch+KubePodCrashLooping+KubePodNotReady-firing.json",
    ],
)
def test_captured_payloads_get_their_runbook(payload: str) -> None:
    # The whole corpus folder: upstream and OpenShift runbooks (same-named distractors) and
    # files that are no runbook at all (Alertmanager configs, rule manifests: skipped).
    done = ddrun("match", str(WEBHOOKS / payload), "--runbooks", str(CORPUS), "--json")
    answers = json_lines(done)
    expected = [a["runbook_file"] for a in INDEX[payload]["alerts"]]
    assert len(answers) == len(expected)  # one object per alert of the group
    for answer, want in zip(answers, expected, strict=True):
        assert_shape(answer)
        assert answer["runbook"] == want  # a path relative to DIR
        assert answer["confidence"] >= 0.9
        assert answer["candidates"][0]["runbook"] == want
    assert "skipped" in done.stderr  # what could not be read as a runbook is said, not fatal


def test_without_runbook_url_the_name_still_finds_the_upstream_runbook(tmp_path: Path) -> None:
    data = json.loads(
        (WEBHOOKS / "10-critical-payments-KubePersistentVolumeFillingUp-firing.json").read_text()
    )
    for alert in data["alerts"]:
        alert["annotations"].pop("runbook_url", None)
    data["commonAnnotations"].pop("runbook_url", None)
    payload = tmp_path / "stripped.json"
    payload.write_text(json.dumps(data))
    [answer] = json_lines(ddrun("match", str(payload), "--runbooks", str(CORPUS), "--json"))
    assert (
        answer["runbook"]
        == "prometheus-operator-runbooks/kubernetes/KubePersistentVolumeFillingUp.md"
    )
    keys = [c["runbook"] for c in answer["candidates"]]
    assert "openshift-runbooks/cluster-monitoring-operator/KubePersistentVolumeFillingUp.md" in keys


def test_runbooks_dir_of_one_collection_gives_paths_relative_to_it() -> None:
    folder = CORPUS / "prometheus-operator-runbooks"
    payload = WEBHOOKS / "15-default-payments-KubePodCrashLooping-firing.json"
    answers = json_lines(ddrun("match", str(payload), "--runbooks", str(folder), "--json"))
    assert [a["runbook"] for a in answers] == ["kubernetes/KubePodCrashLooping.md"] * 2


def test_generic_payload_by_text_and_the_threshold(tmp_path: Path) -> None:
    folder = CORPUS / "prometheus-operator-runbooks"
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"name": "Kubernetes API server is unreachable"}))
    [answer] = json_lines(ddrun("match", str(page), "--runbooks", str(folder), "--json"))
    assert_shape(answer)
    assert answer["runbook"] == "kubernetes/KubeAPIDown.md"
    assert 0.45 <= answer["confidence"] < 1.0
    strict = ddrun("match", str(page), "--runbooks", str(folder), "--json", "--threshold", "1")
    [refused] = json_lines(strict)
    assert refused["runbook"] is None
    assert refused["confidence"] == answer["confidence"]
    assert refused["candidates"][0]["runbook"] == "kubernetes/KubeAPIDown.md"

    coffee = tmp_path / "coffee.json"
    coffee.write_text(json.dumps({"name": "Coffee machine on floor 3 is out of beans"}))
    [none] = json_lines(ddrun("match", str(coffee), "--runbooks", str(folder), "--json"))
    assert none["runbook"] is None
    assert none["confidence"] < 0.45


def test_readable_output_names_runbook_confidence_and_variables() -> None:
    payload = WEBHOOKS / "10-critical-payments-KubePersistentVolumeFillingUp-firing.json"
    done = ddrun("match", str(payload), "--runbooks", str(CORPUS / "prometheus-operator-runbooks"))
    assert done.returncode == 0, done.stderr
    assert "kubernetes/KubePersistentVolumeFillingUp.md" in done.stdout
    assert "confidence 1.00 (selector)" in done.stdout  # the parsed runbook claims its alert
    assert "variables filled:" in done.stdout
    assert "namespace=payments" in done.stdout


def test_bad_input_is_refused_clearly(tmp_path: Path) -> None:
    folder = str(CORPUS / "prometheus-operator-runbooks")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = ddrun("match", str(broken), "--runbooks", folder)
    assert done.returncode == 2
    assert "not valid JSON" in done.stderr
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"hello": "world"}))
    done = ddrun("match", str(unknown), "--runbooks", folder)
    assert done.returncode == 2
    assert "not a payload of any supported source" in done.stderr
    wrong = ddrun("match", str(unknown), "--runbooks", folder, "--source", "alertmanager")
    assert wrong.returncode == 2
    assert "Alertmanager" in wrong.stderr
    missing = ddrun("match", str(tmp_path / "nope.json"), "--runbooks", folder)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"name": "x"}))
    assert ddrun("match", str(page), "--runbooks", str(empty)).returncode == 1


async def _ddrun(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`ddrun` without blocking the event loop that serves the API it talks to."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        cwd=REPO,
        env={**ENV, "COLUMNS": "200", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return subprocess.CompletedProcess(list(args), proc.returncode or 0, out.decode(), err.decode())


@pytest.mark.temporal
async def test_database_runbooks_and_mappings(client: Client, tmp_path: Path) -> None:
    """Mappings are written through the API as the token's person; `match` reads the database."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ddrun.db'}"
    engine = make_engine(url)
    await create_schema(engine)
    async with running_stack(client, engine, with_agent=False) as stack, serving(stack) as api:
        author = unique("mapper-")
        token = token_of(await stack.person(author, (Role.AUTHOR,)))
        env = {
            "DDRUN_DATABASE_URL": url,
            "DDRUN_API_URL": api,
            "DDRUN_TOKEN": token,
            "DDRUN_DATA_DIR": str(tmp_path / "no-stack"),  # no dev stack's token to fall back on
            "XDG_CONFIG_HOME": str(tmp_path / "config"),  # nor a saved login
        }
        folder = tmp_path / "runbooks"
        for name in ("KubePodCrashLooping.md", "KubePodNotReady.md"):
            (folder / "kubernetes").mkdir(parents=True, exist_ok=True)
            shutil.copy(
                CORPUS / "prometheus-operator-runbooks" / "kubernetes" / name, folder / "kubernetes"
            )
        assert (await _ddrun("import", str(folder), env=env)).returncode == 0
        payload = str(WEBHOOKS / "16-default-checkout-KubePodCrashLooping-firing.json")

        [by_name] = json_lines(await _ddrun("match", payload, "--json", env=env))
        assert by_name["runbook"] == "kubernetes-kubepodcrashlooping"  # the database's runbook id

        added = await _ddrun(
            "mappings", "add", "kubernetes-kubepodnotready", "--alertname", "KubePodCrashLooping",
            "--label", "namespace=~check.*", "--note", "checkout's own", "--json", env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        mapping = json.loads(added.stdout)
        assert mapping["selector"]["labels"] == {"namespace": "~check.*"}
        assert mapping["created_by"] == author  # the token's person, not a typed name
        [mapped] = json_lines(await _ddrun("match", payload, "--json", env=env))
        assert (mapped["runbook"], mapped["confidence"]) == ("kubernetes-kubepodnotready", 1.0)
        assert "explicit mapping" in mapped["candidates"][0]["reasons"][0]

        listed = await _ddrun("mappings", "list", "--json", env=env)
        assert [m["id"] for m in json.loads(listed.stdout)] == [mapping["id"]]
        duplicate = await _ddrun(
            "mappings", "add", "kubernetes-kubepodcrashlooping", "--alertname",
            "KubePodCrashLooping", "--label", "namespace=~check.*", env=env,
        )  # fmt: skip
        assert duplicate.returncode == 2
        assert "already exists" in duplicate.stderr
        unknown = await _ddrun("mappings", "add", "no-such-runbook", "--service", "x", env=env)
        assert unknown.returncode == 2
        assert "no runbook 'no-such-runbook'" in unknown.stderr
        bad = await _ddrun(
            "mappings", "add", "kubernetes-kubepodnotready", "--label", "pod=~(", env=env
        )
        assert bad.returncode == 2
        assert "not a valid regex" in bad.stderr
        assert (
            await _ddrun("mappings", "add", "kubernetes-kubepodnotready", env=env)
        ).returncode == 2
        anonymous = await _ddrun(
            "mappings", "remove", str(mapping["id"]), env={**env, "DDRUN_TOKEN": ""}
        )
        assert anonymous.returncode == 2
        assert "ddrun login" in anonymous.stderr

        removed = await _ddrun("mappings", "remove", str(mapping["id"]), env=env)
        assert removed.returncode == 0, removed.stderr
        assert (await _ddrun("mappings", "remove", str(mapping["id"]), env=env)).returncode == 1
        [again] = json_lines(await _ddrun("match", payload, "--json", env=env))
        assert again["runbook"] == "kubernetes-kubepodcrashlooping"
    await engine.dispose()


def test_incidents_show_prints_confidence_candidates_and_variables() -> None:
    from datetime import UTC, datetime

    from cli.commands.options import console
    from cli.incident_view import print_state
    from schemas.incident import IncidentState, IncidentStatus, MatchCandidate

    state = IncidentState(
        id="incident-x",
        status=IncidentStatus.AWAITING_APPROVAL,
        service="payments",
        severity="critical",
        title="Pod is crash looping",
        opened_at=datetime(2026, 11, 22, tzinfo=UTC),
        runbook="kubernetes-kubepodcrashlooping",
        runbook_version=3,
        match_reason="matched by alert name 'KubePodCrashLooping' equals the runbook's name",
        match_confidence=0.95,
        match_method="name",
        match_candidates=[
            MatchCandidate(runbook="kubernetes-kubepodcrashlooping", score=0.9, reasons=["a"]),
            MatchCandidate(runbook="vendor-kubepodcrashlooping", score=0.7, reasons=["b", "c"]),
        ],
        variables={"namespace": "payments"},
        missing_variables=["pod"],
    )
    with console().capture() as captured:
        print_state(console(), state, None, everything=False)
    shown = captured.get()
    assert "kubernetes-kubepodcrashlooping v3 (confidence 0.95, name)" in shown
    assert "variables filled: namespace=payments" in shown
    assert "missing variables: pod" in shown
    assert "runners-up: vendor-kubepodcrashlooping 0.70 — b; c" in shown

    unmatched = state.model_copy(
        update={"runbook": None, "match_confidence": 0.3, "match_method": "none"}
    )
    with console().capture() as captured:
        print_state(console(), unmatched, None, everything=False)
    shown = captured.get()
    assert "runbook: none (confidence 0.30, none)" in shown
    assert "candidates: kubernetes-kubepodcrashlooping 0.90 — a" in shown
