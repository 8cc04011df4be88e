"""Spot steps a half-asleep responder could not act on: vague targets, missing paths, gaps.

Each finding is a short message naming what is missing, so an author can fix the runbook.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

_HAS_TARGET = re.compile(r"`[^`]+`|\[[^\]]+\]\([^)]+\)|https?://|\*\*[^*]+\*\*|\"[^\"]+\"")
_VAGUE_CHECK = re.compile(
    r"\b(check|look at|review|inspect|investigate|examine|study|see|monitor|watch|consult)\b"
    r"[^.]*?\b(the\s+|its\s+|their\s+|a\s+)?(logs?|dashboards?|metrics?|graphs?|events|"
    r"status|alerts?|monitoring)\b",
    re.I,
)
_VAGUE_RESTART = re.compile(
    r"\b(restart|reboot|bounce|recycle|kill|redeploy|roll)\b[^.]*?\b(the|a|that|this|affected)\s+"
    r"(service|pod|app|application|component|daemon|process|container|node|instance|server)s?\b",
    re.I,
)
_SCRIPT = re.compile(r"\b(the|a|our)\s+(?:[\w-]+\s+){0,2}script\b", re.I)
_WHO = re.compile(r"\b(contact|escalate|notify|reach out|page|talk (?:with|to)|ask)\b", re.I)
_SPECIFIC_WHO = re.compile(
    r"@|#[\w-]+|\b[A-Z][\w-]*\s+(team|on-call|oncall|SRE)\b|`|\]\(|"
    r"\bsupport\b|\bdevelopers\b|\bvendor\b|\bRed Hat\b",
    re.I,
)


class Ambiguity(BaseModel):
    """Something in the runbook a responder could not act on as written."""

    model_config = ConfigDict(frozen=True)

    step_id: str | None
    message: str


def in_prose(text: str) -> list[str]:
    """Messages for an instruction with no command (manual step)."""
    found: list[str] = []
    has_target = bool(_HAS_TARGET.search(text))
    match = _VAGUE_CHECK.search(text)
    if match and not has_target:
        what = match.group(3).lower()
        found.append(
            f"says to {match.group(1).lower()} the {what} but gives no command, query "
            "or link to find them"
        )
    match = _VAGUE_RESTART.search(text)
    if match and not has_target:
        found.append(
            f"says to {match.group(1).lower()} a {match.group(3).lower()} without naming "
            "which one or how"
        )
    if _SCRIPT.search(text) and not re.search(r"[\w.-]*/[\w./-]+|\w+\.(sh|py)\b", text):
        found.append("refers to a script without giving its path or name")
    if _WHO.search(text) and not _SPECIFIC_WHO.search(text):
        found.append("says to contact or escalate without saying who or how")
    return found


_ELLIPSIS = re.compile(r"(?<![.\w])\.\.\.(?![.\w])|…")


def in_command(command: str, variables_without_source: list[str]) -> list[str]:
    """Messages for a command that cannot run as written."""
    found: list[str] = []
    if _ELLIPSIS.search(command):
        found.append("command is incomplete (contains '...')")
    for name in variables_without_source:
        found.append(f"no alert label fills '{name}': the responder must supply it")
    return found
