"""An undo the text states in words, written out as a command: "set it back to 4gb",
"same patch with true", "the same line with 6144 and 4096 swapped".

Pure string work on the
command it undoes; shared by the plain-text and the Markdown readers.
"""

from __future__ import annotations

import re

SPACED_UNITS = frozenset(
    [
        "gb",
        "mb",
        "kb",
        "gi",
        "mi",
        "ki",
        "g",
        "m",
        "k",
        "s",
        "ms",
        "%",
        "replicas",
        "replica",
        "nodes",
        "pods",
        "instances",
        "seconds",
        "minutes",
    ]
)


def derive_rollback(previous: str, prose: str) -> str | None:
    """The undo written out when the text says it in words ("set it back to 4gb", "same patch
    with true", "same call with `"enabled":true`", "the same line with 6144 and 4096 swapped")."""
    if not previous:
        return None
    same = re.search(r"\bsame\s+(?:cmd|command)\s+(?:with|but)\s+(--?[\w-]+)[ =](\S+)", prose, re.I)
    if same:
        flag, value = same.group(1), same.group(2).rstrip(".,)")
        pattern = re.compile(rf"({re.escape(flag)}[ =])(\S+)")
        if pattern.search(previous):
            return pattern.sub(lambda m: m.group(1) + value, previous, count=1)
        return None
    swapped = _SWAPPED_RE.search(prose)
    if swapped:
        return _swap(previous, swapped.group(1).strip("`'\""), swapped.group(2).strip("`'\""))
    for said in (
        _SAME_WITH_RE.search(prose),
        _BACK_TO_SAME_RE.search(prose),
        _REVERT_WITH_RE.search(prose),
    ):
        if said:
            return _with_value(previous, said.group(1))
    flag = _FLAG_VALUE_RE.search(prose)
    if flag and re.search(rf"(?<!\S){re.escape(flag.group(1))}[ =]", previous):
        return _with_value(previous, flag.group(0))
    back = re.search(r"\bback\s+to\s+(\d+(?:\.\d+)?)(\s*)([A-Za-z%]*)", prose, re.I) or (
        _old_value(prose)
    )
    if not back:
        return None
    number, unit = back.group(1), back.group(3)
    if back.group(2) and unit.lower() not in SPACED_UNITS:
        unit = ""  # "back to 3 once lag is low": the word after the number is not a unit
    if unit.lower() in {"replicas", "replica", "nodes", "pods", "instances"}:
        unit = ""
    value_re = re.compile(
        rf"(?:(?<=[\s='\"])|(?<=\":))(\d+(?:\.\d+)?){re.escape(unit)}(?=$|[\s'\"}},;\\])",
        re.I if unit else 0,
    )
    matches = list(value_re.finditer(previous))
    if len(matches) != 1:
        return None
    match = matches[0]
    return previous[: match.start()] + number + unit + previous[match.end() :]


# "same postconf with 1s", "same w/ status='ONLINE'", "same URL ending in /state/PAUSED"
_SAME_WITH_RE = re.compile(
    r"\bsame\b[^.;:]{0,40}?(?:\bwith|\bw/|\bbut|\bending\s+in)\s+(\S[^,;]*)", re.I
)
# "(revert with connection limit -1)": the value to put back, not a command
_REVERT_WITH_RE = re.compile(r"\b(?:revert|undo|roll\s*back)\s+(?:it\s+)?with\s+(\S[^,;()]*)", re.I)
# 'Put it back to "Fail" with the same patch'
_BACK_TO_SAME_RE = re.compile(r"\bback\s+to\s+(\S+)\s+with\s+the\s+same\b", re.I)
# "turn it off afterwards with --insights-action DISABLE", "(undo: -StartupType Manual)"
_FLAG_VALUE_RE = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)[ =]([^\s,;)]+)")
_SWAPPED_RE = re.compile(r"\bwith\s+(\S+)\s+and\s+(\S+)\s+swapped\b", re.I)
_BOOLS = {"true": "false", "false": "true", "yes": "no", "no": "yes", "on": "off", "off": "on"}


def _swap(previous: str, a: str, b: str) -> str | None:
    """Both values exchanged wherever they stand ("6144 and 4096 swapped")."""
    bound = r"(?<![\w.]){}(?![\w.])"
    a_re, b_re = re.compile(bound.format(re.escape(a))), re.compile(bound.format(re.escape(b)))
    if not (a and b and a != b and a_re.search(previous) and b_re.search(previous)):
        return None
    marker = "\x00"
    out = a_re.sub(marker, previous)
    out = b_re.sub(a, out)
    return out.replace(marker, b)


