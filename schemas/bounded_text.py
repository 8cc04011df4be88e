"""Text that must fit a server's limit, cut deterministically so equal inputs stay equal.

Values from a sender become Temporal search attributes (keyword: 2,048 bytes by default), parts
of workflow ids (1,000 bytes) and database keys. Refusing a long value would lose the alert, and
cutting it plainly would merge two different long values; so a value over its limit keeps the
longest UTF-8 prefix that fits and ends in `~` and 16 hex digits of the whole value's SHA-256.
The same long service always maps to the same value, and values within the limit are unchanged
(so folding twice, or in a workflow replaying old history, changes nothing).
"""

from __future__ import annotations

import hashlib

KEYWORD_BYTES = 255  # service, severity: names people read, far under Temporal's 2,048
DEDUP_KEY_BYTES = 255  # also IncidentAlertKeys entries; the incident id folds it further
EVENT_ID_BYTES = 128
_SUFFIX_CHARS = 17  # "~" + 16 hex digits


def fit_bytes(value: str, max_bytes: int) -> str:
    """`value` if its UTF-8 form fits `max_bytes`, else a stable prefix~digest that does."""
    encoded = value.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return value
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    prefix = encoded[: max_bytes - _SUFFIX_CHARS].decode("utf-8", "ignore")
    return f"{prefix}~{digest}"
