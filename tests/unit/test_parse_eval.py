"""The parser evaluation on the tuning sets, with floors so a regression fails.

The floors sit a little under the figures measured when they were set. Set B
(tests/data/tuning/runbooks-b) was written for the weak styles (Slack threads, Confluence exports,
numbered lists with rollback sections) before the parser was changed for them. Set C
(tests/data/heldout/runbooks, README-a.md/README-b.md) was the held-out set until its failures
were looked at (2026-12-03); from then on it is a tuning set and gets floors too. Set D
(tests/data/heldout2/runbooks, README-c.md), written by someone who had not read the parser, was
measured once as held out (commands kept 87.4%, rollbacks 30.6%) and then became a tuning set in
the parser's round 2; its floors sit under the figures of that round. A fresh held-out set gets
none: it is measured, never tuned to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.parse_eval import evaluate, in_text, load, norm_command, score

TUNING = Path(__file__).resolve().parents[1] / "data" / "tuning" / "runbooks"
TUNING_B = TUNING.parent / "runbooks-b"
TUNING_C = TUNING.parents[1] / "heldout" / "runbooks"  # seen, so now tuned on
TUNING_D = TUNING.parents[1] / "heldout2" / "runbooks"  # seen in round 2, so now tuned on

FLOORS = {
    "step_recall": 95.0,
    "step_precision": 95.0,
    "command_exact": 95.0,
    "commands_kept": 97.0,
    "rollbacks_attached": 90.0,
    "variable_recall": 90.0,
    "risk_agreement": 85.0,
    "condition_recall": 90.0,
    "approval_recall": 90.0,
    "wait_recall": 90.0,
}


FLOORS_B = {
    "step_recall": 95.0,
    "step_precision": 95.0,
    "command_exact": 95.0,
    "commands_kept": 97.0,
    "rollbacks_attached": 90.0,
    "variable_recall": 90.0,
    "risk_agreement": 85.0,
    "condition_recall": 90.0,
    "approval_recall": 90.0,
    "wait_recall": 90.0,
}


FLOORS_C = {
    "step_recall": 92.0,
    "step_precision": 95.0,
    "command_exact": 96.0,
    "commands_kept": 97.0,
    "rollbacks_attached": 95.0,
    "variable_recall": 95.0,
    "risk_agreement": 88.0,
    "condition_recall": 77.0,
    "approval_recall": 88.0,
    "wait_recall": 80.0,
}


FLOORS_D = {
    "step_recall": 86.0,
    "step_precision": 92.0,
    "command_exact": 95.5,
    "commands_kept": 96.5,
    "rollbacks_attached": 86.0,
    "variable_recall": 97.0,
    "risk_agreement": 80.0,
    "condition_recall": 71.0,
    "approval_recall": 75.0,
    "wait_recall": 62.0,
}


@pytest.fixture(scope="module")
def figures_d() -> dict[str, float | int]:
    docs = load([TUNING_D])
    assert len(docs) >= 40
    return evaluate(docs)["all"].figures()


@pytest.mark.parametrize("name", sorted(FLOORS_D))
def test_tuning_set_d_floor(figures_d: dict[str, float | int], name: str) -> None:
    assert figures_d[name] >= FLOORS_D[name], f"{name} fell to {figures_d[name]}"


def test_tuning_set_d_invents_no_command_and_misplaces_few_rollbacks(
    figures_d: dict[str, float | int],
) -> None:
    assert figures_d["invented_commands"] == 0
    assert figures_d["rollbacks_misplaced"] <= 2
    assert figures_d["parse_errors"] == 0


@pytest.fixture(scope="module")
def figures_c() -> dict[str, float | int]:
    docs = load([TUNING_C])
    assert len(docs) >= 64
    return evaluate(docs)["all"].figures()


@pytest.mark.parametrize("name", sorted(FLOORS_C))
def test_tuning_set_c_floor(figures_c: dict[str, float | int], name: str) -> None:
    assert figures_c[name] >= FLOORS_C[name], f"{name} fell to {figures_c[name]}"


def test_tuning_set_c_has_no_invented_commands_or_misplaced_rollbacks(
    figures_c: dict[str, float | int],
) -> None:
    assert figures_c["invented_commands"] == 0
    assert figures_c["rollbacks_misplaced"] == 0
    assert figures_c["parse_errors"] == 0


@pytest.fixture(scope="module")
def figures_b() -> dict[str, float | int]:
    docs = load([TUNING_B])
    assert len(docs) >= 24
    return evaluate(docs)["all"].figures()


@pytest.mark.parametrize("name", sorted(FLOORS_B))
def test_tuning_set_b_floor(figures_b: dict[str, float | int], name: str) -> None:
    assert figures_b[name] >= FLOORS_B[name], f"{name} fell to {figures_b[name]}"


def test_tuning_set_b_has_no_invented_commands_or_misplaced_rollbacks(
    figures_b: dict[str, float | int],
) -> None:
    assert figures_b["invented_commands"] == 0
    assert figures_b["rollbacks_misplaced"] == 0
    assert figures_b["parse_errors"] == 0


@pytest.fixture(scope="module")
def figures() -> dict[str, float | int]:
    docs = load([TUNING])
    assert len(docs) >= 30
    return evaluate(docs)["all"].figures()


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_tuning_set_floor(figures: dict[str, float | int], name: str) -> None:
    assert figures[name] >= FLOORS[name], f"{name} fell to {figures[name]}"


def test_tuning_set_has_no_invented_commands_or_misplaced_rollbacks(
    figures: dict[str, float | int],
) -> None:
    assert figures["invented_commands"] == 0
    assert figures["rollbacks_misplaced"] == 0
    assert figures["parse_errors"] == 0


def test_placeholders_compare_equal_whatever_their_spelling() -> None:
    assert norm_command("kubectl logs <pod> -n $NS") == norm_command(
        "kubectl logs {{ pod }} -n {{ ns }}"
    )
    assert norm_command("kubectl logs a") != norm_command("kubectl logs b")


def test_a_command_not_in_the_text_is_invented() -> None:
    source = "restart it with kubectl rollout restart deploy/x -n y"
    assert in_text("kubectl rollout restart deploy/x -n {{ namespace }}", source)
    assert not in_text("kubectl delete deploy/x -n y", source)


def test_the_scorer_sees_a_wrong_parse() -> None:
    """Expectations that the parse does not meet must lower the figures (the eval can fail)."""
    doc = {
        "id": "wrong",
        "style": "wiki",
        "text": "Disk\n\nCheck usage:\ndf -h /\n\nThen restart it: systemctl restart app\n",
        "expected": {
            "variables": [["host"]],
            "steps": [
                {"kind": "command", "command": "df -h /var", "risk": "safe"},
                {
                    "kind": "command",
                    "command": "systemctl restart app",
                    "risk": "dangerous",
                    "rollback": "systemctl start app",
                    "requires_approval": True,
                },
            ],
        },
    }
    figures = score(doc).figures()
    assert figures["command_exact"] == 50.0
    assert figures["variable_recall"] == 0.0
    assert figures["rollbacks_attached"] == 0.0
    assert figures["approval_recall"] == 0.0
    assert figures["risk_agreement"] < 100.0