def _with_value(previous: str, said: str) -> str | None:
    """The previous command with one value changed, as the text names it: a flag and its value,
    a `key=value` / `"key":value` pair, "word value", a path ending, or a bare value whose kind
    (boolean, number with its unit, an upper-case or capitalised word) occurs once in the
    command. None when the change is not unambiguous."""
    said = said.strip().strip("`").strip()
    said = re.split(r"\s+(?:then|and|once|when|after|before|if|as)\b|[,;]|\)\s*$", said)[0]
    said = said.strip().rstrip(".,)").strip("`").strip()
    if not said:
        return None
    flag = re.match(r"^(--?[A-Za-z][\w-]*)[ =](\S+)$", said)
    if flag:
        found = list(re.finditer(rf"(?<!\S)({re.escape(flag.group(1))}[ =])(\S+)", previous))
        if len(found) != 1:
            return None
        m = found[0]
        return previous[: m.start(2)] + flag.group(2) + previous[m.end(2) :]
    pair = re.match(r"^\"?([A-Za-z_][\w.-]*)\"?\s*[:=]\s*(\S.*)$", said)
    if pair:
        return _replace_after(
            previous, rf"\"?{re.escape(pair.group(1))}\"?\s*[:=]\s*", pair.group(2)
        )
    word = re.match(r"^((?:[A-Za-z][\w.-]*\s+){0,2}[A-Za-z][\w.-]*[A-Za-z])\s+(\S+)$", said)
    if word:  # "local-preference 100", "connection limit -1"
        key = r"\s+".join(re.escape(w) for w in word.group(1).split())
        return _replace_after(previous, rf"{key}\s+", word.group(2))
    path = re.match(r"^((?:/[\w.-]+)*/)([\w.-]+)$", said)
    if path:
        return _replace_after(previous, re.escape(path.group(1)), path.group(2))
    if " " in said:
        return None
    return _bare_value(previous, said.strip("'\""))


def _replace_after(previous: str, key: str, value: str) -> str | None:
    """Replace the one value that follows `key` in the command (a quoted string keeps its
    quotes when the new value has none)."""
    found = list(re.finditer(rf"(?<![\w.-]){key}", previous))
    if len(found) != 1:
        return None
    start = found[0].end()
    rest = previous[start:]
    quoted = re.match(r"^(\\?[\"'])(.*?)\1", rest)
    if quoted:
        end = start + quoted.end()
        if value[:1] not in "\"'":
            value = quoted.group(1) + value + quoted.group(1)
    else:
        plain = re.match(r"^[^\s,;'\"}\])/]+", rest)
        if plain is None:
            return None
        end = start + plain.end()
    return previous[:start] + value + previous[end:]


def _bare_value(previous: str, value: str) -> str | None:
    """A bare value put in place of the one value of the same kind in the command."""
    lower = value.lower()
    if lower in _BOOLS:
        pattern = rf"(?<![\w-])(?:{'|'.join(k for k in _BOOLS if k != lower)})(?![\w-])"
        flags = 0 if value.islower() else re.I
        if lower in {"true", "false"}:
            pattern = r"(?<![\w-])(?:true|false)(?![\w-])"
        found = [m for m in re.finditer(pattern, previous, flags) if m.group(0).lower() != lower]
    elif number := re.fullmatch(r"(-?\d+(?:\.\d+)?)([A-Za-z%]*)", value):
        unit = re.escape(number.group(2))
        found = list(re.finditer(rf"(?<![\w.-])-?\d+(?:\.\d+)?{unit}(?![\w.])", previous))
    elif re.fullmatch(r"[A-Z][A-Z_]{2,}", value):
        found = [
            m
            for m in re.finditer(r"(?<=[\"'=:])[A-Z][A-Z_]{2,}(?=[\"',;}\s]|$)", previous)
            if m.group(0) != value
        ]
    elif re.fullmatch(r"[A-Z][a-z]{2,}", value):
        found = [
            m
            for m in re.finditer(r"(?<=[\"'=:])[A-Z][a-z]{2,}(?=[\"',;}]|$)", previous)
            if m.group(0) != value
        ]
    else:
        return None
    if len(found) != 1:
        return None
    m = found[0]
    return previous[: m.start()] + value + previous[m.end() :]


def _old_value(prose: str) -> re.Match[str] | None:
    """ "it was 3 days = 259200000, set it back to that": the value named before "back to that"
    (the last number of the "it was ..." clause)."""
    if not re.search(
        r"\bback\s+to\s+(?:that|it|the\s+(?:old|previous|original)\s+value)\b", prose, re.I
    ):
        return None
    was = re.search(r"\b(?:it|this|that|they)\s+(?:was|were)\s+([^,;()]*)", prose, re.I)
    if was is None:
        return None
    values = list(re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)(\s*)([A-Za-z%]*)", was.group(1)))
    return values[-1] if values else None


LEAD_UNDO_RE = re.compile(  # a lead-in that says how to undo the change it introduces
    r"\bback\s+to\b|\bsame\b[^.;:]{0,40}\b(?:with|w/)\b|"
    r"\b(?:turn|switch|set|put)\s+(?:it|them)\s+(?:off|on|back)\b[^.;:]{0,30}\b(?:with|using)\s+-",
    re.I,
)
