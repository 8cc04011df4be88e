"""Shared vocabulary of the risk rules: verdicts, flag helpers and words that signal danger.

Kept apart so each family of tools (Kubernetes, cloud, data stores, host) lives in its own module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from schemas.runbook import StepRisk

SAFE = StepRisk.SAFE
CAUTION = StepRisk.CAUTION
DANGEROUS = StepRisk.DANGEROUS

Verdict = tuple[StepRisk, str]
Recurse = Callable[[list[str]], list[Verdict]]
Handler = Callable[[str, list[str], Recurse], list[Verdict]]

RANK = {SAFE: 0, CAUTION: 1, DANGEROUS: 2}

# Words in a script or tool name that announce a disruptive or irreversible action.
RISKY_NAME_RE = re.compile(
    r"(fail-?over|switch-?over|promote|migrat|delete|drop|restore|wipe|reset|destroy|purge|"
    r"truncate|nuke|erase|format|decommission|teardown|tear-down|rebuild|reinit|evacuate|kill|"
    r"clean-?up|prune)",
    re.IGNORECASE,
)

_SYSTEM_PATH_RE = re.compile(r"^/(etc|boot|usr|bin|sbin|lib|lib64|var/lib|opt|root|sys)(/|$)|^/$")
_DEVICE_RE = re.compile(r"^/dev/(sd|nvme|xvd|vd|hd|mmcblk|dm-|mapper/|md|disk/)")
HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})


def worst(verdicts: Iterable[Verdict]) -> StepRisk:
    level = SAFE
    for risk, _ in verdicts:
        if RANK[risk] > RANK[level]:
            level = risk
    return level


def is_device(path: str) -> bool:
    return bool(_DEVICE_RE.match(path))


def is_system_path(path: str) -> bool:
    return bool(_SYSTEM_PATH_RE.match(path))


def positional(args: list[str], value_flags: frozenset[str] = frozenset()) -> list[str]:
    """Non-flag arguments, skipping the values of flags known to take one."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--":
            break
        if arg.startswith("-") and arg != "-":
            if arg in value_flags:
                skip = True
            continue
        out.append(arg)
    return out


def has_flag(args: list[str], *names: str) -> bool:
    """True if any of `names` is present, as `--flag`, `--flag=value` or inside `-abc` bundles."""
    for arg in args:
        if arg == "--":
            return False
        for name in names:
            if arg == name or (name.startswith("--") and arg.startswith(name + "=")):
                return True
            if (
                len(name) == 2
                and name[0] == "-"
                and arg.startswith("-")
                and not arg.startswith("--")
                and name[1] in arg[1:]
                and arg[1:].isalpha()
            ):
                return True
    return False


def flag_value(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "=") and name.startswith("--"):
                return arg[len(name) + 1 :]
            if len(name) == 2 and arg.startswith(name) and len(arg) > 2 and name[1] != "-":
                return arg[2:]
    return None


def after_double_dash(args: list[str]) -> list[str] | None:
    if "--" in args:
        return args[args.index("--") + 1 :]
    return None


def by_words(
    tool: str,
    words: list[str],
    safe: frozenset[str],
    dangerous: frozenset[str],
    changing: frozenset[str] = frozenset(),
) -> Verdict:
    """Generic rule for CLIs whose sub-commands are plain words (ceph, rbd, virsh...).

    A dangerous word anywhere wins, then a changing word; a read word alone means safe;
    nothing recognised means caution.
    """
    lowered = [w if w.startswith("-") else w.lower() for w in words]
    shown = " ".join(words[:3]) or "(no sub-command)"
    hit = next((w for w in lowered if w in dangerous), None)
    if hit:
        return DANGEROUS, f"{tool} {shown} removes or destroys state (irreversible)"
    if any(w in changing for w in lowered):
        return CAUTION, f"{tool} {shown} changes state"
    if any(w in safe for w in lowered):
        return SAFE, f"{tool} {shown} only reads"
    return CAUTION, f"{tool} {shown}: effect unknown, treated as a change"
