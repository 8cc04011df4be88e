"""The context model, without executing anything: which levels a placeholder passes through,
what is refused and why, and that a refused step shows its raw values (step view, Slack card)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.shell import render_checked
from domain.shellrender.contexts import Analysis, analyze
from domain.shellrender.lexer import State, sentinel
from domain.slack import blocks
from schemas.incident import IncidentState, IncidentStatus, RefusedValue, StepState, StepView
from schemas.runbook import StepRisk

S = sentinel(0)
U, D, Q, A, H = State.UNQUOTED, State.DOUBLE, State.SINGLE, State.ANSI, State.HEREDOC


@pytest.mark.parametrize(
    ("src", "chain"),
    [
        (f"echo {S}", (U,)),
        (f'echo "{S}"', (D,)),
        (f"echo '{S}'", (Q,)),
        (f"echo $'{S}'", (A,)),
        (f'printf %s "$(echo {S})"', (U,)),
        (f"bash -c 'echo {S}'", (Q, U)),
        (f"bash -c 'echo \"{S}\"'", (Q, D)),
        (f"sh -c \"sh -c 'echo {S}'\"", (D, Q, U)),
        (f"ssh -- host df -h -- {S}", (U, U)),
        (f'ssh -- host "du -- {S} | sort"', (D, U)),
        (f"kubectl exec pod -- printf %s {S}", (U,)),
        (f"kubectl exec pod -- sh -c 'echo {S}'", (Q, U)),
        (f"docker exec c bash -c \"echo '{S}'\"", (D, Q)),
        (f"sudo -u root su -c 'echo {S}' root", (Q, U)),
        (f"bash <<EOF\necho {S}\nEOF", (H, U)),
        (f"cat <<EOF\n{S}\nEOF", (H,)),
        (f"eval 'echo {S}'", (Q, U)),
    ],
)
def test_each_level_of_evaluation_is_found(src: str, chain: tuple[State, ...]) -> None:
    result = Analysis()
    analyze(src, result)
    assert result.refused == {}
    assert result.contexts[0].chain == chain


@pytest.mark.parametrize(
    ("template", "value", "reason"),
    [
        ("ssh {{ v }} true", "-oProxyCommand=x", "read as an option"),
        ("ssh node {{ v }}", "ls", "program to run"),
        ("echo `echo {{ v }}`", "x", "inside `…`"),
        ("echo ${X:-{{ v }}}", "x", "parameter expansion"),
        ("[[ {{ v }} -eq 1 ]]", "1", "[[ … ]]"),
        ("awk {{ v }} f", "1", "code for `awk`"),
        ("psql <<EOF\n{{ v }}\nEOF", "x", "may interpret it"),
        ("cat <<EOF\n{{ v }}\nEOF", "EOF", "structure"),
        ("echo {{ v }}", "a\x00b", "NUL"),
        ('bash -c "echo $HOME {{ v }}"', "x", "expansions"),
    ],
)
def test_refusals_say_why(template: str, value: str, reason: str) -> None:
    result = render_checked(template, {"v": value}, frozenset({"v"}))
    assert [r.value for r in result.refused] == [value]
    assert reason in result.refused[0].reason
    assert "{{ v }}" in result.command  # left for a human, never half-rendered


def test_double_dash_in_the_template_allows_a_leading_dash() -> None:
    result = render_checked("ssh -- {{ v }} df -h -- {{ w }}", {"v": "-x", "w": "-y"})
    assert result.refused == []
    assert result.command == "ssh -- -x df -h -- -y"


def test_a_refused_step_shows_its_raw_values_on_the_card() -> None:
    raw = "-oProxyCommand=touch /tmp/x ```<b>"
    view = StepView(
        id="look",
        title="Look",
        risk=StepRisk.SAFE,
        state=StepState.AWAITING_APPROVAL,
        command="ssh {{ instance }} df",
        refused=[RefusedValue(variable="instance", value=raw, reason="read as an option")],
    )
    state = IncidentState(
        id="i",
        status=IncidentStatus.AWAITING_APPROVAL,
        service="s",
        severity="critical",
        title="t",
        opened_at=datetime(2026, 12, 1, tzinfo=UTC),
        steps=[view],
    )
    text = json.dumps(blocks.step_card(state, view).blocks)
    assert "Alert values not rendered" in text
    assert "-oProxyCommand=touch /tmp/x" in text
    assert "<b>" not in text  # escaped for Slack
