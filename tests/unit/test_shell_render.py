"""Rendering alert values into commands: whatever the value, bash sees one literal word."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.shell import MissingVariableError, canonical_name, placeholders, render

# Every context a runbook author may put a placeholder in.
TEMPLATES = [
    "printf '%s' {{ v }}",
    "printf '%s' \"{{ v }}\"",
    "printf '%s' '{{ v }}'",
    "printf '%s' $V",
    "printf '%s' ${V}",
    "printf '%s' \"${V}\"",
    "printf '%s' {{v}}",
]


def _bash(command: str) -> str:
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, check=True, timeout=10, text=False
    )
    return done.stdout.decode("utf-8", errors="surrogateescape")


values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(value=values)
def test_any_value_round_trips_through_bash_in_every_context(value: str) -> None:
    for template in TEMPLATES:
        command = render(template, {"v": value}, frozenset({"v"}))
        assert _bash(command) == value, (template, command)


@pytest.mark.parametrize(
    "hostile",
    ["x; touch /tmp/ddrun-pwned", "$(id)", "`id`", "a'b", 'a"b', "a\\", "\n", "!!", "$HOME"],
)
def test_hostile_values_stay_literal(hostile: str) -> None:
    for template in TEMPLATES:
        assert _bash(render(template, {"v": hostile}, frozenset({"v"}))) == hostile


def test_undeclared_dollar_variables_are_left_to_the_shell() -> None:
    rendered = render("echo $HOME {{ pod }} $? $1 ${PATH}", {"pod": "p"}, frozenset({"pod"}))
    assert rendered == "echo $HOME p $? $1 ${PATH}"


def test_missing_value_refuses_to_render() -> None:
    with pytest.raises(MissingVariableError) as err:
        render("kubectl delete pod {{ pod }} -n {{ namespace }}", {"pod": "x"})
    assert err.value.names == ["namespace"]


def test_names_are_normalised() -> None:
    assert canonical_name("$labels.instance") == "instance"
    assert canonical_name("POD") == "pod"
    assert canonical_name("pod-name") == "pod_name"
    assert placeholders(
        "kubectl -n $NAMESPACE get {{ $labels.pod }}", frozenset({"namespace"})
    ) == [
        "pod",
        "namespace",
    ]
