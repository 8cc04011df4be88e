"""Random command templates built from shell fragments (quotes, nesting, heredocs, ssh, eval…)
around a placeholder, with hostile values: whatever the renderer agrees to render, executed for
real behind the shims, never runs the value. This probes the lexer's fidelity to bash."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.shell import render_checked
from tests.hostile.render_shims import Sandbox, make_sandbox

FRAGMENTS = [
    "echo ", "printf %s ", "'", '"', "$(", ")", "bash -c ", "sh -c ", "ssh -- h ", "ssh h ",
    "eval ", " ", " ", ";", "|", "\\", "$'", "<<EOF\n", "<<'EOF'\n", "\nEOF\n", "\n", "{{ v }}",
    "{{ v }}", "#", "${", "}", "cat ", "X=", "$X", "kubectl exec p -- ", "docker exec c ",
    "su -c ", "sudo ", "--", "-n ", "(", "{ ", "&&", "<<<", ">", "$", "\\'", '\\"', "=",
    "xargs ", "env ", "timeout 1 ", "find . -exec ", " \\;", "`", "$1", "[[ ", " ]]",
]  # fmt: skip
PAYLOADS = [
    "$(touch {m})", "x'; touch {m}; '", 'x"; touch {m}; "', "-oProxyCommand=touch {m}",
    "x\ntouch {m}\n", "EOF\ntouch {m}", "`touch {m}`", "\\'$(touch {m})", "a b; touch {m} #",
    '\\"; touch {m}; #\\', "$'\\x27'; touch {m}; #", "x|touch {m}",
]  # fmt: skip


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with tempfile.TemporaryDirectory(prefix="ddrun-templates-") as root:
        yield make_sandbox(Path(root))


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=9),
    payload=st.sampled_from(PAYLOADS),
)
def test_random_templates_never_execute_a_value(
    sandbox: Sandbox, parts: list[str], payload: str
) -> None:
    template = "".join(parts)
    if "{{ v }}" not in template:
        template += "{{ v }}"
    value = payload.format(m=sandbox.marker)
    result = render_checked(template, {"v": value}, frozenset({"v"}))
    if result.refused:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        sandbox.run(result.command, timeout=5)
    assert not sandbox.marker.exists(), (template, value, result.command)
    for leftover in sandbox.workdir.iterdir():  # files a command legitimately wrote (> x)
        if leftover.is_file():
            leftover.unlink()
