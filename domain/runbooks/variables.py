"""Find the placeholders in runbook commands and give each one canonical lower_snake_case name.

`$NAMESPACE`, `${NS}`, `<namespace>`, `{{ $labels.namespace }}` all become `{{ namespace }}`, with
a hint of which alert label fills it; shell-internal variables (`$HOME`, `$1`, awk's `$2`) stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHELL_VARS = frozenset(
    {"HOME", "PATH", "PWD", "OLDPWD", "USER", "SHELL", "HOSTNAME", "RANDOM", "IFS", "TERM",
     "LANG", "LC_ALL", "UID", "EUID", "PPID", "TMPDIR", "EDITOR", "KUBECONFIG", "SECONDS",
     "LINENO", "BASH", "BASH_SOURCE", "PS1", "PS2", "HOST", "LOGNAME", "MAIL", "DISPLAY",
     "PAGER", "VISUAL", "XDG_RUNTIME_DIR", "SSH_AUTH_SOCK", "GOPATH", "JAVA_HOME", "OPTARG",
     "OPTIND", "REPLY", "PIPESTATUS", "HISTFILE", "ARTIFACT_DIR", "WORK", "TOKEN"}
)  # fmt: skip
_SYNONYMS = {
    "ns": "namespace", "namespace_name": "namespace", "project": "namespace",
    "project_name": "namespace", "namespaces": "namespace", "pod_namespace": "namespace",
    "pod_name": "pod", "podname": "pod", "pod_id": "pod", "mypod": "pod", "pods": "pod",
    "node_name": "node", "nodename": "node", "nodes": "node", "node_hostname": "node",
    "container_name": "container", "deployment_name": "deployment", "deploy": "deployment",
    "sts": "statefulset", "statefulset_name": "statefulset", "ds": "daemonset",
    "daemonset_name": "daemonset", "pvc": "persistentvolumeclaim",
    "pvc_name": "persistentvolumeclaim", "svc": "service", "service_name": "service",
    "job_name": "job_name", "instance_name": "instance", "host_name": "host",
    "hpa": "horizontalpodautoscaler", "hpa_name": "horizontalpodautoscaler",
    "mount_point": "mountpoint", "cluster_name": "cluster", "vm_name": "vm",
    "virtual_machine": "vm", "vmi_name": "vmi",
}  # fmt: skip
_LABEL_SOURCES = frozenset(
    {"namespace", "pod", "container", "node", "instance", "job", "service", "deployment",
     "statefulset", "daemonset", "persistentvolumeclaim", "cluster", "mountpoint", "device",
     "horizontalpodautoscaler", "cronjob", "job_name", "endpoint", "prometheus", "alertname",
     "severity", "fstype", "interface", "replicaset", "volumename", "persistentvolume",
     "controller", "host", "name", "vm", "vmi", "storageclass", "resource", "verb"}
)  # fmt: skip
_GO_WORDS = frozenset(
    {
        "end",
        "else",
        "range",
        "if",
        "with",
        "template",
        "define",
        "block",
        "println",
        "printf",
        "len",
        "index",
        "not",
        "and",
        "or",
        "eq",
        "ne",
    }
)
_NOISE = ("my_", "the_", "your_", "a_", "some_")

_LABEL_TPL = r"\{\{\s*\$?\.?(?:labels|Labels|CommonLabels|GroupLabels)\.([A-Za-z_]\w*)\s*\}\}"
_ANNOT_TPL = r"\{\{\s*\$?\.?(?:annotations|Annotations|CommonAnnotations)\.([A-Za-z_]\w*)\s*\}\}"
_PLACEHOLDER_RE = re.compile(
    rf"(?P<label>{_LABEL_TPL})"
    rf"|(?P<annot>{_ANNOT_TPL})"
    r"|\{\{\s*(?P<mustache>[A-Za-z_][\w-]*)\s*\}\}"
    r"|(?<![<\w])<(?P<angle>[A-Za-z][\w .:/-]{0,60}?)>(?!>)"
    r"|(?<![{$%\w])\{(?P<brace>[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)\}(?!\})"
    r"|\$\{(?P<dbrace>[A-Za-z_]\w*)(?::?[-=?+][^}]*)?\}"
    r"|\$(?P<dollar>[A-Za-z_]\w*)"
)
_FROM_ALERT_RE = re.compile(r"(?:value of (?:the )?)?([a-z_]+)\s+label", re.I)
_ASSIGNED_RE = re.compile(
    r"(?:^|[\s;&|(])(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=|\bfor\s+([A-Za-z_]\w*)\s+in\b"
    r"|\bread\s+(?:-\w+\s+)*([A-Za-z_]\w*)"
)


_KIND_BEFORE_RE = re.compile(
    r"\b(deployment|deploy|statefulset|sts|daemonset|ds|pod|node|job|cronjob|pvc|"
    r"persistentvolumeclaim|service|svc|hpa|horizontalpodautoscaler|replicaset|configmap|"
    r"secret|ingress|route|machineconfigpool|mcp|vm|vmi)s?(?:\.[\w.]+)?[/\s]+$",
    re.I,
)


@dataclass(frozen=True)
class VarRef:
    """One placeholder occurrence: its canonical name and which alert field can fill it."""

    name: str
    source: str | None
    raw: str


def canonical(raw: str) -> str:
    """`$NAMESPACE` → namespace, `<pod-name>` → pod, `<instance label from alert>` → instance."""
    text = raw.strip().strip("${}<> ").lstrip("$.").strip()
    from_alert = _FROM_ALERT_RE.search(text)
    if from_alert and " " in text:
        text = from_alert.group(1)
    text = re.sub(r"^\.?(labels|annotations)\.", "", text, flags=re.I)
    if " " in text:
        for word in re.findall(r"[a-z]+", text.lower()):
            known = _SYNONYMS.get(word, word)
            if known in _LABEL_SOURCES and known not in {"name", "resource"}:
                text = known
                break
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    for noise in _NOISE:
        if name.startswith(noise) and len(name) > len(noise):
            name = name[len(noise) :]
    name = name.removesuffix("_here")
    name = _SYNONYMS.get(name, name)
    if not name:
        name = "value"
    if name[0].isdigit():
        name = f"v_{name}"
    return name[:64]


def source_hint(name: str, explicit: str | None = None) -> str | None:
    if explicit:
        return explicit
    return f"label:{name}" if name in _LABEL_SOURCES else None


def _single_quoted_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    quote: str | None = None
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote is None and ch in "'\"":
            quote, start = ch, i
        elif quote == ch:
            if ch == "'":
                spans.append((start, i))
            quote = None
        i += 1
    return spans


def assigned_names(command: str) -> set[str]:
    """Shell variables the command sets itself (loops, assignments, read): not runbook inputs."""
    names: set[str] = set()
    for match in _ASSIGNED_RE.finditer(command):
        names.update(g for g in match.groups() if g)
    return names


def rewrite(command: str, aliases: dict[str, str] | None = None) -> tuple[str, list[VarRef]]:
    """Replace every runbook placeholder by `{{ name }}`; return the command and what was found."""
    aliases = aliases or {}
    quoted = _single_quoted_spans(command)
    local = assigned_names(command)
    refs: list[VarRef] = []

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or ""
        raw = match.group(kind) or ""
        explicit: str | None = None
        if kind in {"label", "annot"}:
            key = raw.rstrip("} ").rsplit(".", 1)[-1]
            name = canonical(key)
            explicit = f"label:{key}" if kind == "label" else f"annotation:{key}"
        elif kind == "mustache":
            if raw in _GO_WORDS:
                return match.group(0)
            name = canonical(raw)
        elif kind == "angle":
            if raw.lower() in {"none", "br", "p", "b", "i", "code", "pre", "details", "summary"}:
                return match.group(0)
            name = canonical(raw)
            label = _FROM_ALERT_RE.search(raw)
            if label and " " in raw:
                explicit = f"label:{label.group(1).lower()}"
        elif kind == "brace":
            name = canonical(raw)
        else:  # $NAME or ${NAME}
            inside_single = any(a < match.start() < b for a, b in quoted)
            if (
                inside_single
                or raw in _SHELL_VARS
                or raw in local
                or not raw.isupper()
                or len(raw) < 2
            ):
                return match.group(0)
            name = aliases.get(raw, canonical(raw))
            if name in {"name", "resource", "object"}:
                kind_word = _KIND_BEFORE_RE.search(command[: match.start()])
                if kind_word:
                    name = canonical(kind_word.group(1))
        refs.append(VarRef(name, source_hint(name, explicit), match.group(0)))
        return "{{ " + name + " }}"

    return _PLACEHOLDER_RE.sub(replace, command), refs


_BINDING_RE = re.compile(r"^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(['\"]?)(.+?)\2\s*$")


def binding(command: str) -> tuple[str, str, VarRef] | None:
    """`NODE_NAME=<instance label from alert>`: a shell name bound straight to a placeholder.

    Returns (shell name, canonical name, reference) so later `$NODE_NAME` uses resolve to it.
    """
    match = _BINDING_RE.match(command)
    if not match:
        return None
    rhs = match.group(3).strip()
    whole = _PLACEHOLDER_RE.fullmatch(rhs)
    if not whole or (whole.lastgroup == "dollar" and not rhs[1:].isupper()):
        return None
    _, refs = rewrite(rhs)
    if len(refs) != 1:
        return None
    ref = refs[0]
    return match.group(1), ref.name, ref
