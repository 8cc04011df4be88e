"""Explicit choices of a runbook: operators' mappings, selectors and runbook URLs.

These always beat inference; this module holds their models and the URL/name normalisation
that lets `…/runbooks/etcd/etcdnoleader` find `etcd/etcdNoLeader.md` or its imported id.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from domain.alerts.documents import stem_of
from schemas.alert import Alert
from schemas.runbook import AlertSelector

RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook", "runbook_link", "runbookurl", "playbook")


class Mapping(BaseModel):
    """An operator's explicit rule: alerts matching `selector` go to runbook `runbook` (a key).

    `id`, `created_by`, `note` and `created_at` are set once the mapping is stored.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    selector: AlertSelector
    runbook: str = Field(min_length=1, max_length=1000)
    id: int | None = None
    created_by: str = ""
    note: str = ""
    created_at: datetime | None = None


def flat_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def url_tail(url: str) -> tuple[str, str] | None:
    """The last two path segments of a runbook URL, lower-cased, without `.md`."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) < 2:
        return None
    last = parts[-1][:-3] if parts[-1].lower().endswith(".md") else parts[-1]
    return parts[-2].lower(), last.lower()


def slug(text: str) -> str:
    """As runbook ids are made from paths: lower-case, anything else a dash."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")


def slug_suffixes(key: str) -> list[str]:
    """`openshift-runbooks-etcd-etcdnoleader` → every dash-suffix of two or more parts, so a
    URL tail `etcd/etcdNoLeader` finds the runbook imported from `…/etcd/etcdNoLeader.md`."""
    if "/" in key:
        return []
    parts = key.split("-")
    return ["-".join(parts[i:]) for i in range(len(parts) - 1)]


def key_tail(key: str) -> tuple[str, str] | None:
    parts = [p for p in key.split("/") if p]
    if len(parts) < 2:
        return None
    return parts[-2].lower(), stem_of(parts[-1]).lower()


def runbook_urls(alert: Alert) -> list[str]:
    """The runbook links an alert's annotations carry (runbook_url and its spellings)."""
    urls = []
    for key, value in alert.annotations.items():
        if key.lower() in RUNBOOK_ANNOTATIONS and value.strip():
            urls.append(value.strip())
    return urls


def selector_text(selector: AlertSelector) -> str:
    """`alertname=…, service=…, label=…`: how reasons and `ddrun mappings` show a selector."""
    parts = []
    if selector.alertname is not None:
        parts.append(f"alertname={selector.alertname}")
    if selector.service is not None:
        parts.append(f"service={selector.service}")
    parts.extend(f"{k}={v}" for k, v in sorted(selector.labels.items()))
    return ", ".join(parts)


def describe(selector: AlertSelector) -> str:
    return "{" + selector_text(selector) + "}"
