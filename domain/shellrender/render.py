"""Render a command template: quote each value for every level it passes through, or refuse it.

A refusal is not an error: the step keeps the placeholder, lists the raw value and the reason,
and a human decides. Whatever is rendered is re-read by the same lexer and must have the same
structure as the template with the values as literal text at every level (else: refused).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.shellrender.contexts import Analysis, Skeleton, analyze
from domain.shellrender.lexer import (
    SENTINEL_BASE,
    SENTINEL_LIMIT,
    LexError,
    find_dollar_placeholders,
    sentinel,
    sentinel_index,
)
from domain.shellrender.names import canonical_name
from domain.shellrender.quoting import quote_chain

_TEMPLATE_RE = re.compile(r"\{\{\s*(\$?\.?[A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_TYPED_RE = re.compile(r"\b(declare|typeset|local|readonly|export)\s+-\w*[aAilnu]")
_MAX_VALUE = 4096


@dataclass(frozen=True)
class Refusal:
    name: str
    value: str
    reason: str


@dataclass
class Rendered:
    """The command (refused placeholders left as `{{ name }}`), and what was refused and why."""

    command: str
    refused: list[Refusal] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Occurrence:
    name: str
    start: int  # span in the template
    end: int


def _occurrences(template: str, declared: frozenset[str]) -> list[_Occurrence]:
    found = [
        _Occurrence(canonical_name(m.group(1)), m.start(), m.end())
        for m in _TEMPLATE_RE.finditer(template)
    ]
    # `$NAME` is a placeholder only where the shell would expand it (found by the lexer).
    masked = _TEMPLATE_RE.sub(lambda m: "x" * len(m.group(0)), template)
    try:
        spans = find_dollar_placeholders(masked, declared)
    except (ValueError, LookupError, RecursionError):
        spans = [
            (m.start(), m.end(), m.group(1) or m.group(2))
            for m in re.finditer(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)", masked)
            if canonical_name(m.group(1) or m.group(2)) in declared
        ]
    found += [_Occurrence(canonical_name(name), s, e) for s, e, name in spans]
    return sorted(found, key=lambda o: o.start)


def _value_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL byte, which no command argument can hold"
    if len(value) > _MAX_VALUE:
        return f"is longer than {_MAX_VALUE} characters"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return "contains an unpaired surrogate"
    return None


def render_template(template: str, values: Mapping[str, str], declared: frozenset[str]) -> Rendered:
    """Render `template`; never raises for hostile values (they are refused instead)."""
    occurrences = _occurrences(template, declared)
    missing = sorted({o.name for o in occurrences if o.name not in values})
    if (
        any(SENTINEL_BASE <= ord(c) < SENTINEL_LIMIT for c in template)
        or len(occurrences) >= SENTINEL_LIMIT - SENTINEL_BASE
    ):
        reason = "the command template contains reserved characters"
        return _all_refused(template, occurrences, values, reason, missing)
    parts: list[str] = []
    last = 0
    for index, occ in enumerate(occurrences):
        parts += [template[last : occ.start], sentinel(index)]
        last = occ.end
    parts.append(template[last:])
    src = "".join(parts)

    analysis = Analysis(typed_vars=bool(_TYPED_RE.search(template)))
    try:
        skeleton = analyze(src, analysis)
    except LexError as err:
        return _all_refused(template, occurrences, values, f"not rendered: {err}", missing)
    except (ValueError, LookupError, RecursionError) as err:  # fail closed, never half-render
        reason = f"not rendered: the renderer could not read the command ({err!r})"
        return _all_refused(template, occurrences, values, reason, missing)

    reasons: dict[int, str] = dict(analysis.refused)
    for index, occ in enumerate(occurrences):
        if index in reasons or occ.name not in values:
            continue
        value = values[occ.name]
        context = analysis.contexts.get(index)
        problem = _value_problem(value)
        if context is None:
            reasons[index] = "its place in the command could not be determined"
        elif problem:
            reasons[index] = problem
        elif (
            context.option_word
            and value.startswith("-")
            and all(values.get(occurrences[b].name, "x") == "" for b in context.before)
        ):
            reasons[index] = (
                f"starts with '-' where it could be read as an option ({context.where}); "
                "the template needs `--` before it"
            )
    out = _assemble(src, occurrences, values, analysis, reasons)
    if not reasons and not missing:
        problem = _verify(skeleton, out, occurrences, values)
        if problem:
            reasons = dict.fromkeys(range(len(occurrences)), problem)
            out = _assemble(src, occurrences, values, analysis, reasons)
    refused = [
        Refusal(occurrences[i].name, values[occurrences[i].name], reasons[i])
        for i in sorted(reasons)
        if occurrences[i].name in values
    ]
    return Rendered(out, _dedupe(refused), missing)


def _assemble(
    src: str,
    occurrences: list[_Occurrence],
    values: Mapping[str, str],
    analysis: Analysis,
    reasons: dict[int, str],
) -> str:
    out: list[str] = []
    for ch in src:
        index = sentinel_index(ch)
        if index is None:
            out.append(ch)
            continue
        occ = occurrences[index]
        if index in reasons or occ.name not in values:
            out.append("{{ " + occ.name + " }}")
        else:
            out.append(quote_chain(values[occ.name], analysis.contexts[index].chain))
    return "".join(out)


def _substitute(skeleton: object, table: dict[int, str]) -> object:
    if isinstance(skeleton, str):
        return skeleton.translate(table)
    if isinstance(skeleton, tuple):
        return tuple(_substitute(s, table) for s in skeleton)
    return skeleton


def _verify(
    skeleton: Skeleton, rendered: str, occurrences: list[_Occurrence], values: Mapping[str, str]
) -> str | None:
    """Re-read the result: its structure must be the template's with the values as literals."""
    table = {SENTINEL_BASE + i: values[o.name] for i, o in enumerate(occurrences)}
    expected = _substitute(skeleton, table)
    try:
        actual = analyze(rendered, Analysis(), placeholders=False)
    except (ValueError, LookupError, RecursionError) as err:
        return f"the rendered command does not read back ({err})"
    if actual != expected:
        return "the value changes the command's structure when rendered (e.g. ends a heredoc)"
    return None


def _all_refused(
    template: str,
    occurrences: list[_Occurrence],
    values: Mapping[str, str],
    reason: str,
    missing: list[str],
) -> Rendered:
    out: list[str] = []
    last = 0
    for occ in occurrences:
        out += [template[last : occ.start], "{{ " + occ.name + " }}"]
        last = occ.end
    out.append(template[last:])
    refused = [Refusal(o.name, values[o.name], reason) for o in occurrences if o.name in values]
    return Rendered("".join(out), _dedupe(refused), missing)


def _dedupe(refused: list[Refusal]) -> list[Refusal]:
    seen: set[tuple[str, str]] = set()
    out: list[Refusal] = []
    for item in refused:
        if (item.name, item.reason) not in seen:
            seen.add((item.name, item.reason))
            out.append(item)
    return out
