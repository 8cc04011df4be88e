"""Incident channel names: readable, unique enough, and inside Slack's naming rules.

Slack accepts lowercase letters, digits, `-` and `_`, at most 80 characters. A name reads like
`inc-20261122-payment-svc-latency`: prefix, the day the incident opened (UTC), the service, then
what fired (the alert name, minus words the service already says). When Slack answers
`name_taken`, `with_suffix` adds a short suffix derived from the incident id, so a retry of the
same incident tries the same names in the same order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime

MAX_CHANNEL_NAME = 80

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")
_UNKNOWN = {"", "unknown", "none", "n-a"}


def slug_words(text: str) -> list[str]:
    """Lowercase ASCII words of `text`; camelCase and punctuation both separate words."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    spaced = _CAMEL.sub(" ", ascii_text).lower()
    return [w for w in _NOT_ALLOWED.split(spaced) if w]


def _fit(words: list[str], limit: int) -> str:
    """Join words with `-`, dropping whole words from the end to stay within `limit`."""
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            if not out:  # one very long word: cut it
                return word[:limit]
            break
        out = candidate
    return out


def channel_name(prefix: str, opened_at: datetime, service: str, subject: str) -> str:
    """The preferred channel name for an incident (see the module docstring)."""
    moment = opened_at.astimezone(UTC) if opened_at.tzinfo else opened_at  # naive: taken as UTC
    day = moment.strftime("%Y%m%d")
    head = [*slug_words(prefix), day]
    service_words = [] if "-".join(slug_words(service)) in _UNKNOWN else slug_words(service)
    subject_words = slug_words(subject)
    known = set(service_words)
    while subject_words and subject_words[0] in known:  # PaymentSvcLatency on payment-svc
        subject_words.pop(0)
    fixed = "-".join(head)
    room = MAX_CHANNEL_NAME - len(fixed) - 1
    tail = _fit(service_words + subject_words, room) if room > 0 else ""
    return f"{fixed}-{tail}" if tail else fixed[:MAX_CHANNEL_NAME]


def with_suffix(name: str, incident_id: str, attempt: int) -> str:
    """`name` for attempt 0, then `name-<4 hex>` and `name-<4 hex><n>`, always ≤ 80 chars."""
    if attempt <= 0:
        return name[:MAX_CHANNEL_NAME]
    tag = hashlib.sha256(incident_id.encode()).hexdigest()[:4]
    suffix = f"-{tag}" if attempt == 1 else f"-{tag}{attempt}"
    return f"{name[: MAX_CHANNEL_NAME - len(suffix)].rstrip('-_')}{suffix}"


def is_valid_channel_name(name: str) -> bool:
    return 0 < len(name) <= MAX_CHANNEL_NAME and re.fullmatch(r"[a-z0-9_-]+", name) is not None


def war_room_name(opened_at: datetime, title: str) -> str:
    """A P0/P1 incident's own war room: `incident-YYYY-MM-DD-<slug of its title>`."""
    moment = opened_at.astimezone(UTC) if opened_at.tzinfo else opened_at
    fixed = f"incident-{moment:%Y-%m-%d}"
    tail = _fit(slug_words(title), MAX_CHANNEL_NAME - len(fixed) - 1)
    return f"{fixed}-{tail}" if tail else fixed
