"""Risk rules for data stores: SQL inside psql/mysql arguments, redis-cli, etcdctl and Ceph.

A database client is only as risky as the statement it is given, so the SQL itself is read.
"""

from __future__ import annotations

import re

from domain.runbooks.risk_base import (
    CAUTION,
    DANGEROUS,
    SAFE,
    Recurse,
    Verdict,
    by_words,
    flag_value,
    has_flag,
    positional,
)

_SQL_SAFE = frozenset({"select", "show", "explain", "describe", "desc", "values", "table", "with"})
_SQL_DANGER = frozenset({"delete", "drop", "truncate"})
_SQL_DANGER_FUNCS = re.compile(
    r"\b(pg_drop_replication_slot|pg_promote|pg_terminate_backend|lo_unlink)\s*\(|"
    r"\b(sql_(?:slave|replica)_skip_counter)\b",
    re.I,
)
_SQL_CHANGE_FUNCS = re.compile(
    r"\b(pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|set_config|"
    r"pg_switch_wal|nextval|setval)\s*\(",
    re.I,
)


def _strip_sql_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def classify_sql(sql: str) -> list[Verdict]:
    """Each statement on its own: reads are safe, writes caution, deletes and drops dangerous."""
    out: list[Verdict] = []
    for statement in _strip_sql_comments(sql).split(";"):
        text = statement.strip()
        if not text:
            continue
        if text.startswith("\\"):  # psql meta-commands: \dt, \l, \x ...
            meta = text.split()[0]
            if meta in {"\\i", "\\ir", "\\copy", "\\o", "\\!", "\\w"}:
                out.append((CAUTION, f"psql {meta} runs a file, a shell or writes output"))
            else:
                out.append((SAFE, f"psql {meta} only describes objects"))
            continue
        words = text.split()
        first = words[0].lower().strip("(")
        upper = text.upper()
        if first in _SQL_DANGER:
            out.append((DANGEROUS, f"SQL {first.upper()} removes data or objects (irreversible)"))
        elif first == "update":
            if re.search(r"\bWHERE\b", upper):
                out.append((CAUTION, "SQL UPDATE changes rows"))
            else:
                out.append((DANGEROUS, "SQL UPDATE without WHERE rewrites every row"))
        elif first == "alter":
            if re.search(r"\b(DROP|RENAME)\b", upper):
                out.append(
                    (DANGEROUS, "SQL ALTER ... DROP/RENAME removes or renames a schema part")
                )
            else:
                out.append((CAUTION, "SQL ALTER changes the schema or settings"))
        elif (
            first == "explain"
            and re.search(r"\bANALY[SZ]E\b", upper)
            and re.search(r"\b(DELETE|UPDATE|INSERT|DROP|TRUNCATE)\b", upper)
        ):
            out.append((DANGEROUS, "EXPLAIN ANALYZE executes the data-changing statement"))
        elif func := _SQL_DANGER_FUNCS.search(text):
            if func.group(1):
                out.append((DANGEROUS, f"SQL calls {func.group(1)}() (kills, promotes or drops)"))
            else:
                out.append((DANGEROUS, f"SQL sets {func.group(2)}: skips replicated changes"))
        elif first in _SQL_SAFE and not re.search(r"\bINTO\b", upper):
            if _SQL_CHANGE_FUNCS.search(text):
                out.append((CAUTION, "SQL SELECT calls a function that changes server state"))
            elif first == "with" and re.search(r"\b(DELETE|UPDATE|INSERT)\b", upper):
                out.append((DANGEROUS, "SQL WITH ... data-modifying CTE"))
            else:
                out.append((SAFE, f"SQL {first.upper()} only reads"))
        else:
            out.append((CAUTION, f"SQL {first.upper()} changes data or settings"))
    return out


_DB_SQL_FLAGS = {
    "psql": ("-c", "--command"),
    "mysql": ("-e", "--execute"),
    "mariadb": ("-e", "--execute"),
    "clickhouse-client": ("-q", "--query"),
    "cqlsh": ("-e", "--execute"),
    "sqlite3": (),
}


