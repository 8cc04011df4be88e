"""Stable keys derived from alert content, for sources that do not send their own."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def labels_key(labels: Mapping[str, str]) -> str:
    """A fingerprint of a label set (order-independent), like Alertmanager's own."""
    return digest(*(f"{k}={v}" for k, v in sorted(labels.items())))[:16]


#: Labels naming the owning service, most explicit first (DDRUN_SERVICE_LABELS).
SERVICE_LABELS = ("service", "app.kubernetes.io/name", "app", "application", "namespace", "job")
#: Values Prometheus puts in `service`/`job` for the scrape target, i.e. the monitoring plumbing
#: that measured the problem, not the service that has it: kube-prometheus labels a payments
#: volume alert `service: kubelet`. Skipped, so the next label (e.g. `namespace`) names it.
PLUMBING_SERVICES = (
    "kubelet",
    "kube-state-metrics",
    "node-exporter",
    "kube-apiserver",
    "apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "coredns",
    "kube-dns",
    "prometheus-k8s",
    "prometheus-operator",
    "alertmanager-main",
    "blackbox-exporter",
)


@dataclass(frozen=True)
class ServiceLabels:
    """Which alert labels name the service, in order, and which values never do."""

    labels: tuple[str, ...] = SERVICE_LABELS
    ignored: frozenset[str] = frozenset(PLUMBING_SERVICES)


DEFAULT_SERVICE_LABELS = ServiceLabels()


def service_of(labels: Mapping[str, str], mapping: ServiceLabels = DEFAULT_SERVICE_LABELS) -> str:
    """The owning service: the first mapped label present whose value is not plumbing."""
    for key in mapping.labels:
        value = labels.get(key)
        if value and value not in mapping.ignored:
            return value
    return "unknown"
