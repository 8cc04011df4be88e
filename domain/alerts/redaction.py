"""Alerts are redacted before they reach workflow history: a token in a title, a password in a
message or `?token=` in a generator URL must not become part of the permanent audit trail.

Redaction walks the `Alert` model field by field, and every field is redacted unless it is
named below as safe, so a field added to `Alert` later is redacted without anyone remembering
to. The exceptions are the fields whose type cannot carry free text (enums, datetimes, the
body's sha256) and the two identifiers, which must stay stable for deduplication: those are
kept as they are when clean, and replaced by a digest of themselves when they hold a secret
(the same secret gives the same digest, so repeats still reach one incident). URLs anywhere in
an alert lose their userinfo whole (`https://<token>@host` has no password to spot), and
their sensitive query parameters.
"""

from __future__ import annotations

import re
from typing import Any

from domain.alerts.normalize.keys import digest
from domain.audit.redact import Redactor
from schemas.alert import Alert

# Typed values that cannot hold text a sender chose.
_VERBATIM = frozenset({"source", "status", "starts_at", "ends_at", "received_at", "payload_digest"})
# Deduplication identities: kept when clean, hashed when they carry a secret.
_IDENTIFIERS = frozenset({"dedup_key", "event_id"})
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s\"'<>]*@")
REDACTED_KEY_PREFIX = "redacted-"


def strip_userinfo(text: str) -> str:
    """`https://user:pass@host/x` → `https://host/x`, in every URL of `text`."""
    return _USERINFO.sub(r"\1", text)


def _text(value: str, redactor: Redactor) -> str:
    return redactor.redact(strip_userinfo(value))


def _deep(value: Any, redactor: Redactor) -> Any:
    """Strings anywhere in the value redacted (dict keys too); sensitive keys' values hidden."""
    if isinstance(value, str):
        return _text(value, redactor)
    if isinstance(value, dict):
        hidden = redactor.redact_obj(value)
        return {_text(str(k), redactor): _deep(v, redactor) for k, v in hidden.items()}
    if isinstance(value, list | tuple):
        return type(value)(_deep(v, redactor) for v in value)
    return value


def _identifier(value: str, redactor: Redactor) -> str:
    if _text(value, redactor) == value:
        return value
    return REDACTED_KEY_PREFIX + digest(value)[:40]


def redact_alert(alert: Alert, redactor: Redactor) -> Alert:
    """A copy of `alert` in which no field a sender wrote can carry a secret into history."""
    update: dict[str, Any] = {}
    for name in type(alert).model_fields:
        if name in _VERBATIM:
            continue
        value = getattr(alert, name)
        if name in _IDENTIFIERS:
            update[name] = _identifier(value, redactor)
        else:
            update[name] = _deep(value, redactor)
    return alert.model_copy(update=update)