def sql_client(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    sql_flags = _DB_SQL_FLAGS.get(tool, ("-c", "-e"))
    statements = [args[i + 1] for i, a in enumerate(args[:-1]) if a in sql_flags]
    statements += [a.split("=", 1)[1] for a in args if a.startswith(("--command=", "--execute="))]
    if tool == "sqlite3":
        statements = positional(args)[1:2]
    if statements:
        return [(r, f"{tool}: {why}") for s in statements for r, why in classify_sql(s)]
    if has_flag(args, "-f", "--file") or flag_value(args, "-f") is not None:
        return [(CAUTION, f"{tool} runs an SQL file whose content is not shown")]
    if has_flag(args, "-l", "--list", "--version", "-V"):
        return [(SAFE, f"{tool} only lists databases or prints its version")]
    return [(CAUTION, f"{tool} opens an interactive database session")]


_REDIS_SAFE = frozenset(
    {"get", "mget", "keys", "scan", "info", "ping", "ttl", "pttl", "type", "exists", "hget",
     "hgetall", "hkeys", "hlen", "llen", "lrange", "scard", "smembers", "zcard", "zrange",
     "zscore", "strlen", "dbsize", "monitor", "slowlog", "memory", "latency", "role", "time",
     "lastsave", "echo", "xlen", "xinfo", "xrange", "hscan", "sscan", "zscan", "object",
     "cluster", "client", "config", "command"}
)  # fmt: skip
_REDIS_DANGER = frozenset(
    {"del", "unlink", "flushall", "flushdb", "shutdown", "failover", "replicaof", "slaveof",
     "debug", "swapdb", "restore", "migrate"}
)  # fmt: skip
_REDIS_VALUE_FLAGS = frozenset(
    {
        "-h",
        "-p",
        "-a",
        "-n",
        "-u",
        "--user",
        "--pass",
        "-s",
        "-r",
        "-i",
        "--tls",
        "--cacert",
        "--cert",
        "--key",
    }
)


def redis_cli(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, _REDIS_VALUE_FLAGS)
    if not pos:
        if has_flag(args, "--bigkeys", "--memkeys", "--stat", "--latency", "--scan", "--hotkeys"):
            return [(SAFE, "redis-cli analysis mode only reads")]
        return [(CAUTION, "redis-cli opens an interactive session")]
    cmd = pos[0].lower()
    sub = pos[1].lower() if len(pos) > 1 else ""
    if cmd == "sentinel":
        if sub in {"failover", "reset", "remove"}:
            return [(DANGEROUS, f"redis SENTINEL {sub.upper()} moves or forgets the master")]
        if sub.startswith(("get-", "master", "replicas", "slaves", "sentinels", "ckquorum")):
            return [(SAFE, f"redis SENTINEL {sub.upper()} only reads")]
        return [(CAUTION, f"redis SENTINEL {sub.upper()} changes Sentinel's configuration")]
    if cmd in _REDIS_DANGER or (cmd == "cluster" and sub in {"failover", "reset", "forget"}):
        return [
            (
                DANGEROUS,
                f"redis {cmd.upper()} {sub.upper()}".rstrip()
                + " deletes data or changes replication (irreversible)",
            )
        ]
    if cmd in {"client", "config", "slowlog", "cluster", "memory", "latency"} and sub in {
        "kill",
        "set",
        "reset",
        "rewrite",
        "resetstat",
        "purge",
        "doctor-reset",
        "pause",
    }:
        return [(CAUTION, f"redis {cmd.upper()} {sub.upper()} changes server state")]
    if cmd in _REDIS_SAFE:
        return [(SAFE, f"redis {cmd.upper()} only reads")]
    return [(CAUTION, f"redis {cmd.upper()} writes data or changes the server")]


def etcdctl(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(
        args,
        frozenset(
            {
                "--endpoints",
                "--cacert",
                "--cert",
                "--key",
                "-w",
                "--write-out",
                "--command-timeout",
                "--user",
            }
        ),
    )
    verb = pos[0] if pos else ""
    sub = pos[1] if len(pos) > 1 else ""
    if verb in {"del", "compact", "compaction"} or (verb, sub) in {
        ("member", "remove"),
        ("snapshot", "restore"),
        ("lease", "revoke"),
        ("auth", "disable"),
    }:
        return [
            (
                DANGEROUS,
                f"etcdctl {verb} {sub}".rstrip()
                + " deletes keys, history or members (irreversible)",
            )
        ]
    if verb in {"get", "version", "watch", "check"} or (verb, sub) in {
        ("endpoint", "health"),
        ("endpoint", "status"),
        ("endpoint", "hashkv"),
        ("member", "list"),
        ("alarm", "list"),
        ("snapshot", "status"),
        ("lease", "list"),
        ("lease", "timetolive"),
        ("user", "list"),
        ("role", "list"),
    }:
        return [(SAFE, f"etcdctl {verb} {sub}".rstrip() + " only reads")]
    if (verb, sub) == ("snapshot", "save"):
        return [(SAFE, "etcdctl snapshot save takes a backup; the cluster is only read")]
    return [(CAUTION, f"etcdctl {verb} {sub}".rstrip() + " changes the etcd cluster")]


_CEPH_SAFE = frozenset(
    {"status", "health", "-s", "df", "tree", "ls", "dump", "stat", "detail", "versions",
     "version", "query", "get", "list", "info", "mon_status", "quorum_status", "perf", "report",
     "services", "dump_stuck", "find", "du", "usage", "stats", "ps", "lspools", "bucket-stats"}
)  # fmt: skip
_CEPH_DANGER = frozenset(
    {"purge", "rm", "destroy", "delete", "remove", "del", "lost", "mark_unfound_lost",
     "force-create-pg", "zap", "wipe", "trash", "flatten"}
)  # fmt: skip
_CEPH_CHANGE = frozenset(
    {"set", "unset", "out", "in", "down", "reweight", "archive", "archive-all", "repair", "scrub",
     "deep-scrub", "injectargs", "fail", "enable", "disable", "create", "add", "reset", "resize",
     "restart", "redeploy", "config-key", "rollback", "put", "pause", "unpause", "evict"}
)  # fmt: skip


def ceph(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    words = [a for a in args if not a.startswith("--")]
    return [by_words(tool, words, _CEPH_SAFE, _CEPH_DANGER, _CEPH_CHANGE)]
