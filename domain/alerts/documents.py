"""What the matcher knows of a runbook, whatever format it was written in (Markdown or parsed)."""

from __future__ import annotations

import re

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
