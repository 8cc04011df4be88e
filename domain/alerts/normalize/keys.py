"""Stable keys derived from alert content, for sources that do not send their own."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def labels_key(labels: Mapping[str, str]) -> str:
    """A fingerprint of a label set (order-independent), like Alertmanager's own."""
    return digest(*(f"{k}={v}" for k, v in sorted(labels.items())))[:16]


def service_of(labels: Mapping[str, str]) -> str:
    """The owning service as labels usually carry it, most explicit label first."""
    for key in ("service", "app.kubernetes.io/name", "app", "application", "namespace", "job"):
        value = labels.get(key)
        if value:
            return value
    return "unknown"
