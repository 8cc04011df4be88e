"""What the matcher knows of a runbook, whatever format it was written in (Markdown or parsed)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from schemas.runbook import AlertSelector, Runbook

_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class RunbookDocument(BaseModel):
    """What the matcher needs of a runbook, whatever format it was written in."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Path of the runbook relative to the runbooks directory")
    title: str
    headings: list[str] = Field(default_factory=list)
    body: str = ""
    selectors: list[AlertSelector] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    rules: str = Field(
        default="", description="Summary, description and metrics of the alert rules it serves"
    )


def stem_of(key: str) -> str:
    last = key.rstrip("/").rsplit("/", 1)[-1]
    return last[:-3] if last.lower().endswith(".md") else last.rsplit(".", 1)[0] or last


def document_from_markdown(key: str, text: str) -> RunbookDocument:
    """Title (front matter `title:` or first H1, else the file name), headings and body."""
    title = ""
    front = _FRONT_MATTER_RE.match(text)
    if front:
        for line in front.group(1).splitlines():
            if line.strip().lower().startswith("title:"):
                title = line.split(":", 1)[1].strip().strip("\"'")
        text = text[front.end() :]
    headings: list[str] = []
    body: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            body.append(line)
            continue
        found = None if in_code else _HEADING_RE.match(line)
        if found is None:
            body.append(line)
        elif len(found.group(1)) == 1 and not title:
            title = found.group(2)
        else:
            headings.append(found.group(2))
    return RunbookDocument(
        key=key, title=title or stem_of(key), headings=headings, body="\n".join(body)
    )


def document_from_runbook(key: str, runbook: Runbook) -> RunbookDocument:
    """A structured runbook: step titles are its headings; description, instructions and
    commands its body (prerequisites are left out: tooling boilerplate, not the topic)."""
    body = [runbook.description]
    for step in runbook.steps:
        body.extend((step.instructions, step.command or "", step.rollback or ""))
    return RunbookDocument(
        key=key,
        title=runbook.title,
        headings=[step.title for step in runbook.steps],
        body="\n".join(part for part in body if part),
        selectors=list(runbook.selectors),
        services=list(runbook.services),
    )


def folder_of(key: str) -> str:
    """The runbook's own folder: repositories group runbooks by component (node/, etcd/ ...)."""
    parts = [p for p in key.split("/") if p]
    return parts[-2] if len(parts) >= 2 else ""


def collection_of(key: str) -> str:
    return key.split("/", 1)[0] if "/" in key else ""


class AlertRule(BaseModel):
    """A Prometheus alerting rule, as a rules file (PrometheusRule, rules YAML) states it."""

    model_config = ConfigDict(frozen=True)

    alertname: str
    expr: str = ""
    annotations: dict[str, str] = Field(default_factory=dict)


_METRIC_NAME_RE = re.compile(r"\b([a-z_][a-z0-9_]*)\s*[{\[(]")


def rule_text(rule: AlertRule) -> str:
    """What a rule says about its alert in words: summary, description, message and the metric
    names of its expression (node_filesystem_avail_bytes: node filesystem avail bytes)."""
    words = [rule.annotations.get(k, "") for k in ("summary", "description", "message")]
    expr = "\n".join(line for line in rule.expr.splitlines() if not line.lstrip().startswith("#"))
    metrics = [m.replace("_", " ") for m in _METRIC_NAME_RE.findall(expr) if "_" in m]
    return "\n".join(part for part in (*words, *dict.fromkeys(metrics)) if part)


def with_rules(
    documents: Sequence[RunbookDocument], rules: Sequence[AlertRule]
) -> list[RunbookDocument]:
    """Each runbook with the text of the rules whose alert it is named for (file name or title,
    compared without case or punctuation): imported rules teach the matcher their words."""
    by_name: dict[str, list[AlertRule]] = {}
    for rule in rules:
        by_name.setdefault(_flat(rule.alertname), []).append(rule)
    out = []
    for doc in documents:
        names = {_flat(stem_of(doc.key)), _flat(doc.title)}
        found = [r for name in sorted(names) for r in by_name.get(name, ())]
        if found:
            text = "\n".join(dict.fromkeys(rule_text(r) for r in found))
            doc = doc.model_copy(update={"rules": "\n".join(p for p in (doc.rules, text) if p)})
        out.append(doc)
    return out


def _flat(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
