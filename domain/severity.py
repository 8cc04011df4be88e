"""Which level an alert's incident gets: the first configured label with a mapped value, then
the alert's own severity word, then the policy's default."""

from __future__ import annotations

from schemas.alert import Alert
from schemas.severity import Severity, SeverityPolicy


def level_of(word: str, policy: SeverityPolicy) -> Severity | None:
    """A severity word in any source's spelling (`P1`, `critical`, ` Sev2 `), or None."""
    key = word.strip().lower()
    mapping = {k.strip().lower(): v for k, v in policy.mapping.items()}
    if key in mapping:
        return mapping[key]
    try:
        return Severity(key.upper())
    except ValueError:
        return None


def derive_severity(alert: Alert, policy: SeverityPolicy) -> Severity:
    for label in policy.labels:
        value = alert.labels.get(label)
        if value is not None and (level := level_of(value, policy)) is not None:
            return level
    return level_of(alert.severity, policy) or policy.default
