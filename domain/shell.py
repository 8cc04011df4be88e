"""Fill runbook command templates with alert values so that no value can ever become shell syntax.

Alert labels are attacker-controllable text (anyone who can set a label can set `x; rm -rf /`).
Every placeholder is replaced by a value quoted for the exact shell context it stands in:
unquoted, inside double quotes, or inside single quotes. The result is one literal word.
Placeholders are `{{ name }}` (the canonical form) and, for declared variables only, `$NAME`
and `${NAME}` (as prose runbooks write them).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

_TEMPLATE_RE = re.compile(r"\{\{\s*(\$?\.?[A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_DOLLAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class MissingVariableError(ValueError):
    """A command refers to a variable that has no value; it must not run half-filled."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"no value for variable(s): {', '.join(sorted(set(names)))}")
        self.names = sorted(set(names))


def canonical_name(raw: str) -> str:
    """`$labels.instance` → `instance`, `POD` → `pod`, `pod-name` → `pod_name`."""
    name = raw.strip().lstrip("$").lstrip(".")
    for prefix in ("labels.", "annotations.", "Labels.", "Annotations."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def _quote_unquoted(value: str) -> str:
    return shlex.quote(value)


def _quote_in_double(value: str) -> str:
    # Inside "...", only $ ` \ " are special (history expansion `!` is off in `bash -c`).
    return re.sub(r'([$`\\"])', r"\\\1", value)


def _quote_in_single(value: str) -> str:
    # Inside '...', nothing is special but the closing quote: end it, add an escaped quote, reopen.
    return value.replace("'", "'\\''")


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


def render(template: str, values: Mapping[str, str], declared: frozenset[str] | None = None) -> str:
    """Return `template` with each placeholder replaced by its value, quoted for its context.

    `declared` names the runbook's variables: `$NAME` is substituted only for those, so shell
    variables such as `$HOME` or `$?` pass through untouched. Raises MissingVariableError when a
    placeholder has no value.
    """
    declared_names = frozenset(values) if declared is None else declared
    out: list[str] = []
    missing: list[str] = []
    quote: str | None = None  # None, "'" or '"'
    i = 0
    n = len(template)
    while i < n:
        ch = template[i]
        if quote != "'":
            tmatch = _TEMPLATE_RE.match(template, i)
            dmatch = None if tmatch else _DOLLAR_RE.match(template, i)
            match = tmatch or dmatch
            if match is not None:
                raw = match.group(1) if tmatch else (match.group(1) or match.group(2))
                name = canonical_name(raw)
                if tmatch or name in declared_names:
                    if name not in values:
                        missing.append(name)
                        out.append(match.group(0))
                    elif quote == '"':
                        out.append(_quote_in_double(values[name]))
                    else:
                        out.append(_quote_unquoted(values[name]))
                    i = match.end()
                    continue
        elif template.startswith("{{", i):
            tmatch = _TEMPLATE_RE.match(template, i)
            if tmatch is not None:
                name = canonical_name(tmatch.group(1))
                if name not in values:
                    missing.append(name)
                    out.append(tmatch.group(0))
                else:
                    out.append(_quote_in_single(values[name]))
                i = tmatch.end()
                continue
        if ch == "\\" and quote != "'" and i + 1 < n:
            out.append(template[i : i + 2])
            i += 2
            continue
        if ch in "'\"":
            if quote is None:
                quote = ch
            elif quote == ch:
                quote = None
        out.append(ch)
        i += 1
    if missing:
        raise MissingVariableError(missing)
    return "".join(out)
