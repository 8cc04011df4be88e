"""Risk rules for Kubernetes tooling: kubectl and oc verbs, helm releases, virtctl VMs."""

from __future__ import annotations

from domain.runbooks.risk_base import (
    CAUTION,
    DANGEROUS,
    SAFE,
    Recurse,
    Verdict,
    after_double_dash,
    flag_value,
    has_flag,
    positional,
)

_KUBE_VALUE_FLAGS = frozenset(
    {
        "-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s",
        "--server", "--as", "--token", "--request-timeout", "-l", "--selector", "-o",
        "--output", "-c", "--container", "-f", "--filename", "--field-selector", "--since",
        "--tail", "--since-time", "-p", "--patch", "--type", "--replicas", "--timeout",
        "--grace-period", "--image", "--sort-by", "--template", "--for", "-L",
        "--label-columns", "--current-replicas", "--resource-version", "--to-revision",
        "--patch-file", "--subresource", "--field-manager", "--dest-dir", "--node-name",
        "--pod-selector", "--chunk-size", "--max-log-requests", "--limit-bytes", "-k",
        "--kustomize", "--show-kind", "--address", "--profile", "--custom-columns",
    }
)  # fmt: skip

_KUBE_SAFE = frozenset(
    {
        "get", "describe", "logs", "log", "top", "explain", "api-resources", "api-versions",
        "version", "cluster-info", "diff", "events", "wait", "auth", "port-forward", "proxy",
        "kustomize", "completion", "options", "plugin", "status", "whoami", "projects",
        "observe", "help", "process", "can-i",
    }
)  # fmt: skip
_KUBE_CAUTION = {
    "annotate": "adds or changes annotations",
    "label": "adds or changes labels",
    "apply": "applies a configuration change",
    "patch": "patches a live object",
    "edit": "edits a live object",
    "set": "changes a workload's spec (image, env, resources)",
    "create": "creates resources",
    "expose": "creates a service",
    "run": "starts a new pod",
    "autoscale": "changes autoscaling",
    "taint": "changes node taints (affects scheduling)",
    "cordon": "marks the node unschedulable (reversible with uncordon)",
    "uncordon": "makes the node schedulable again",
    "cp": "copies files into or out of a container",
    "attach": "attaches to a running container",
    "certificate": "approves or denies certificate requests",
    "project": "switches the current project in the local kubeconfig",
    "login": "logs in and rewrites the local kubeconfig",
    "logout": "logs out",
    "new-project": "creates a project",
    "new-app": "creates an application",
    "start-build": "starts a build",
    "import-image": "imports an image",
    "tag": "tags an image stream",
    "idle": "idles services (scales them to zero until traffic arrives)",
    "extract": "writes secrets or config maps to local files",
    "rsync": "copies files to or from a pod",
    "must-gather": "runs a must-gather pod that collects diagnostics",
    "policy": "changes RBAC policy",
    "groups": "changes groups",
    "config": "changes the local kubeconfig",
    "secrets": "changes secrets",
    "registry": "changes registry settings",
    "migrate": "migrates storage or images",
    "image": "works on images",
}


def _kube_dry_run(args: list[str]) -> bool:
    value = flag_value(args, "--dry-run")
    return has_flag(args, "--dry-run") and value not in {"none", "false"}


def kubectl(tool: str, args: list[str], recurse: Recurse) -> list[Verdict]:
    """kubectl and oc (including `oc adm`): the verb decides, a few flags make it worse."""
    pos = positional(args, _KUBE_VALUE_FLAGS)
    if not pos:
        return [(CAUTION, f"{tool} with no verb")]
    verb, rest = pos[0], pos[1:]
    if verb == "argo" and rest[:1] == ["rollouts"]:
        sub = rest[1] if len(rest) > 1 else ""
        if sub in {"get", "status", "list", "version", "lint"}:
            return [(SAFE, f"{tool} argo rollouts {sub} only reads")]
        return [(CAUTION, f"{tool} argo rollouts {sub or '(no verb)'} changes the rollout")]
    if verb == "adm":
        if not rest:
            return [(SAFE, f"{tool} adm with no verb only prints help")]
        verb, rest = rest[0], rest[1:]
        if verb == "upgrade":
            if rest or has_flag(args, "--to", "--to-image", "--to-latest"):
                return [
                    (DANGEROUS, f"{tool} adm upgrade changes the cluster version (no downgrade)")
                ]
            return [(SAFE, f"{tool} adm upgrade with no target only shows the upgrade status")]
        if verb in {"inspect", "node-logs", "top"}:
            return [(SAFE, f"{tool} adm {verb} only reads")]
        if verb == "release" and rest[:1] == ["info"]:
            return [(SAFE, f"{tool} adm release info only reads")]
        if verb == "prune":
            return [(DANGEROUS, f"{tool} adm prune deletes old objects (irreversible)")]
        if verb == "reboot-machine-config-pool":
            return [(DANGEROUS, f"{tool} adm reboot-machine-config-pool reboots nodes")]
    if _kube_dry_run(args) and verb in {"apply", "create", "delete", "patch", "scale", "drain"}:
        return [(SAFE, f"{tool} {verb} --dry-run changes nothing")]
    if verb in {"get", "describe", "logs", "log", "top", "explain", "events"}:
        return [(SAFE, f"{tool} {verb} only reads")]
    if verb == "rollout":
        sub = rest[0] if rest else ""
        if sub in {"status", "history"}:
            return [(SAFE, f"{tool} rollout {sub} only reads")]
        if sub == "restart":
            return [
                (CAUTION, f"{tool} rollout restart recreates pods (reversible with rollout undo)")
            ]
        if sub == "undo":
            return [(CAUTION, f"{tool} rollout undo returns to a previous revision")]
        return [(CAUTION, f"{tool} rollout {sub or '(no sub-command)'} changes a rollout")]
    if verb == "config":
        sub = rest[0] if rest else ""
        if sub in {"view", "get-contexts", "current-context", "get-clusters", "get-users"}:
            return [(SAFE, f"{tool} config {sub} only reads")]
        return [(CAUTION, f"{tool} config {sub} changes the local kubeconfig")]
    if verb in {"delete", "del"}:
        what = " ".join(rest[:2]) or "resources"
        return [(DANGEROUS, f"{tool} delete removes resources ({what}) (irreversible)")]
    if verb == "scale":
        replicas = flag_value(args, "--replicas")
        if replicas is not None and replicas.strip("'\"") == "0":
            return [(DANGEROUS, f"{tool} scale --replicas=0 stops every pod of the workload")]
        return [(CAUTION, f"{tool} scale changes the replica count (reversible)")]
    if verb == "drain":
        if has_flag(
            args, "--delete-emptydir-data", "--delete-local-data", "--force", "--disable-eviction"
        ):
            return [
                (DANGEROUS, f"{tool} drain deletes pods and their emptyDir data (irreversible)")
            ]
        return [(CAUTION, f"{tool} drain evicts pods from the node (uncordon to undo)")]
    if verb == "replace":
        if has_flag(args, "--force"):
            return [(DANGEROUS, f"{tool} replace --force deletes and recreates the object")]
        return [(CAUTION, f"{tool} replace overwrites a live object")]
    if verb == "apply" and has_flag(args, "--prune"):
        return [(DANGEROUS, f"{tool} apply --prune deletes objects missing from the manifests")]
    if verb == "patch" and any("finalizers" in a for a in args):
        return [(DANGEROUS, f"{tool} patch on finalizers can orphan or lose resources")]
    if verb in {"exec", "rsh", "debug"}:
        return _exec_like(tool, verb, args, rest, recurse)
    if verb in _KUBE_CAUTION:
        return [(CAUTION, f"{tool} {verb} {_KUBE_CAUTION[verb]}")]
    if verb in _KUBE_SAFE:
        return [(SAFE, f"{tool} {verb} only reads")]
    return [(CAUTION, f"{tool} {verb}: unknown verb, treated as a change")]


