"""Incident ids come from the alert's dedup key, so a repeated alert can only reach one incident."""

from __future__ import annotations

import re

from domain.alerts.normalize.keys import digest
from schemas.alert import Alert

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_KEY = 160


def incident_id_for(alert: Alert) -> str:
    """`incident-<source>-<dedup key>`, searchable by prefix; odd characters are folded safely."""
    key = _UNSAFE.sub("-", alert.dedup_key).strip("-") or "alert"
    if key != alert.dedup_key or len(key) > _MAX_KEY:
        # Folding could make two keys collide; the digest of the original keeps them apart.
        key = f"{key[:_MAX_KEY]}-{digest(alert.dedup_key)[:10]}"
    return f"incident-{alert.source.value}-{key}"


_INCIDENT_ID = re.compile(r"(?:incident|dryrun)-[A-Za-z0-9._-]{1,380}")


def looks_like_incident_id(text: str) -> bool:
    """Whether `text` could be an id this product made (checked before it reaches Temporal,
    which refuses ids over 1,000 bytes, or a visibility query)."""
    return _INCIDENT_ID.fullmatch(text) is not None
