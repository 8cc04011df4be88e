"""The alert as weighted query terms: what it says (content) and where it happens (context)."""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import parse_qs, urlsplit

from domain.alerts.entities import entity_names, split_entities
from domain.alerts.explicit import RUNBOOK_ANNOTATIONS
from domain.alerts.quantities import (
    ABOVE_TERMS,
    ERROR_RATE_TERMS,
    NEARLY_FULL_TERMS,
    above_bound,
    error_rate,
    nearly_full,
)
from domain.alerts.text import looks_like_identifier, tokens
from domain.alerts.vocabulary import (
    COMPONENTS,
    DEVICE_KINDS,
    INFERENCES,
    KUBERNETES_LABELS,
    LABEL_MEANINGS,
    PLATFORM_OF_TOOL,
    WHOLE_GROUP_TERM,
    WHOLE_GROUP_WORDS,
    WORKLOAD_WORDS,
)
from schemas.alert import Alert

# Labels whose values say what is affected; their names too (a `deployment` label hints at
# deployment runbooks). Labels that only say where or which replica carry no meaning here.
_MEANINGFUL_LABEL_VALUES = (
    "service", "namespace", "job", "container", "app", "application", "component",
    "app.kubernetes.io/name", "app_kubernetes_io_name", "reason", "device", "mountpoint",
    "fstype", "resource", "verb", "condition", "phase", "integration", "controller",
)  # fmt: skip
# Labels whose value is the state of the affected thing (reason=CrashLoopBackOff,
# phase=Pending, condition=DiskPressure): what is wrong, so content like the title's words.
_STATE_LABELS = frozenset({"reason", "phase", "condition", "status_reason"})
_SILENT_LABELS = frozenset(
    {
        "alertname", "severity", "prometheus", "prometheus_replica", "cluster", "instance",
        "uid", "pod", "endpoint", "long", "short", "receiver", "env", "environment", "region",
        "zone", "node", "host", "hostname", "team", "owner", "priority", "fingerprint",
    }
)  # fmt: skip
_TEXT_ANNOTATIONS_SKIP = frozenset({"summary", "description", *RUNBOOK_ANNOTATIONS})
_WHOLE_GROUP_RE = re.compile(rf"\b(?:{'|'.join(WHOLE_GROUP_WORDS)})\b", re.IGNORECASE)
QUERY_WEIGHT_CAP = 4.0
TITLE_WEIGHT = 2.0  # a word of the title or name; the description's count 1
_ENTITY_WEIGHT = 0.3  # a host or service named in the text: where, not what
COMPONENT_TERMS = frozenset(t for word in COMPONENTS for t in tokens(word) if t != "kubernetes")
WORKLOAD_TERMS = frozenset(tokens(word)[0] for word in WORKLOAD_WORDS)  # not implied terms
_DEVICE_KINDS = tuple((re.compile(rx), words) for rx, words in DEVICE_KINDS)
_METRIC_RE = re.compile(r"\b([a-z_][a-z0-9_]*:?[a-z0-9_]*)\s*[{\[(]")
# Alertmanager's default notification title: "[FIRING:2] <group label values>". The status and
# the count say that it fires, as every alert does, and nothing about what is wrong.
_STATUS_PREFIX_RE = re.compile(r"^\s*\[(?:FIRING|RESOLVED)(?::\d+)?\]\s*", re.IGNORECASE)


# "desired != current" in a title: two figures that should agree and do not (in a description
# it is as likely a PromQL matcher, label!="").
_NOT_EQUAL_RE = re.compile(r"\w\s*(?:!=|≠|=/=|<>)\s*\w")
NOT_EQUAL_TERM = "mismatch"


def without_status(title: str) -> str:
    """The title without Alertmanager's "[FIRING:n]" / "[RESOLVED]" prefix."""
    return _STATUS_PREFIX_RE.sub("", title, count=1)


def _metric_names(generator_url: str | None) -> list[str]:
    if not generator_url:
        return []
    try:
        query = parse_qs(urlsplit(generator_url).query)
    except ValueError:
        return []
    names: list[str] = []
    for key, values in query.items():
        if key.endswith(".expr"):
            for expr in values:
                names.extend(m for m in _METRIC_RE.findall(expr) if "_" in m)
    return names


# Labels that name the service or workload itself: their words are names, never the topic.
# (Not the namespace: platforms name theirs for the component, openshift-cluster-version.)
_WORKLOAD_LABELS = (
    "service", "app", "application", "app.kubernetes.io/name", "app_kubernetes_io_name",
    "container", "job",
)  # fmt: skip


def _workload_names(alert: Alert) -> list[str]:
    names = [alert.labels.get(key, "") for key in _WORKLOAD_LABELS]
    if alert.service not in ("unknown", alert.labels.get("namespace")):
        names.append(alert.service)  # not when it was only read off the namespace
    return [n for n in names if n]


