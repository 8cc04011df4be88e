"""Risk rules for cloud and infrastructure CLIs: aws, gcloud, az and terraform.

Cloud CLIs name their operations with a verb prefix (describe-, delete-...), so the prefix decides.
"""

from __future__ import annotations

from domain.runbooks.risk_base import (
    CAUTION,
    DANGEROUS,
    SAFE,
    Recurse,
    Verdict,
    has_flag,
    positional,
)

_READ_PREFIXES = (
    "describe", "list", "get", "lookup", "search", "batch-get", "query", "scan", "filter",
    "wait", "help", "tail", "validate", "estimate", "simulate", "show", "check", "read",
    "head", "ls", "test-", "preview", "info", "version", "export",
)  # fmt: skip
_DESTROY_PREFIXES = ("delete", "terminate", "purge", "destroy", "failover", "wipe", "drop", "rm")
_AWS_VALUE_FLAGS = frozenset(
    {"--region", "--profile", "--output", "--query", "--endpoint-url", "--color", "--ca-bundle",
     "--cli-read-timeout", "--cli-connect-timeout"}
)  # fmt: skip


def _by_prefix(tool: str, service: str, op: str) -> Verdict:
    shown = f"{tool} {service} {op}".strip()
    low = op.lower()
    if low.startswith(_DESTROY_PREFIXES) or "failover" in low:
        return DANGEROUS, f"{shown} deletes, terminates or fails over (irreversible)"
    if low.startswith(_READ_PREFIXES):
        return SAFE, f"{shown} only reads"
    if low.startswith(("create-db-snapshot", "create-db-cluster-snapshot", "create-snapshot",
                       "copy-db-snapshot", "create-backup")):  # fmt: skip
        return SAFE, f"{shown} takes a backup (adds a copy, changes nothing in use)"
    return CAUTION, f"{shown} changes cloud resources"


def aws(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, _AWS_VALUE_FLAGS)
    if not pos:
        return [(CAUTION, "aws with no service")]
    service = pos[0]
    op = pos[1] if len(pos) > 1 else ""
    if has_flag(args, "--dry-run"):
        return [(SAFE, f"aws {service} {op} --dry-run changes nothing")]
    if service == "s3":
        if op in {"ls", "presign"}:
            return [(SAFE, f"aws s3 {op} only reads")]
        if op in {"rm", "rb"} or (op == "sync" and has_flag(args, "--delete")):
            return [(DANGEROUS, f"aws s3 {op} deletes objects (irreversible)")]
        return [(CAUTION, f"aws s3 {op} writes objects or files")]
    if service == "configure":
        return [(CAUTION, "aws configure changes local credentials")]
    if op == "reboot-db-instance" and has_flag(args, "--force-failover"):
        return [(DANGEROUS, "aws rds reboot-db-instance --force-failover fails over the database")]
    if op == "set-desired-capacity":
        return [(CAUTION, "aws autoscaling set-desired-capacity resizes the group (reversible)")]
    if op.startswith("detach") and has_flag(args, "--force"):
        return [(DANGEROUS, f"aws {service} {op} --force can corrupt the volume's filesystem")]
    if op.startswith(("deregister", "revoke", "remove", "disable", "detach", "stop")):
        return [(CAUTION, f"aws {service} {op} changes cloud resources (reversible)")]
    return [_by_prefix("aws", service, op)]


_GCLOUD_SAFE = frozenset(
    {"list", "describe", "read", "tail", "info", "version", "get-iam-policy", "get-value",
     "get-serial-port-output", "help"}
)  # fmt: skip
_GCLOUD_DANGER = frozenset({"delete", "failover", "restore-backup", "restore", "reset", "purge"})


def gcloud(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"--project", "--format", "--zone", "--region", "--filter"}))
    words = [w for w in pos if w not in {"alpha", "beta"}]
    for word in words:
        if word in _GCLOUD_DANGER:
            return [
                (DANGEROUS, f"gcloud {' '.join(words[:3])} deletes or fails over (irreversible)")
            ]
    for word in words:
        if word in _GCLOUD_SAFE or word.startswith(("list-", "describe-", "get-")):
            return [(SAFE, f"gcloud {' '.join(words[:3])} only reads")]
    return [(CAUTION, f"gcloud {' '.join(words[:3])} changes cloud resources")]


def az(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(
        args,
        frozenset(
            {
                "-g",
                "--resource-group",
                "-n",
                "--name",
                "--subscription",
                "-o",
                "--output",
                "--query",
            }
        ),
    )
    for word in pos:
        if word in {"delete", "purge", "failover", "restore", "wipe"} or (
            word in {"renew", "regenerate"} and "keys" in pos
        ):
            return [(DANGEROUS, f"az {' '.join(pos[:3])} deletes or fails over (irreversible)")]
    for word in pos:
        if word in {"show", "list", "get", "query", "version"} or word.startswith(
            ("list-", "show-")
        ):
            return [(SAFE, f"az {' '.join(pos[:3])} only reads")]
    return [(CAUTION, f"az {' '.join(pos[:3])} changes cloud resources")]


def terraform(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-chdir", "-var", "-var-file", "-target", "-out"}))
    verb = pos[0] if pos else ""
    sub = pos[1] if len(pos) > 1 else ""
    if verb == "destroy" or (verb == "apply" and has_flag(args, "-destroy")):
        return [(DANGEROUS, f"{tool} destroy deletes infrastructure (irreversible)")]
    if verb == "state":
        if sub in {"list", "show", "pull"}:
            return [(SAFE, f"{tool} state {sub} only reads")]
        if sub in {"rm", "replace-provider", "push"}:
            return [(DANGEROUS, f"{tool} state {sub} rewrites the state file")]
        return [(CAUTION, f"{tool} state {sub} changes the state file")]
    if verb in {"plan", "show", "output", "validate", "version", "providers", "graph", "console"}:
        return [(SAFE, f"{tool} {verb} only reads")]
    if verb == "fmt" and has_flag(args, "-check"):
        return [(SAFE, f"{tool} fmt -check only reads")]
    if verb == "apply":
        if has_flag(args, "-auto-approve"):
            return [(DANGEROUS, f"{tool} apply -auto-approve changes infrastructure unreviewed")]
        return [(CAUTION, f"{tool} apply changes infrastructure (review the plan)")]
    return [(CAUTION, f"{tool} {verb or '(no verb)'} changes state or configuration")]
