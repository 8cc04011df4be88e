"""Every shipped runbook, every command, rollback and capture, with hostile values in every
variable, rendered through `prepare` and executed behind the ssh/kubectl/docker/su/sudo shims."""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from domain.alerts.prefill import prepare
from schemas.runbook import Runbook
from tests.hostile.render_shims import Sandbox, hostile_values, make_sandbox
from tests.unit.alert_support import firing_alert

RUNBOOKS = sorted((Path(__file__).parents[2] / "runbooks").glob("*.yml"))
BENIGN = {
    "namespace": "default",
    "persistentvolumeclaim": "data-db-0",
    "pod": "web-1",
    "container": "app",
    "deployment": "web",
    "instance": "node-1",
    "mountpoint": "/var/lib",
    "job": "api",
    "service": "api",
    "new_size": "200Gi",
    "port": "8099",
    "log_file": "demo/demo.log",
    "config_file": "demo/config.json",
    "last_good_config": "demo/config.last-good.json",
    "data_dir": "demo/data",
}


def _load(path: Path) -> Runbook:
    return Runbook.model_validate(yaml.safe_load(path.read_text()))


def _labels(runbook: Runbook, hostile: dict[str, str]) -> dict[str, str]:
    labels = dict(BENIGN)
    for variable in runbook.variables:
        key = (variable.source or f"label:{variable.name}").partition(":")[2]
        if variable.name in hostile:
            labels[key] = hostile[variable.name]
    return labels


def _commands(runbook: Runbook, hostile: dict[str, str]) -> list[str] | None:
    """Every command the agent could be sent without a human edit (None: alert not accepted)."""
    try:
        alert = firing_alert("Hostile", labels=_labels(runbook, hostile))
    except ValidationError:
        return None
    selected = prepare(runbook, alert, "hostile test")
    out: list[str] = []
    for step in selected.rendered:
        if step.command is not None and not any(r.part == "command" for r in step.refused):
            out.append(step.command)
        if step.rollback is not None:
            out.append(step.rollback)
        out.extend(step.capture.values())
    return out


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with tempfile.TemporaryDirectory(prefix="ddrun-runbooks-") as root:
        yield make_sandbox(Path(root))


@pytest.mark.parametrize("path", RUNBOOKS, ids=[p.stem for p in RUNBOOKS])
def test_hostile_values_in_shipped_runbooks_execute_nothing(sandbox: Sandbox, path: Path) -> None:
    runbook = _load(path)
    names = [v.name for v in runbook.variables]
    cases: list[dict[str, str]] = []
    for value in hostile_values(sandbox.marker):
        cases.append(dict.fromkeys(names, value))
        if value.startswith("-"):  # refused wholesale above; each variable alone gets further
            cases += [{name: value} for name in names]
    seen: set[str] = set()
    for hostile in cases:
        for command in _commands(runbook, hostile) or []:
            if command in seen:
                continue
            seen.add(command)
            sandbox.run(command)
            assert sandbox.executed() == [], f"{path.name}: {hostile!r} executed via {command!r}"
    assert len(seen) > 40, f"{path.name}: only {len(seen)} distinct commands were run"


def test_shipped_runbooks_render_ordinary_values_unchanged() -> None:
    """Behaviour kept: ordinary labels render with nothing refused, as the operator expects."""
    rendered: dict[str, str | None] = {}
    for path in RUNBOOKS:
        runbook = _load(path)
        selected = prepare(runbook, firing_alert("Ok", labels=_labels(runbook, {})), "ok")
        for step in selected.rendered:
            assert step.refused == [], (path.name, step.step_id, step.refused)
            rendered[f"{runbook.id}/{step.step_id}"] = step.command
    assert rendered["node-filesystem-space-filling-up/disk-usage"] == (
        "ssh -- node-1 df -h -- /var/lib"
    )
    assert rendered["node-filesystem-space-filling-up/biggest-dirs"] == (
        'ssh -- node-1 "sudo du -xh --max-depth=2 -- /var/lib | sort -rh | head -20"'
    )
    assert rendered["kube-pod-crashlooping/previous-logs"] == (
        "kubectl -n default logs web-1 -c app --previous --tail=200"
    )


def test_the_reported_payloads_are_refused_or_quoted_for_the_remote_shell(
    sandbox: Sandbox,
) -> None:
    runbook = _load(next(p for p in RUNBOOKS if p.stem == "node-filesystem-space-filling-up"))
    proxy = f"-oProxyCommand=touch {sandbox.marker}"
    selected = prepare(
        runbook, firing_alert("Fs", labels=_labels(runbook, {"instance": proxy})), "t"
    )
    # `ssh -- HOST`: the value is a (bad) host name, never an option.
    host = shlex.quote(proxy)
    assert all(s.command and s.command.startswith(f"ssh -- {host} ") for s in selected.rendered)
    splice = f"/; touch {sandbox.marker}"
    selected = prepare(
        runbook, firing_alert("Fs", labels=_labels(runbook, {"mountpoint": splice})), "t"
    )
    biggest = next(s for s in selected.rendered if s.step_id == "biggest-dirs")
    assert biggest.command is not None
    out = sandbox.run(biggest.command).stdout.decode()
    assert f"'{splice}'" in out  # the fake du got the whole value as one argument
    assert sandbox.executed() == []
