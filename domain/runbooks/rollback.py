"""Well-known inverses of state-changing commands, so a step can be undone without a human.

When the inverse needs the value from before the step (replica count, desired capacity), it uses
a `{{ previous_… }}` placeholder and a read-only capture command records it at run time.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from domain.runbooks.risk_base import flag_value, positional
from domain.runbooks.shellwords import parse, tokenize

_TRAILING_COMMENT_RE = re.compile(r"\s+#[^'\"\n]*$", re.M)
_TPL_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_KUBE_VALUE = frozenset(
    {
        "-n",
        "--namespace",
        "--context",
        "--kubeconfig",
        "--cluster",
        "--user",
        "-l",
        "--selector",
        "--replicas",
        "--current-replicas",
        "--timeout",
        "-o",
        "--output",
        "--as",
    }
)
_SCOPE_FLAGS = ("-n", "--namespace", "--context", "--kubeconfig", "--cluster")
_SWAP = {
    "cordon": "uncordon", "uncordon": "cordon", "pause": "resume", "resume": "pause",
    "stop": "start", "start": "stop", "disable": "enable", "enable": "disable", "mask": "unmask",
    "unmask": "mask", "out": "in", "in": "out", "set": "unset", "unset": "set",
    "unpause": "pause",
}  # fmt: skip


@dataclass
class Rollback:
    """An inverse command, read-only captures it needs, and a note for the responder."""

    command: str
    capture: dict[str, str] = field(default_factory=dict)
    note: str = ""


def _protect(command: str) -> tuple[str, dict[str, str]]:
    names: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        token = f"__TPL_{match.group(1)}__"
        names[token] = "{{ " + match.group(1) + " }}"
        return token

    return _TPL_RE.sub(sub, command), names


def _join(words: list[str], names: dict[str, str]) -> str:
    text = shlex.join(
        [
            part
            for word in words
            for part in (word.split(" ") if word in {"oc adm", "kubectl adm"} else [word])
        ]
    )
    for token, template in names.items():
        text = text.replace(token, template)
    return text


def _scope(args: list[str]) -> list[str]:
    out: list[str] = []
    for flag in _SCOPE_FLAGS:
        value = flag_value(args, flag)
        if value is not None:
            out += [flag, value]
    return out


def infer(command: str) -> Rollback | None:
    """The inverse of a single, simple command, or None when there is no safe general inverse."""
    parsed = parse(command)
    if len(parsed.segments) != 1 or parsed.subshells or parsed.segments[0].redirects:
        return None
    protected, names = _protect(command)
    protected = _TRAILING_COMMENT_RE.sub("", protected.replace("\\\n", " "))
    words = tokenize(" ".join(protected.split()))
    prefix: list[str] = []
    while words and (words[0] == "sudo" or re.match(r"^[A-Za-z_]\w*=", words[0])):
        prefix.append(words.pop(0))
    if not words:
        return None
    tool, args = words[0], words[1:]
    result: Rollback | None = None
    if tool in {"kubectl", "oc"}:
        result = _kube(tool, args, names)
    elif tool in {"systemctl", "virtctl"}:
        pos = positional(args)
        if (
            pos
            and pos[0] in _SWAP
            and (tool == "systemctl" or pos[0] in {"stop", "start", "pause", "unpause"})
        ):
            swapped = [_SWAP[a] if a == pos[0] else a for a in args]
            result = Rollback(_join([tool, *swapped], names))
    elif tool == "ceph":
        pos = positional(args)
        if pos[:1] == ["osd"] and len(pos) > 2 and pos[1] in {"out", "in", "set", "unset"}:
            idx = args.index(pos[1])
            result = Rollback(_join([tool, *args[:idx], _SWAP[pos[1]], *args[idx + 1 :]], names))
    elif tool == "helm":
        pos = positional(
            args,
            frozenset(
                {"-n", "--namespace", "-f", "--values", "--set", "--version", "--kube-context"}
            ),
        )
        if len(pos) >= 2 and pos[0] == "upgrade":
            scope = [a for f in ("-n", "--namespace") if (v := flag_value(args, f)) for a in (f, v)]
            result = Rollback(
                _join(["helm", "rollback", pos[1], *scope], names),
                note="helm rollback without a revision returns to the previous one",
            )
    elif tool == "aws":
        result = _aws(args, names)
    if result is None:
        return None
    if prefix:
        result.command = _join(prefix, names) + " " + result.command
    return result


def _kube(tool: str, args: list[str], names: dict[str, str]) -> Rollback | None:
    pos = positional(args, _KUBE_VALUE)
    adm = pos[:1] == ["adm"]
    if adm:
        pos = pos[1:]
        tool = f"{tool} adm"
    if not pos:
        return None
    verb = pos[0]
    scope = _scope(args)
    if verb == "rollout" and len(pos) >= 3 and pos[1] in {"restart", "pause", "resume"}:
        inverse = "undo" if pos[1] == "restart" else _SWAP[pos[1]]
        note = (
            "rollout undo returns to the revision before the restart" if pos[1] == "restart" else ""
        )
        return Rollback(_join([tool, "rollout", inverse, *pos[2:], *scope], names), note=note)
    if verb in {"cordon", "uncordon"} and len(pos) >= 2:
        return Rollback(_join([tool, _SWAP[verb], *pos[1:], *scope], names))
    if verb == "drain" and len(pos) >= 2:
        return Rollback(
            _join([tool, "uncordon", pos[1], *scope], names),
            note="uncordon makes the node schedulable again; evicted pods are not moved back",
        )
    if verb == "scale" and len(pos) >= 2:
        target = pos[1:3] if "/" not in pos[1] and len(pos) >= 3 else pos[1:2]
        getter = [tool, "get", *target, *scope, "-o", "jsonpath={.spec.replicas}"]
        undo = [tool, "scale", *target, *scope, "--replicas=__TPL_previous_replicas__"]
        names = {**names, "__TPL_previous_replicas__": "{{ previous_replicas }}"}
        return Rollback(
            _join(undo, names),
            capture={"previous_replicas": _join(getter, names)},
            note="previous_replicas is recorded just before the step runs",
        )
    if verb == "set" and len(pos) >= 3 and pos[1] in {"image", "env", "resources"}:
        return Rollback(_join([tool, "rollout", "undo", pos[2], *scope], names))
    if verb in {"label", "annotate"} and len(pos) >= 3 and "--overwrite" not in args:
        pairs = [p for p in pos[2:] if "=" in p]
        if pairs and len(pairs) == len(pos) - 2 - (0 if "/" in pos[1] else 1):
            keys = [p.split("=", 1)[0] + "-" for p in pairs]
            resource = pos[1:2] if "/" in pos[1] else pos[1:3]
            return Rollback(_join([tool, verb, *resource, *keys, *scope], names))
    if verb == "taint" and len(pos) >= 3 and pos[1] in {"node", "nodes", "no"}:
        taints = pos[3:]
        if taints:
            flipped = [t[:-1] if t.endswith("-") else t + "-" for t in taints]
            return Rollback(_join([tool, "taint", "node", pos[2], *flipped, *scope], names))
    return None


def _aws(args: list[str], names: dict[str, str]) -> Rollback | None:
    pos = positional(
        args,
        frozenset({"--auto-scaling-group-name", "--desired-capacity", "--region", "--profile"}),
    )
    if pos[:2] != ["autoscaling", "set-desired-capacity"]:
        return None
    group = flag_value(args, "--auto-scaling-group-name")
    if group is None:
        return None
    extra = [a for f in ("--region", "--profile") if (v := flag_value(args, f)) for a in (f, v)]
    names = {**names, "__TPL_previous_desired_capacity__": "{{ previous_desired_capacity }}"}
    undo = [
        "aws",
        "autoscaling",
        "set-desired-capacity",
        "--auto-scaling-group-name",
        group,
        "--desired-capacity",
        "__TPL_previous_desired_capacity__",
        *extra,
    ]
    getter = [
        "aws",
        "autoscaling",
        "describe-auto-scaling-groups",
        "--auto-scaling-group-names",
        group,
        "--query",
        "AutoScalingGroups[0].DesiredCapacity",
        "--output",
        "text",
        *extra,
    ]
    return Rollback(
        _join(undo, names),
        capture={"previous_desired_capacity": _join(getter, names)},
        note="previous_desired_capacity is recorded just before the step runs",
    )
