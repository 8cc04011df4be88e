"""Hostile alert values x every shell context a placeholder can stand in, executed for real.

Each rendered command runs with bash in a scratch directory, behind PATH shims that re-evaluate
like ssh, kubectl exec, docker exec, su and sudo do. Nothing may execute (no marker file, no file
at all in the scratch directory), and where the renderer renders, the value must come back byte
for byte; where it refuses, the command is never run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.shell import MissingVariableError, render
from tests.hostile.render_shims import Sandbox, hostile_values, make_sandbox

_PROBE = Path("/nonexistent-ddrun-marker/PWNED")  # stands in for the marker in value lists


@dataclass(frozen=True)
class Case:
    """A template echoing `{{ v }}` back; `renders(v)`: the renderer must not refuse `v` here."""

    name: str
    template: str
    expected: Callable[[str], str] = lambda v: v
    option_position: bool = False
    heredoc: bool = False

    def renders(self, value: str) -> bool:
        if "\x00" in value or len(value) > 4096:
            return False
        if self.option_position and value.startswith("-"):
            return False
        return not (self.heredoc and "EOF" in value.replace("\t", "").split("\n"))


def _nl(v: str) -> str:
    return v + "\n"


def _dot(v: str) -> str:
    return v + "."  # $(…) drops trailing newlines; the dot keeps them


CASES = [
    Case("argument", "printf '%s' {{ v }}"),
    Case("double quotes", "printf '%s' \"{{ v }}\""),
    Case("single quotes", "printf '%s' '{{ v }}'"),
    Case("$V", "printf '%s' $V"),
    Case("${V} in double quotes", "printf '%s' \"${V}\""),
    Case("inside a word", "printf '%s' pre{{ v }}post", lambda v: f"pre{v}post"),
    Case("$'…'", "printf '%s' $'{{ v }}'"),
    Case("$(…)", "printf '%s' \"$(printf '%s' {{ v }}; printf .)\"", _dot),
    Case('"$(…"…")"', "printf '%s' \"$(printf '%s' \"{{ v }}\"; printf .)\"", _dot),
    Case("bash -c '…'", "bash -c 'printf \"%s\" {{ v }}'"),
    Case("bash -c '…\"…\"…'", 'bash -c \'printf "%s" "{{ v }}"\''),
    Case("bash -c '$(…)'", "bash -c 'printf %s \"$(printf %s {{ v }}; printf .)\"'", _dot),
    Case("bash -ec '…' with $'…'", "bash -ec 'printf \"%s\" $'\\''{{ v }}'\\'''"),
    Case('sh -c "…"', "sh -c \"printf '%s' {{ v }}\""),
    Case("sh -c \"…'…'…\"", "sh -c \"printf '%s' '{{ v }}'\""),
    Case("sh -c in sh -c", "sh -c \"sh -c 'printf %s {{ v }}'\""),
    Case("eval", "eval \"printf '%s' {{ v }}\""),
    Case("su -c", "su -c \"printf '%s' {{ v }}\" root"),
    Case("sudo", "sudo -u root printf '%s' {{ v }}"),
    Case("heredoc", "cat <<EOF\n{{ v }}\nEOF", _nl, heredoc=True),
    Case("quoted heredoc", "cat <<'EOF'\n{{ v }}\nEOF", _nl, heredoc=True),
    Case("heredoc read by bash", "bash <<EOF\nprintf '%s' {{ v }}\nEOF", heredoc=True),
    Case("here-string", "cat <<< {{ v }}", _nl),
    Case("ssh remote words", "ssh -- node printf '%s' {{ v }}"),
    Case("ssh remote string", "ssh -- node \"printf '%s' {{ v }}\""),
    Case("ssh remote '…'", "ssh -- node 'printf \"%s\" {{ v }}'"),
    Case("ssh host after --", 'ssh -- {{ v }} \'printf "%s" "$FAKE_SSH_HOST"\''),
    Case("ssh host", 'ssh {{ v }} \'printf "%s" "$FAKE_SSH_HOST"\'', option_position=True),
    Case("ssh remote sh -c", "ssh -- node sh -c \"'printf %s {{ v }}'\""),
    Case("kubectl exec argv", "kubectl -n ns exec pod -c c -- printf '%s' {{ v }}"),
    Case("kubectl exec sh -c", "kubectl exec pod -- sh -c 'printf \"%s\" {{ v }}'"),
    Case("docker exec argv", "docker exec -u root ctr printf '%s' {{ v }}"),
    Case("docker exec bash -c", "docker exec ctr bash -c \"printf '%s' {{ v }}\""),
    Case("positional", "echoargs {{ v }}", option_position=True),
    Case("positional after --", "echoargs -x -- {{ v }}", lambda v: f"-x\0--\0{v}"),
    Case("option argument", "echoargs -n {{ v }}", lambda v: f"-n\0{v}", option_position=True),
    Case("--opt=value", "echoargs --opt={{ v }}", lambda v: f"--opt={v}"),
    # The file may not be creatable (a value with '/'): only "nothing ran" is checked.
    Case(
        "redirection target",
        "{ printf x > {{ v }}.out; } 2>/dev/null; rm -f -- {{ v }}.out 2>/dev/null; true",
        lambda _: "",
    ),
    Case("environment assignment", "X={{ v }} printenv X", _nl),
    Case("env", "env X={{ v }} printenv X", _nl),
    Case(
        "remote option argument",
        "ssh -- node echoargs -n {{ v }}",
        lambda v: f"-n\0{v}",
        option_position=True,
    ),
]

# Contexts the renderer cannot prove safe: every value is refused, none is ever rendered.
REFUSED = [
    "printf '%s' `printf '%s' {{ v }}`",
    "printf '%s' \"${X:-{{ v }}}\"",
    "echo $(( {{ v }} + 1 ))",
    "(( {{ v }} > 1 ))",
    "[[ {{ v }} -eq 1 ]]",
    "[[ -n x && 1 -eq {{ v }} ]]",
    "echo x # {{ v }}",
    "{{ v }} --version",
    "sudo {{ v }}",
    "kubectl exec pod -- {{ v }}",
    "ssh -- node {{ v }}",
    "ssh -o {{ v }} node true",
    "ssh -oProxyCommand={{ v }} node true",
    "awk {{ v }} /dev/null",
    "sed -e {{ v }} /dev/null",
    "python3 -c {{ v }}",
    "trap {{ v }} EXIT",
    "let x={{ v }}",
    "declare x={{ v }}",
    "read {{ v }} < /dev/null",
    "test -v {{ v }}",
    "PS4={{ v }} bash -xc true",
    "LD_PRELOAD={{ v }} true",
    'bash -c "echo $HOME {{ v }}"',
    "bash {{ v }}",
    "printf '%s' ${{ v }}",
    "printf '%s' \\{{ v }}",
    "psql <<EOF\n{{ v }}\nEOF",
    "docker run img sh -c {{ v }}",
    "case x in {{ v }}) ;; esac",
    "printf -v {{ v }} x",
    "source {{ v }}",
    "env LD_PRELOAD={{ v }} true",
    "/usr/bin/python3.11 -c {{ v }}",
    "kubectl exec pod sh -c {{ v }}",
    "for {{ v }} in a; do :; done",
    "ssh -- node bash -c {{ v }}",
    "watch -n 1 {{ v }}",
    # The value would travel on through a variable or a $(…) output: not followed, refused.
    "X={{ v }}; printf '%s' \"$X\"",
    'X={{ v }}; bash -c "$X"',
    'X=$(printf %s {{ v }}); eval "$X"',
    "env X={{ v }} bash -c 'eval \"$X\"'",
    'for x in {{ v }}; do eval "$x"; done',
    'eval "$(printf %s {{ v }})"',
    "ssh -- $(printf %s {{ v }}) true",
    "printf '%s' $(printf %s {{ v }})",
    'ssh "$(printf %s {{ v }})" true',
    # Printed into a pipe that a shell or xargs reads; a script that expands its arguments.
    "printf '%s' {{ v }} | bash",
    "printf '%s' {{ v }} | sort | sh -s",
    "printf '%s' {{ v }} | ssh -- node",
    "printf '%s' {{ v }} | xargs rm",
    "printf '%s' {{ v }} | sudo bash",
    "printf '%s' {{ v }} | (cat; echo) | sh",
    "bash -c 'eval \"$1\"' _ {{ v }}",
    "sh -c 'eval \"$@\"' sh {{ v }}",
    # An unquoted expansion may vanish and move the value into the script or host position.
    "bash -c $X {{ v }}",
    "ssh $H df {{ v }}",
    "kubectl exec p -- sh -c * {{ v }}",
]


def _render(template: str, value: str) -> str | None:
    """The rendered command, or None when the renderer refused the value."""
    try:
        return render(template, {"v": value}, frozenset({"v"}))
    except MissingVariableError:
        raise
    except ValueError:
        return None


def _short(text: str) -> str:
    return repr(text) if len(text) < 300 else repr(text[:300]) + f"… ({len(text)} chars)"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with tempfile.TemporaryDirectory(prefix="ddrun-hostile-") as root:
        yield make_sandbox(Path(root))


def _check(sandbox: Sandbox, case: Case, value: str) -> bool:
    """Run one case; True when it was rendered and executed."""
    command = _render(case.template, value)
    if command is None:
        assert not case.renders(value), f"{case.name}: refused {_short(value)}"
        return False
    assert "\x00" not in value
    done = sandbox.run(command)
    assert sandbox.executed() == [], f"{case.name}: {_short(value)} executed: {_short(command)}"
    out = done.stdout.decode("utf-8", errors="surrogateescape")
    assert (done.returncode, out) == (0, case.expected(value)), (
        f"{case.name}: {_short(value)} not intact through {_short(command)}: {done.stderr[:300]!r}"
    )
    return True


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_hostile_value_stays_data_in_every_context(sandbox: Sandbox, case: Case) -> None:
    ran = sum(_check(sandbox, case, value) for value in hostile_values(sandbox.marker))
    assert ran >= 40, f"{case.name}: only {ran} values were rendered"


@pytest.mark.parametrize("template", REFUSED)
def test_contexts_that_cannot_be_proven_safe_are_refused(sandbox: Sandbox, template: str) -> None:
    for value in [*hostile_values(sandbox.marker), "plain", "x"]:
        assert _render(template, value) is None, (template, value)


def test_option_injection_is_refused_before_double_dash_and_allowed_after(
    sandbox: Sandbox,
) -> None:
    payload = f"-oProxyCommand=touch {sandbox.marker}"
    assert _render("ssh {{ v }} true", payload) is None
    assert _render("ssh node df -h {{ v }}", payload) is None
    assert _render("kubectl get pod {{ v }}", "--help") is None
    command = _render("ssh -- {{ v }} 'printf %s \"$FAKE_SSH_HOST\"'", payload)
    assert command is not None
    assert sandbox.run(command).stdout.decode() == payload
    assert sandbox.executed() == []


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60
) | st.sampled_from(hostile_values(_PROBE))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=st.sampled_from(CASES), value=_text)
def test_property_any_value_any_context(sandbox: Sandbox, case: Case, value: str) -> None:
    value = value.replace(str(_PROBE), str(sandbox.marker))
    _check(sandbox, case, value)
