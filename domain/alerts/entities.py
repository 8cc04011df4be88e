"""Names in alert text that say where a problem is, not what it is: hosts, pods, services, IPs.

"Disk on db-3 will fill up" is about a disk; `db-3` is a host, and read as words it would say
"database". A title names the affected thing in the words of its labels (`payment-svc` is the
`service` label) or in shapes no runbook topic has (`worker-12`, `10.0.3.17`, `/var/lib/x`).
Such spans are cut out of what the alert says and kept only as context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from domain.alerts.vocabulary import COMPONENTS

# Labels whose values describe the problem rather than name a thing: never cut from text.
_DESCRIPTIVE_LABELS = frozenset(
    {
        "alertname", "severity", "reason", "phase", "condition", "resource", "verb",
        "integration", "fstype", "priority", "urgency", "grafana_folder", "type", "status",
    }
)  # fmt: skip
_MIN_ENTITY_CHARS = 4
# A hyphenated or dotted name with a numbered part (db-3, worker-12, ip-10-0-3-17.ec2.internal,
# payment-svc-7d9f8b6c4-x2k9q), an IPv4 address with an optional port, an absolute path, or a
# domain name (www.example.com; API groups like metrics.k8s.io are kept).
_SHAPES = re.compile(
    r"(?<![\w/])[A-Za-z][\w]*(?:[-.][\w]+)*-[A-Za-z]*\d[\w]*(?:[-.:][\w]+)*"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"
    r"|(?<![\w/])/(?:[\w.-]+/?)*"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|internal|local|lan|corp|cloud|co|dev|app)\b"
)


def entity_names(labels: Mapping[str, str]) -> list[str]:
    """Label values that name things (services, hosts, pods), longest first, port stripped;
    not a well-known component's own name (kubelet, etcd), which says what the alert is about."""
    names: set[str] = set()
    for key, value in labels.items():
        if key in _DESCRIPTIVE_LABELS:
            continue
        value = value.strip()
        if value.lower() in COMPONENTS:
            continue  # `job: kubelet` names the software the alert is about: keep the word
        host = value.rsplit(":", 1)[0] if re.search(r":\d+$", value) else value
        for name in (value, host):
            if len(name) >= _MIN_ENTITY_CHARS and not name.isdigit():
                names.add(name)
    return sorted(names, key=len, reverse=True)


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)


def split_entities(text: str, names: list[str]) -> tuple[str, list[str]]:
    """The text with entity spans blanked out, and the spans themselves."""
    found: list[str] = []
    lowered = text.lower()
    for name in names:
        if name.lower() not in lowered:
            continue
        pattern = _name_pattern(name)
        if pattern.search(text):
            found.append(name)
            text = pattern.sub(" ", text)

    def cut(match: re.Match[str]) -> str:
        found.append(match.group(0))
        return " "

    return _SHAPES.sub(cut, text), found
