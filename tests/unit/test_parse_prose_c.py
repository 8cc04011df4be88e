"""Plain-text shapes from the second round on real-world pastes: steps after a context section,
rollbacks said in words, conditions, approvals and waits written the way engineers write them."""

from __future__ import annotations

from domain.runbooks import parse_runbook
from schemas.runbook import Step


def _steps(text: str) -> list[Step]:
    return list(parse_runbook(text, source_name="t.txt").runbook.steps)


def _commands(text: str) -> list[str]:
    return [s.command for s in _steps(text) if s.command]


def test_a_step_n_item_after_a_symptoms_section_starts_the_steps() -> None:
    commands = _commands(
        "Queue backlog\n"
        "Symptoms\n"
        "\u2022\tConsumers fall behind\n"
        "\u00a0\n"
        "Step 1: Check the queue depth\n"
        "rabbitmqctl list_queues name messages\n"
        "Step 2: Restart the consumer\n"
        "kubectl -n q rollout restart deploy/consumer\n"
    )
    assert commands == [
        "rabbitmqctl list_queues name messages",
        "kubectl -n q rollout restart deploy/consumer",
    ]


def test_a_bare_command_line_after_a_context_heading_is_a_step() -> None:
    commands = _commands(
        "etcd space\n"
        "Symptoms\n"
        "\u2022\tThe API server says the database space is exceeded\n"
        "\u00a0\n"
        "Setup on a control-plane node\n"
        "export ETCDCTL_API=3\n"
    )
    assert commands == ["export ETCDCTL_API=3"]
