"""Risk rules for operations CLIs whose subcommand says what they do: RabbitMQ, Patroni, Vault,
Kafka's scripts, HAProxy, nginx and certbot (read-only verbs are safe, destructive ones are not).
"""

from __future__ import annotations

import re

from domain.runbooks.risk_base import (
    CAUTION,
    DANGEROUS,
    SAFE,
    Recurse,
    Verdict,
    has_flag,
    positional,
)


def rabbitmqctl(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-p", "--vhost", "-n", "--node", "-t", "--timeout"}))
    cmd = pos[0] if pos else ""
    if cmd in {"purge_queue", "delete_queue", "reset", "force_reset", "forget_cluster_node",
               "delete_vhost", "delete_user", "force_boot"}:  # fmt: skip
        return [(DANGEROUS, f"{tool} {cmd} deletes messages or cluster state (irreversible)")]
    if cmd.startswith("list_") or cmd in {"status", "cluster_status", "environment", "report",
                                          "ping", "node_health_check", "version"}:  # fmt: skip
        return [(SAFE, f"{tool} {cmd} only reads")]
    return [(CAUTION, f"{tool} {cmd or 'command'} changes the broker")]


_CHRONYC_READS = frozenset({"tracking", "sources", "sourcestats", "activity", "ntpdata", "clients",
                            "serverstats", "selectdata", "rtcdata", "smoothing", "waitsync",
                            "authdata", "manual"})  # fmt: skip


def chronyc(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-h", "-p", "-f"}))
    cmd = pos[0] if pos else "tracking"
    if cmd in _CHRONYC_READS and (cmd != "manual" or pos[1:2] == ["list"]):
        return [(SAFE, f"{tool} {cmd} only reads")]
    return [(CAUTION, f"{tool} {cmd} changes the clock or chronyd's sources (makestep jumps time)")]


def patronictl(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-c", "--config-file", "-d", "--dcs-url"}))
    cmd = pos[0] if pos else ""
    if cmd in {"list", "history", "show-config", "topology", "version", "dsn"}:
        return [(SAFE, f"{tool} {cmd} only reads")]
    if cmd in {"failover", "switchover", "reinit", "remove"}:
        return [(DANGEROUS, f"{tool} {cmd} moves or rebuilds the primary (hard to undo)")]
    return [(CAUTION, f"{tool} {cmd or 'command'} changes the cluster")]


def vault(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args)
    words = " ".join(pos[:3])
    if words.startswith(("status", "read", "list", "version", "kv get", "kv list",
                         "token lookup", "operator raft list-peers", "operator members",
                         "audit list", "secrets list", "auth list", "policy read",
                         "policy list", "operator raft autopilot state")):  # fmt: skip
        return [(SAFE, f"vault {words} only reads")]
    if words.startswith(("delete", "kv delete", "kv destroy", "kv metadata delete",
                         "operator raft remove-peer", "lease revoke", "secrets disable",
                         "token revoke")):  # fmt: skip
        return [(DANGEROUS, f"vault {words} removes data or members (irreversible)")]
    return [(CAUTION, f"vault {words or 'command'} changes Vault's state")]


def kafka_tool(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    name = tool.removesuffix(".sh")
    if has_flag(args, "--describe", "--list") and not has_flag(
        args, "--alter", "--delete", "--reset-offsets", "--execute", "--create"
    ):
        return [(SAFE, f"{name} --describe/--list only reads")]
    if name == "kafka-consumer-groups" and (
        (has_flag(args, "--reset-offsets") and has_flag(args, "--execute"))
        or has_flag(args, "--delete", "--delete-offsets")
    ):
        return [(DANGEROUS, f"{name} moves or deletes committed offsets (messages skipped)")]
    if has_flag(args, "--delete"):
        return [(DANGEROUS, f"{name} --delete removes topics or configs (irreversible)")]
    if name == "kafka-configs" and any("retention." in a for a in args):
        return [(DANGEROUS, f"{name} changes retention: a shorter one deletes data")]
    if name == "kafka-leader-election" and any(a.upper() == "UNCLEAN" for a in args):
        return [(DANGEROUS, "unclean leader election loses messages (irreversible)")]
    if name in {"kafka-console-consumer", "kafka-log-dirs", "kafka-broker-api-versions"}:
        return [(SAFE, f"{name} only reads")]
    return [(CAUTION, f"{name} changes the Kafka cluster")]


def config_checker(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    """haproxy -c, nginx -t, certbot --dry-run: checks that change nothing."""
    if tool == "haproxy" and has_flag(args, "-c", "-v", "-vv"):
        return [(SAFE, "haproxy -c only checks the configuration")]
    if tool == "nginx" and has_flag(args, "-t", "-T", "-v", "-V"):
        return [(SAFE, "nginx -t only checks the configuration")]
    if tool == "certbot":
        pos = positional(args, frozenset({"--cert-name", "-d", "--domains"}))
        if has_flag(args, "--dry-run") or pos[:1] == ["certificates"]:
            return [(SAFE, "certbot dry run / listing changes nothing")]
        if pos[:1] in (["delete"], ["revoke"]):
            return [(DANGEROUS, f"certbot {pos[0]} removes a certificate (irreversible)")]
    return [(CAUTION, f"{tool} changes a running service or its certificates")]


def hashicorp(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    """consul and nomad: status/list/logs read; force-leave, deletes and purges remove."""
    pos = positional(args)
    words = " ".join(pos[:2])
    if pos[:1] in (["members"], ["info"], ["version"], ["monitor"]) or (
        len(pos) >= 2 and pos[1] in {"status", "list", "logs", "inspect", "get", "read", "info"}
    ):
        return [(SAFE, f"{tool} {words} only reads")]
    if pos[:3] == ["operator", "raft", "list-peers"]:
        return [(SAFE, f"{tool} operator raft list-peers only reads")]
    if pos[:3] == ["operator", "raft", "remove-peer"]:
        return [(DANGEROUS, f"{tool} operator raft remove-peer removes a server from the quorum")]
    if pos[:1] in (["force-leave"], ["leave"]) or "delete" in pos[:2] or has_flag(args, "-purge"):
        return [(DANGEROUS, f"{tool} {words} removes a member or data (hard to undo)")]
    return [(CAUTION, f"{tool} {words} changes the cluster")]


def backup_tool(tool: str, _args: list[str], _recurse: Recurse) -> list[Verdict]:
    """pg_dump, mysqldump, mongodump: they read the database and write a copy elsewhere."""
    return [(SAFE, f"{tool} takes a backup; the database is only read")]


def rabbitmq_diagnostics(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-n", "--node", "-t", "--timeout", "--unit", "-p"}))
    return [(SAFE, f"{tool} {pos[0] if pos else 'status'} only reports on the node")]


_MYSQLADMIN_READS = frozenset({"ping", "status", "extended-status", "processlist", "variables",
                               "version"})  # fmt: skip


def mysqladmin(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-h", "--host", "-u", "--user", "-P", "--port", "-S"}))
    if pos and all(p in _MYSQLADMIN_READS for p in pos):
        return [(SAFE, f"{tool} {' '.join(pos)} only reads")]
    if any(p in {"shutdown", "drop"} for p in pos):
        return [(DANGEROUS, f"{tool} shutdown/drop stops the server or deletes a database")]
    return [(CAUTION, f"{tool} {' '.join(pos) or 'command'} changes the server")]


def gsutil(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-o", "-h", "-u", "-p"}))
    cmd = pos[0] if pos else ""
    if cmd in {"rm", "rb"} or (cmd == "rsync" and has_flag(args, "-d")):
        return [(DANGEROUS, f"{tool} {cmd} deletes objects or buckets (irreversible)")]
    if cmd in {"ls", "cat", "stat", "du", "hash", "version", "help"} or pos[:2] in (
        ["iam", "get"],
        ["acl", "get"],
        ["versioning", "get"],
    ):
        return [(SAFE, f"{tool} {cmd} only reads")]
    return [(CAUTION, f"{tool} {cmd or 'command'} writes objects or bucket settings")]


def fuser(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if any(a.startswith("-") and not a.startswith("--") and "k" in a for a in args) or has_flag(
        args, "--kill"
    ):
        return [(CAUTION, f"{tool} -k kills the processes using the file or mount")]
    return [(SAFE, f"{tool} only lists the processes using the file or mount")]


def postsuper(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if has_flag(args, "-d"):
        return [(DANGEROUS, f"{tool} -d deletes queued mail (irreversible)")]
    return [(CAUTION, f"{tool} holds, releases or requeues mail")]


_MONGO_DANGER = ("stepdown(", "dropdatabase(", ".drop(", "remove(", "deletemany(", "deleteone(",
                 "rs.remove(", "rs.reconfig(", "force: true", "force:true")  # fmt: skip
_MONGO_READ = ("rs.status(", "serverstatus(", "rs.conf(", "db.currentop(", ".find(", ".count",
               "getreplicationinfo", "printjson(", "rs.printsecondaryreplicationinfo",
               "db.stats(", "ismaster", "hello(")  # fmt: skip


def mongo_shell(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    """mongosh/mongo --eval: what the script calls says what it does."""
    script = " ".join(args[args.index("--eval") + 1 :][:1]).lower() if "--eval" in args else ""
    if any(word in script for word in _MONGO_DANGER):
        return [(DANGEROUS, f"{tool} --eval steps down the primary or deletes data")]
    if script and any(word in script for word in _MONGO_READ) and "killop" not in script:
        return [(SAFE, f"{tool} --eval only reads status")]
    return [(CAUTION, f"{tool} may change the database")]


HANDLERS = {
    "gsutil": gsutil,
    "fuser": fuser,
    "postsuper": postsuper,
    "mongosh": mongo_shell,
    "mongo": mongo_shell,
    "rabbitmq-diagnostics": rabbitmq_diagnostics,
    "mysqladmin": mysqladmin,
    "consul": hashicorp,
    "nomad": hashicorp,
    "pg_dump": backup_tool,
    "pg_dumpall": backup_tool,
    "pg_basebackup": backup_tool,
    "mysqldump": backup_tool,
    "mongodump": backup_tool,
    "rabbitmqctl": rabbitmqctl,
    "patronictl": patronictl,
    "vault": vault,
    "haproxy": config_checker,
    "nginx": config_checker,
    "certbot": config_checker,
    **{
        f"kafka-{name}{suffix}": kafka_tool
        for name in ("consumer-groups", "topics", "configs", "console-consumer", "log-dirs",
                     "reassign-partitions", "leader-election", "broker-api-versions")
        for suffix in ("", ".sh")
    },
}  # fmt: skip


# A PowerShell cmdlet: an approved verb, a dash, a capitalised noun ("Get-WinEvent")
CMDLET_RE = re.compile(
    r"^(?:Get|Set|Start|Stop|Restart|Remove|New|Invoke|Enter|Exit|Import|Export|Test|Add|Clear|"
    r"Resolve|Select|Where|Measure|Format|Out|Write|Update|Enable|Disable|Suspend|Resume|"
    r"Register|Unregister|Reset|Move|Copy|Rename|Install|Uninstall|Connect|Disconnect|Send|"
    r"Receive|Mount|Dismount|Repair|Sync|Restore|Grant|Revoke|Lock|Unlock|ConvertTo|ConvertFrom|"
    r"Compare|Sort|Tee|Wait)-[A-Z][A-Za-z]{1,40}$"
)

_CMDLET_READS = frozenset({"Get", "Select", "Where", "Measure", "Format", "Test", "Resolve",
                           "Compare", "Sort", "ConvertTo", "ConvertFrom", "Import", "Enter",
                           "Exit", "Wait", "Tee"})  # fmt: skip


def cmdlet(tool: str, args: list[str], recurse: Recurse) -> list[Verdict]:
    """PowerShell: the verb says what a cmdlet does; a script block run remotely
    (`Invoke-Command -ComputerName x { ... }`) is rated by what it holds."""
    verb = tool.split("-", 1)[0]
    if tool == "Invoke-Command" and "{" in args:
        inner = [a for a in args[args.index("{") + 1 :] if a != "}"]
        if inner:
            return [(r, f"remotely: {why}") for r, why in recurse(inner)]
    if verb in _CMDLET_READS:
        return [(SAFE, f"{tool} only reads")]
    if verb in {"Remove", "Uninstall"}:
        return [(DANGEROUS, f"{tool} deletes (irreversible)")]
    return [(CAUTION, f"{tool} changes the system")]
