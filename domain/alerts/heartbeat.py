"""Heartbeat alerts: alerts that fire to prove the alerting pipeline works, never a problem.

Alertmanager's `Watchdog` (kube-prometheus: "always firing", `severity: none`) and
`InfoInhibitor` arrive at every receiver that has no route for them. Opening an incident for
one pages a person for a healthy system, so they are acknowledged and start nothing. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.alert import Alert


@dataclass(frozen=True)
class HeartbeatRule:
    """Which alerts are heartbeats: by name, or by their `severity` label (case-insensitive)."""

    names: frozenset[str]
    severities: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str], severities: Iterable[str]) -> HeartbeatRule:
        return cls(
            names=frozenset(n.lower() for n in names),
            severities=frozenset(s.lower() for s in severities),
        )


def is_heartbeat(alert: Alert, rule: HeartbeatRule) -> bool:
    """True for an alert that only says "alerting works"; its status does not matter."""
    severity = alert.labels.get("severity", alert.severity)
    return alert.name.lower() in rule.names or severity.lower() in rule.severities
