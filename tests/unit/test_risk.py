"""The risk classifier against hand-labelled SRE commands, plus properties it must always keep."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.runbooks import classify
from domain.runbooks.risk_base import RANK
from schemas.runbook import StepRisk

LABELS_FILE = Path(__file__).resolve().parents[1] / "data" / "risk_labels.yaml"


def _labelled() -> list[tuple[str, StepRisk]]:
    data = yaml.safe_load(LABELS_FILE.read_text())
    return [(cmd, StepRisk(level)) for level, cmds in data.items() for cmd in cmds]


LABELLED = _labelled()
SAFE_CMDS = [c for c, r in LABELLED if r is StepRisk.SAFE]
DANGEROUS_CMDS = [c for c, r in LABELLED if r is StepRisk.DANGEROUS]
CAUTION_CMDS = [c for c, r in LABELLED if r is StepRisk.CAUTION]


def test_label_set_is_big_and_covers_all_levels() -> None:
    counts = Counter(r for _, r in LABELLED)
    assert len(LABELLED) >= 80
    assert all(counts[level] >= 20 for level in StepRisk), counts


def test_agreement_with_labels() -> None:
    confusion: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []
    for command, expected in LABELLED:
        got = classify(command)
        confusion[(expected.value, got.risk.value)] += 1
        if got.risk is not expected:
            wrong.append(f"  {expected.value:>9} -> {got.risk.value:<9} {command}  {got.reasons}")
    agreement = sum(n for (e, g), n in confusion.items() if e == g) / len(LABELLED)
    table = "\n".join(
        f"  labelled {e:>9}: "
        + "  ".join(f"{g}={confusion[(e, g)]}" for g in ("safe", "caution", "dangerous"))
        for e in ("safe", "caution", "dangerous")
    )
    report = f"agreement {agreement:.1%}\n{table}\n" + "\n".join(wrong)
    assert confusion[("dangerous", "safe")] == 0, report
    assert agreement >= 0.95, report


@pytest.mark.parametrize("command", DANGEROUS_CMDS)
def test_dangerous_is_never_called_safe(command: str) -> None:
    assert classify(command).risk is not StepRisk.SAFE


def test_every_verdict_has_reasons() -> None:
    for command, _ in LABELLED:
        result = classify(command)
        assert result.reasons, command
        assert result.command == command


@pytest.mark.parametrize(
    ("command", "expected", "reason_part"),
    [
        ("kubectl delete pod x", StepRisk.DANGEROUS, "kubectl delete removes resources"),
        ("kubectl get pods | grep Crash", StepRisk.SAFE, "kubectl get only reads"),
        ("echo $(kubectl delete ns x)", StepRisk.DANGEROUS, "in $(...)"),
        ("echo `rm -rf /tmp/x`", StepRisk.DANGEROUS, "rm -r"),
        ("FOO=1 BAR=2 kubectl get pods", StepRisk.SAFE, "only reads"),
        ("sudo -u postgres psql -c 'SELECT 1'", StepRisk.SAFE, "SELECT only reads"),
        ("kubectl get pods; kubectl delete pod x", StepRisk.DANGEROUS, "delete"),
        ("kubectl get pods || kubectl rollout restart deploy/x", StepRisk.CAUTION, "restart"),
        ("bash -c 'kubectl delete pod x'", StepRisk.DANGEROUS, "bash -c"),
        ("kubectl get pods > pods.txt", StepRisk.CAUTION, "pods.txt"),
        ("kubectl get pods > /dev/null 2>&1", StepRisk.SAFE, "only reads"),
        ("kubectl get pods | tee /etc/passwd", StepRisk.DANGEROUS, "system file"),
        ("watch -n 5 kubectl delete pod x", StepRisk.DANGEROUS, "watch"),
        ("timeout 10 kubectl get pods", StepRisk.SAFE, "only reads"),
        ("kubectl exec -it web-0 -- bash", StepRisk.CAUTION, "interactive"),
        ('mysql -e "SELECT 1; DROP DATABASE shop"', StepRisk.DANGEROUS, "DROP"),
        ("curl -X PUT http://x/api -d '{}'", StepRisk.CAUTION, "PUT"),
        ("curl http://x/api --data 'a=1'", StepRisk.CAUTION, "POST"),
        ("wget -qO- http://localhost:8080/healthz", StepRisk.SAFE, "stdout"),
        ("echo 'unbalanced", StepRisk.SAFE, "echo"),
        ('kubectl get pods -l "app=web', StepRisk.SAFE, "kubectl get"),
        ("frobnicate --all", StepRisk.CAUTION, "unknown command"),
        ("kubectl delete pod x --dry-run=client", StepRisk.SAFE, "dry-run"),
        ("cat <<EOF | kubectl apply -f -\nkind: X\nrm -rf /\nEOF", StepRisk.CAUTION, "apply"),
    ],
)
def test_structure_is_understood(command: str, expected: StepRisk, reason_part: str) -> None:
    result = classify(command)
    assert result.risk is expected, result
    assert any(reason_part in r for r in result.reasons), result.reasons


def test_sudo_is_mentioned_when_everything_else_reads() -> None:
    assert "runs as root (sudo)" in classify("sudo journalctl -u kubelet").reasons


# ---- properties -----------------------------------------------------------------------------

_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ops = st.sampled_from([" && ", " ; ", " || ", " | xargs ", "\n"])


@_settings
@given(st.sampled_from(SAFE_CMDS), _ops)
def test_appending_rm_rf_is_never_safe(command: str, op: str) -> None:
    tail = "rm -rf /" if "xargs" not in op else "rm -rf"
    result = classify(f"{command}{op}{tail}")
    assert result.risk is StepRisk.DANGEROUS, result


@_settings
@given(st.sampled_from(SAFE_CMDS + CAUTION_CMDS), st.sampled_from(DANGEROUS_CMDS), _ops)
def test_the_riskiest_part_wins(first: str, second: str, op: str) -> None:
    if "xargs" in op:
        op = " && "
    assert classify(f"{first}{op}{second}").risk is StepRisk.DANGEROUS


@_settings
@given(st.sampled_from(DANGEROUS_CMDS))
def test_dangerous_inside_subshell_stays_dangerous(command: str) -> None:
    if "'" in command:
        return  # quoting would change the inner command itself
    assert classify(f"echo $({command})").risk is StepRisk.DANGEROUS


@_settings
@given(st.sampled_from([c for c, _ in LABELLED]))
def test_sudo_and_env_prefix_never_lower_the_risk(command: str) -> None:
    base = RANK[classify(command).risk]
    assert RANK[classify(f"sudo {command}").risk] >= base
    assert RANK[classify(f"LANG=C {command}").risk] >= base


@_settings
@given(st.text(min_size=1, max_size=120))
def test_never_raises_and_always_explains(text: str) -> None:
    result = classify(text)
    assert result.risk in set(StepRisk)
    assert result.reasons


_unknown_word = st.from_regex(r"[a-z]{3,10}zq", fullmatch=True)


@_settings
@given(_unknown_word, st.lists(st.from_regex(r"[a-z0-9-]{1,8}", fullmatch=True), max_size=4))
def test_unknown_commands_are_never_safe(word: str, args: list[str]) -> None:
    assert classify(" ".join([word, *args])).risk is not StepRisk.SAFE
