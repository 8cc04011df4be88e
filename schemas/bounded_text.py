"""Text that must fit a server's limit, cut deterministically so equal inputs stay equal.

Values from a sender become Temporal search attributes (keyword: 2,048 bytes by default), parts
of workflow ids (1,000 bytes) and database keys. Refusing a long value would lose the alert, and
cutting it plainly would merge two different long values; so a value over its limit keeps the
longest UTF-8 prefix that fits and ends in `~` and 16 hex digits of the whole value's SHA-256.
The same long service always maps to the same value, and values within the limit are unchanged
(so folding twice, or in a workflow replaying old history, changes nothing).

Keywords are also quoted into visibility queries (`IncidentService = "…"`), where a control
character (NUL) or a lone surrogate breaks the server's query parser: `keyword` replaces them
with U+FFFD and adds the digest suffix, so two values differing only there stay apart.
"""

from __future__ import annotations

import hashlib
import re

KEYWORD_BYTES = 200  # service, severity: as long as a kill switch name; far under 2,048
DEDUP_KEY_BYTES = 255  # also IncidentAlertKeys entries; the incident id folds it further
EVENT_ID_BYTES = 128
_SUFFIX_CHARS = 17  # "~" + 16 hex digits
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def fit_bytes(value: str, max_bytes: int) -> str:
    """`value` if its UTF-8 form fits `max_bytes`, else a stable prefix~digest that does."""
    encoded = value.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return value
    prefix = encoded[: max_bytes - _SUFFIX_CHARS].decode("utf-8", "ignore")
    return f"{prefix}~{_digest(value)}"


def keyword(value: str, max_bytes: int) -> str:
    """A value safe as a search attribute and inside a visibility query, within `max_bytes`."""
    if _UNSAFE.search(value):
        cleaned = _UNSAFE.sub("\ufffd", value)
        encoded = cleaned.encode("utf-8")[: max_bytes - _SUFFIX_CHARS]
        return f"{encoded.decode('utf-8', 'ignore')}~{_digest(value)}"
    return fit_bytes(value, max_bytes)
