"""Prometheus alerting rules read from what users have: a rules file, a PrometheusRule object,
or a JSON list of rules; recording rules are counted and left out (they raise no alert)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from domain.alerts.documents import AlertRule

MAX_RULES = 10_000


class RulesFileError(ValueError):
    """The text is not a rules file; the message says what was expected."""


@dataclass(frozen=True)
class RulesFile:
    rules: list[AlertRule]
    recording: int  # recording rules seen and skipped


def parse_rules_file(text: str) -> RulesFile:
    """Every alerting rule in `text`: Prometheus rules YAML (`groups:`), one or more
    PrometheusRule documents (`spec.groups`), or a JSON list of {alert|alertname, expr, ...}."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        raise RulesFileError(f"not YAML or JSON: {str(err).splitlines()[0]}") from None
    rules: list[AlertRule] = []
    recording = 0
    for document in documents:
        for raw in _raw_rules(document):
            if not isinstance(raw, dict):
                raise RulesFileError("a rule must be a mapping with alert (or record) and expr")
            name = raw.get("alert", raw.get("alertname"))
            if name is None and "record" in raw:
                recording += 1
                continue
            if not isinstance(name, str) or not name.strip() or len(name) > 200:
                raise RulesFileError(f"a rule needs an alert name of 1-200 characters: {raw!r:.80}")
            annotations = raw.get("annotations") or {}
            if not isinstance(annotations, dict):
                raise RulesFileError(f"rule {name}: annotations must be a mapping")
            rules.append(
                AlertRule(
                    alertname=name.strip(),
                    expr=str(raw.get("expr", "")),
                    annotations={str(k): str(v) for k, v in annotations.items()},
                )
            )
            if len(rules) > MAX_RULES:
                raise RulesFileError(f"more than {MAX_RULES} rules in one file")
    if not rules and not recording:
        raise RulesFileError(
            "no rules found: expected `groups: [{name, rules: [{alert, expr, annotations}]}]`, "
            "a PrometheusRule (spec.groups) or a JSON list of rules"
        )
    return RulesFile(rules, recording)


def _raw_rules(document: Any) -> Iterable[Any]:
    if isinstance(document, list):
        if all(isinstance(d, dict) and "rules" in d for d in document):  # a list of groups
            return [r for group in document for r in group.get("rules") or []]
        return document
    if not isinstance(document, dict):
        raise RulesFileError("a rules file is a mapping with `groups` or a list of rules")
    if document.get("kind") == "List" and isinstance(document.get("items"), list):
        return [r for item in document["items"] for r in _raw_rules(item)]
    groups = document.get("groups")
    spec = document.get("spec")
    if groups is None and isinstance(spec, dict):
        groups = spec.get("groups")
    if not isinstance(groups, list):
        raise RulesFileError("no `groups` list (rules file) or `spec.groups` (PrometheusRule)")
    out: list[Any] = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("rules") or [], list):
            raise RulesFileError("each group is a mapping with a `rules` list")
        out.extend(group.get("rules") or [])
    return out


def rules_digest(rules: Iterable[AlertRule]) -> str:
    """Identifies a set of rules (the matcher built with them is cached under it)."""
    body = json.dumps([r.model_dump(mode="json") for r in rules], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ImportedRules:
    """Every imported rule and a digest naming the set (the matcher cache's key)."""

    rules: tuple[AlertRule, ...] = ()
    digest: str = field(default="")

    @classmethod
    def of(cls, rules: list[AlertRule]) -> ImportedRules:
        return cls(tuple(rules), rules_digest(rules) if rules else "")
