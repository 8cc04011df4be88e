"""What a responder needs before starting: access (VPN, bastion, cluster), roles and tools.

Read from the commands (which CLIs, node debugging, sudo) and from what the prose says.
"""

from __future__ import annotations

import re

_TOOLS = {
    "kubectl": "kubectl with access to the cluster (kubeconfig/context)",
    "oc": "oc CLI logged in to the OpenShift cluster",
    "helm": "helm CLI with access to the cluster",
    "aws": "AWS CLI with credentials for the account",
    "gcloud": "gcloud CLI authenticated to the project",
    "az": "Azure CLI logged in to the subscription",
    "terraform": "terraform with access to the state backend",
    "psql": "psql client and database credentials",
    "mysql": "mysql client and database credentials",
    "redis-cli": "redis-cli with network access to Redis",
    "etcdctl": "etcdctl with etcd client certificates",
    "virtctl": "virtctl CLI (KubeVirt / OpenShift Virtualization)",
    "ceph": "Ceph CLI (e.g. through the rook-ceph toolbox pod)",
    "rados": "Ceph CLI (e.g. through the rook-ceph toolbox pod)",
    "promtool": "promtool",
    "amtool": "amtool with access to Alertmanager",
    "jq": "jq",
    "ssh": "SSH access to the hosts",
    "docker": "docker on the host",
    "crictl": "crictl on the node (root)",
    "systemctl": "shell access to the host (systemd)",
    "journalctl": "shell access to the host (journal)",
}
_PROSE = [
    (re.compile(r"\bVPN\b"), "VPN connection"),
    (re.compile(r"\b(bastion|jump ?host|jumpbox)\b", re.I), "bastion / jump host access"),
    (re.compile(r"\bcluster-admin\b"), "cluster-admin role"),
    (
        re.compile(
            r"\b(?:the\s+)?(\w+-admin|admin(?:istrator)?)\s+(?:role|privileges|rights|access)", re.I
        ),
        "{0} privileges",
    ),
    (re.compile(r"\b(?:must|need to|should) be logged in\b", re.I), "logged in to the cluster"),
    (
        re.compile(r"\b(web console|OpenShift console|Grafana|Kibana|Prometheus UI|dashboard)\b"),
        "access to the {0}",
    ),
    (re.compile(r"\bsupport case\b", re.I), "access to open a vendor support case"),
]


def from_commands(commands: list[str]) -> list[str]:
    found: list[str] = []

    def add(item: str) -> None:
        if item not in found:
            found.append(item)

    for command in commands:
        for word in re.findall(r"(?:^|[\s|;&(`]|\$\()([a-z][\w-]*)", command):
            if word in _TOOLS:
                add(_TOOLS[word])
        if re.search(r"\b(oc|kubectl) (adm|debug) ", command) or re.search(r"debug node/", command):
            add("cluster-admin role (node debugging and oc adm)")
        if re.search(r"(^|\s)sudo\s", command):
            add("root (sudo) on the host")
    return found


def from_text(text: str) -> list[str]:
    found: list[str] = []
    for pattern, template in _PROSE:
        for match in pattern.finditer(text):
            item = template.format(*match.groups()) if match.groups() else template
            if item not in found:
                found.append(item)
    return found