def alert_query(
    alert: Alert, topics: Collection[str] = frozenset()
) -> tuple[dict[str, float], dict[str, float]]:
    """The alert as weighted terms: what it says (content) and where it happens (context).

    Both are searched; only content counts when judging how much of the alert a runbook
    covers, since service or namespace names rarely appear in a runbook's prose. Names of
    things in the text (hosts, pods, the service: see entities.py) are context, and label
    names that say what kind of thing is affected (`mountpoint`: a filesystem) are content.

    A word of the text that is also part of a label value is read as a name (`payment` of
    `payment-svc`), unless it is one of `topics`, the terms runbook names are made of, and not
    part of the service's or workload's own name: a title's "OSD" or "CPU" says what is wrong
    even when a label reads `osd.5` or `requests.cpu`, while `payments` stays the service's
    name even when a runbook is called "Restart payments".
    """
    content: dict[str, float] = {}
    context: dict[str, float] = {}
    names = entity_names(alert.labels)

    def add(into: dict[str, float], text: str, weight: float) -> None:
        for term in tokens(text):
            into[term] = min(QUERY_WEIGHT_CAP, into.get(term, 0.0) + weight)

    def say(text: str, weight: float) -> None:
        kept, spans = split_entities(text, names)
        add(content, kept, weight)
        for span in spans:
            add(context, span, _ENTITY_WEIGHT)

    name = alert.labels.get("alertname") or alert.name
    if looks_like_identifier(name):
        add(content, name, 3.0)
    else:
        say(without_status(name), TITLE_WEIGHT)
    if alert.name != name:
        say(without_status(alert.name), TITLE_WEIGHT)
    title = without_status(alert.title)
    if title and alert.title not in (name, alert.name):
        say(title, TITLE_WEIGHT)
    say(alert.description, 1.0)
    for key, value in alert.annotations.items():
        if key.lower() not in _TEXT_ANNOTATIONS_SKIP:
            say(value, 1.0)
    if alert.service != "unknown":
        add(context, alert.service, 0.5)
    for key, value in alert.labels.items():
        if key in _SILENT_LABELS or key.lower() in LABEL_MEANINGS:
            continue
        if key in _STATE_LABELS:
            add(content, value, 1.0)  # the state it is in says what is wrong
        elif key in _MEANINGFUL_LABEL_VALUES:
            add(context, value, 0.5)
        add(context, key, 0.3)
    for metric in _metric_names(alert.generator_url):
        add(context, metric, 0.3)
    workload = {t for v in _workload_names(alert) for t in tokens(v)}
    for term in list(content):
        named = (
            term in context
            and term not in COMPONENT_TERMS
            and (term in workload or term not in topics)
        )
        if named or term.isdigit():
            context[term] = context.get(term, 0.0) + content.pop(term)
    for key, value in alert.labels.items():
        meaning = LABEL_MEANINGS.get(key.lower())
        if meaning is not None:
            add(content, meaning[1], meaning[0])
        if key.lower() == "device":
            kind = next((words for rx, words in _DEVICE_KINDS if rx.match(value.strip())), None)
            if kind is not None:
                add(content, kind, 1.0)
    if nearly_full(alert.title) or nearly_full(alert.description):
        add(content, NEARLY_FULL_TERMS, 0.5)
    if _WHOLE_GROUP_RE.search(alert.title) or _WHOLE_GROUP_RE.search(alert.description):
        add(content, WHOLE_GROUP_TERM, 0.5)
    if _NOT_EQUAL_RE.search(title):
        add(content, NOT_EQUAL_TERM, 1.0)
    if above_bound(title):
        add(content, ABOVE_TERMS, 0.5)
    if error_rate(alert.title) or error_rate(alert.description):
        add(content, ERROR_RATE_TERMS, 0.5)
    for needed, excluded, term in INFERENCES:
        if needed <= content.keys() and not excluded & content.keys() and term not in content:
            content[term] = min(content[t] for t in needed)
    return content, context


def platforms_of(alert: Alert, query: dict[str, float]) -> set[str]:
    """Platforms the alert is about: named in it, or implied by Kubernetes-only label names."""
    found = {p for p in PLATFORM_OF_TOOL.values() if p in query}
    if any(key in KUBERNETES_LABELS for key in alert.labels):
        found.add("kubernetes")
    return found


def is_mentioned(marker: str, query: dict[str, float], platforms: set[str]) -> bool:
    """A collection's typical term is no evidence against a runbook when the alert says it, or
    says the platform it belongs to (kubectl is Kubernetes' own tool)."""
    return marker in query or PLATFORM_OF_TOOL.get(marker, "") in platforms
