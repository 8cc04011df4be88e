"""Canonical variable names: every spelling of a placeholder maps to one runbook variable."""

from __future__ import annotations

import re


def canonical_name(raw: str) -> str:
    """`$labels.instance` → `instance`, `POD` → `pod`, `pod-name` → `pod_name`."""
    name = raw.strip().lstrip("$").lstrip(".")
    for prefix in ("labels.", "annotations.", "Labels.", "Annotations."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return re.sub(r"[^a-z0-9_]", "_", name.lower())