def _exec_like(
    tool: str, verb: str, args: list[str], rest: list[str], recurse: Recurse
) -> list[Verdict]:
    inner = after_double_dash(args)
    if inner is None and verb == "rsh" and len(rest) > 1:
        inner = rest[1:]
    out: list[Verdict] = []
    if verb == "debug":
        out.append((CAUTION, f"{tool} debug starts a debug pod (with host access on a node)"))
    if not inner:
        if verb != "debug":
            out.append((CAUTION, f"{tool} {verb} opens an interactive shell in a container"))
        return out
    if inner[0] in {"bash", "sh", "/bin/bash", "/bin/sh"} and len(inner) == 1:
        return [*out, (CAUTION, f"{tool} {verb} opens an interactive shell in a container")]
    return out + [(risk, f"in the container: {reason}") for risk, reason in recurse(inner)]


_HELM_SAFE = frozenset(
    {"list", "ls", "status", "history", "get", "show", "inspect", "search", "template", "lint",
     "version", "env", "diff", "verify", "help"}
)  # fmt: skip
_HELM_VALUE_FLAGS = frozenset(
    {
        "-n",
        "--namespace",
        "--kube-context",
        "--kubeconfig",
        "-f",
        "--values",
        "--set",
        "--version",
        "-o",
        "--output",
        "--timeout",
    }
)


def helm(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, _HELM_VALUE_FLAGS)
    verb = pos[0] if pos else ""
    if has_flag(args, "--dry-run"):
        return [(SAFE, f"helm {verb} --dry-run changes nothing")]
    if verb in {"uninstall", "delete", "del", "un"}:
        return [(DANGEROUS, "helm uninstall deletes the release and its resources (irreversible)")]
    if verb == "repo":
        sub = pos[1] if len(pos) > 1 else ""
        if sub in {"list", "ls", "index"}:
            return [(SAFE, "helm repo list only reads")]
        if sub == "remove":
            return [(CAUTION, "helm repo remove changes the local repository list")]
        return [(CAUTION, f"helm repo {sub} changes the local repository list")]
    if verb in _HELM_SAFE:
        return [(SAFE, f"helm {verb} only reads")]
    if verb in {"rollback", "upgrade"} and has_flag(args, "--force"):
        return [(DANGEROUS, f"helm {verb} --force deletes and recreates the release's resources")]
    if verb == "rollback":
        return [(CAUTION, "helm rollback returns the release to an earlier revision")]
    if verb in {"install", "upgrade"}:
        return [(CAUTION, f"helm {verb} changes the release (helm rollback undoes it)")]
    return [(CAUTION, f"helm {verb or '(no verb)'}: treated as a change")]


def virtctl(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-n", "--namespace", "--kubeconfig", "--context"}))
    verb = pos[0] if pos else ""
    if verb in {"version", "guestosinfo", "fslist", "userlist", "help", "vmexport-info"}:
        return [(SAFE, f"virtctl {verb} only reads")]
    if verb in {"console", "vnc", "ssh", "scp", "port-forward"}:
        return [(CAUTION, f"virtctl {verb} opens interactive access to the VM")]
    if verb in {"stop", "restart", "soft-reboot", "pause"}:
        return [(CAUTION, f"virtctl {verb} interrupts the virtual machine (reversible)")]
    return [(CAUTION, f"virtctl {verb or '(no verb)'} changes the virtual machine")]
