"""Fill runbook command templates with alert values so that no value can ever become shell syntax.

Alert labels are attacker-controllable text (anyone who can set a label can set `x; rm -rf /`).
Every placeholder is quoted for each level of shell evaluation it passes through (see
domain.shellrender); a value that cannot be proven safe in its place is refused, not rendered.
Placeholders are `{{ name }}` (the canonical form) and, for declared variables only, `$NAME`
and `${NAME}` (as prose runbooks write them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from domain.shellrender.names import canonical_name
from domain.shellrender.render import Refusal, Rendered, render_template

__all__ = [
    "MissingVariableError",
    "Refusal",
    "Rendered",
    "UnsafeValueError",
    "canonical_name",
    "render",
    "render_checked",
]

_TEMPLATE_RE = re.compile(r"\{\{\s*(\$?\.?[A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_DOLLAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class MissingVariableError(ValueError):
    """A command refers to a variable that has no value; it must not run half-filled."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"no value for variable(s): {', '.join(sorted(set(names)))}")
        self.names = sorted(set(names))


def placeholders(template: str, declared: frozenset[str] = frozenset()) -> list[str]:
    """Canonical names of every variable a template refers to, in order of first use."""
    found: list[str] = []
    for match in _TEMPLATE_RE.finditer(template):
        name = canonical_name(match.group(1))
        if name not in found:
            found.append(name)
    for match in _DOLLAR_RE.finditer(template):
        name = canonical_name(match.group(1) or match.group(2))
        if name in declared and name not in found:
            found.append(name)
    return found


class UnsafeValueError(ValueError):
    """A value cannot be rendered into its place safely; a human must decide (raw values kept)."""

    def __init__(self, refused: list[Refusal]) -> None:
        super().__init__(
            "; ".join(f"{r.name}={r.value!r}: {r.reason}" for r in refused) or "refused"
        )
        self.refused = refused


def render_checked(
    template: str, values: Mapping[str, str], declared: frozenset[str] | None = None
) -> Rendered:
    """Render with refusals reported instead of raised (see domain.shellrender.render)."""
    return render_template(template, values, frozenset(values) if declared is None else declared)


def render(template: str, values: Mapping[str, str], declared: frozenset[str] | None = None) -> str:
    """Return `template` with each placeholder replaced by its value, quoted for every level.

    `declared` names the runbook's variables: `$NAME` is substituted only for those, so shell
    variables such as `$HOME` or `$?` pass through untouched. Raises MissingVariableError when a
    placeholder has no value and UnsafeValueError when a value cannot be placed safely.
    """
    result = render_checked(template, values, declared)
    if result.missing:
        raise MissingVariableError(result.missing)
    if result.refused:
        raise UnsafeValueError(result.refused)
    return result.command
