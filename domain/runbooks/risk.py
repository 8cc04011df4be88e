"""Classify a shell command as safe, caution or dangerous, with reasons a responder can read.

The command is understood structurally (pipes, chains, subshells, sudo, wrappers, redirections,
SQL in arguments); the riskiest part wins, unknown commands are caution and never safe.
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, ConfigDict

from domain.runbooks import risk_cloud, risk_data, risk_host, risk_k8s, risk_tools
from domain.runbooks.risk_base import (
    CAUTION,
    DANGEROUS,
    HARMLESS_TARGETS,
    RANK,
    RISKY_NAME_RE,
    SAFE,
    Handler,
    Verdict,
    by_words,
    is_device,
    is_system_path,
    positional,
    worst,
)
from domain.runbooks.shellwords import Segment, parse
from schemas.runbook import StepRisk


class RiskAssessment(BaseModel):
    """The verdict on one command: the level and every reason that led to it, worst first."""

    model_config = ConfigDict(frozen=True)

    command: str
    risk: StepRisk
    reasons: list[str]


_READ_ONLY = frozenset(
    """ls ll cat less more head tail grep egrep fgrep zgrep zcat rg ag sort uniq wc cut tr jq yq
    column echo printf date df du free top htop ps pstree pgrep uptime whoami id groups uname
    printenv which whereis type dig nslookup host ping traceroute tracepath mtr netstat ss
    lsof iostat vmstat mpstat pidstat sar stat file base64 xxd od hexdump strings diff cmp
    comm test [ [[ ]] true false sleep cd pwd export set unset alias read wait exit return
    shift local declare history clear tcpdump getent lsblk blkid nproc lscpu lsmem lspci lsusb
    lsmod timedatectl hostnamectl ntpq tree realpath basename dirname seq tac rev nl
    fold paste join expand md5sum sha256sum sha1sum cksum getenforce sestatus ausearch last w
    who ulimit locale awk gawk mawk : numastat nc ncat telnet openssl-version free runc tput
    env-list true promtool-check grpcurl sha512sum iftop iotop atop sestatus lsattr namei
    fuser pmap""".split()  # noqa: SIM905
)  # fmt: skip

_HANDLERS: dict[str, Handler] = {
    "kubectl": risk_k8s.kubectl, "oc": risk_k8s.kubectl, "k": risk_k8s.kubectl,
    "helm": risk_k8s.helm,
    "chronyc": risk_tools.chronyc,
    "virtctl": risk_k8s.virtctl,
    "aws": risk_cloud.aws, "gcloud": risk_cloud.gcloud, "az": risk_cloud.az,
    "terraform": risk_cloud.terraform, "terragrunt": risk_cloud.terraform,
    "tofu": risk_cloud.terraform,
    "psql": risk_data.sql_client, "mysql": risk_data.sql_client,
    "mariadb": risk_data.sql_client, "sqlite3": risk_data.sql_client,
    "clickhouse-client": risk_data.sql_client, "cqlsh": risk_data.sql_client,
    "redis-cli": risk_data.redis_cli, "etcdctl": risk_data.etcdctl,
    "ceph": risk_data.ceph, "rados": risk_data.ceph, "rbd": risk_data.ceph,
    "radosgw-admin": risk_data.ceph, "ceph-volume": risk_data.ceph,
    "rm": risk_host.rm, "dd": risk_host.dd, "shred": risk_host.destroyer,
    "truncate": risk_host.destroyer, "wipefs": risk_host.destroyer,
    "mkswap": risk_host.destroyer, "fsck": risk_host.destroyer, "e2fsck": risk_host.destroyer,
    "xfs_repair": risk_host.destroyer,
    "fdisk": risk_host.partition_tool, "sfdisk": risk_host.partition_tool,
    "parted": risk_host.partition_tool, "gdisk": risk_host.partition_tool,
    "sgdisk": risk_host.partition_tool,
    "systemctl": risk_host.systemctl, "service": risk_host.systemctl,
    "journalctl": risk_host.journalctl,
    "docker": risk_host.container_cli, "podman": risk_host.container_cli,
    "crictl": risk_host.container_cli, "nerdctl": risk_host.container_cli,
    "ctr": risk_host.container_cli,
    "curl": risk_host.http_client, "wget": risk_host.http_client,
    "kill": risk_host.killer, "pkill": risk_host.killer, "killall": risk_host.killer,
    "reboot": risk_host.power, "shutdown": risk_host.power, "halt": risk_host.power,
    "poweroff": risk_host.power, "init": risk_host.power,
    "find": risk_host.find, "git": risk_host.git,
    "iptables": risk_host.network_tool, "ip6tables": risk_host.network_tool,
    "nft": risk_host.network_tool, "ip": risk_host.network_tool, "tc": risk_host.network_tool,
    "nmcli": risk_host.network_tool, "ethtool": risk_host.network_tool,
    "conntrack": risk_host.network_tool, "ovs-vsctl": risk_host.network_tool,
    "ovs-ofctl": risk_host.network_tool, "ovn-nbctl": risk_host.network_tool,
    "ovn-sbctl": risk_host.network_tool, "ovs-appctl": risk_host.network_tool,
    "ovn-trace": risk_host.network_tool, "nmstatectl": risk_host.network_tool,
    "yum": risk_host.package_manager, "dnf": risk_host.package_manager,
    "apt": risk_host.package_manager, "apt-get": risk_host.package_manager,
    "rpm": risk_host.package_manager, "dpkg": risk_host.package_manager,
    "pip": risk_host.package_manager, "pip3": risk_host.package_manager,
    "npm": risk_host.package_manager, "rpm-ostree": risk_host.package_manager,
}  # fmt: skip
for _tool in [
    "cp",
    "mv",
    "tee",
    "chmod",
    "chown",
    "chgrp",
    "ln",
    "mkdir",
    "touch",
    "sed",
    "rmdir",
    "install",
    "rsync",
    "scp",
    "tar",
    "unzip",
    "gzip",
    "gunzip",
    "chattr",
    "setfacl",
]:
    _HANDLERS[_tool] = risk_host.file_writer
for _tool in [
    "lvremove",
    "vgremove",
    "pvremove",
    "lvreduce",
    "lvs",
    "vgs",
    "pvs",
    "lvdisplay",
    "vgdisplay",
    "pvdisplay",
    "lvscan",
    "findmnt",
    "mdadm",
    "mount",
    "umount",
    "swapoff",
    "swapon",
    "sysctl",
    "crontab",
    "smartctl",
    "dmesg",
    "openssl",
    "lvextend",
    "lvresize",
]:
    _HANDLERS[_tool] = risk_host.storage_admin

_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_INTERPRETERS = frozenset({"python", "python3", "perl", "ruby", "node", "php"})
_NOOP_PREFIXES = frozenset(
    {"nohup", "time", "exec", "command", "builtin", "unbuffer", "then", "do", "else", "elif",
     "if", "while", "until", "!", "{", "}", "stdbuf", "nice", "ionice", "doas", "runuser"}
)  # fmt: skip
_LOOP_WORDS = frozenset({"for", "done", "fi", "esac", "case", ";;", "function", "select"})
_ASSIGN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_TEMPLATE_RE = re.compile(r"\{\{[^{}]*\}\}|<[A-Za-z][A-Za-z0-9_.\- ]{0,60}>")
_MAX_DEPTH = 6


def classify(command: str) -> RiskAssessment:
    """Risk of `command` (one line or several); the riskiest part decides."""
    verdicts = _classify_text(command, 0)
    if not verdicts:
        verdicts = [(CAUTION, "no command found: cannot tell what it does")]
    risk = worst(verdicts)
    ordered = sorted(verdicts, key=lambda v: -RANK[v[0]])
    reasons: list[str] = []
    for level, reason in ordered:
        if level is SAFE and risk is not SAFE:
            continue
        if reason not in reasons:
            reasons.append(reason)
    return RiskAssessment(command=command, risk=risk, reasons=reasons)


def _classify_text(text: str, depth: int) -> list[Verdict]:
    if depth > _MAX_DEPTH:
        return [(CAUTION, "nested too deeply to analyse")]
    text = _TEMPLATE_RE.sub("__VAR__", text)
    parsed = parse(text)
    verdicts: list[Verdict] = []
    for segment in parsed.segments:
        verdicts.extend(_classify_segment(segment, depth))
    for inner in parsed.subshells:
        verdicts.extend((r, f"in $(...): {why}") for r, why in _classify_text(inner, depth + 1))
    return verdicts


def _classify_segment(segment: Segment, depth: int) -> list[Verdict]:
    verdicts = _classify_words(list(segment.words), depth, segment.piped_into)
    verdicts.extend(_redirect_verdicts(segment))
    verdicts.extend(_data_loss_verdicts(list(segment.words), verdicts, segment.piped_into))
    return verdicts


_SQL_LOADERS = frozenset({"psql", "mysql", "mariadb", "sqlite3", "clickhouse-client"})


def _data_loss_verdicts(words: list[str], verdicts: list[Verdict], piped: bool) -> list[Verdict]:
    """Changes whose arguments say data goes away or gets overwritten, whatever the tool."""
    if not verdicts or worst(verdicts) is SAFE:
        return []
    text = " ".join(words).lower()
    if re.search(r"accept_data_loss|allocate_(?:stale|empty)_primary", text):
        return [(DANGEROUS, "forces a shard allocation that accepts data loss")]
    if "retention" in text:
        return [(DANGEROUS, "changes retention: data older than the new limit is deleted")]
    bare = _strip_wrappers(list(words), [])
    head = os.path.basename(bare[0]) if bare else ""
    if piped and head in _SQL_LOADERS and not re.search(r"\s(?:-c|--command|-e|--execute)\b", text):
        return [
            (
                DANGEROUS,
                f"{head} runs the statements piped into it (a dump loaded into a live database)",
            )
        ]
    return []


def _redirect_verdicts(segment: Segment) -> list[Verdict]:
    out: list[Verdict] = []
    words = _strip_wrappers(list(segment.words), []) if segment.redirects else []
    for op, target in segment.redirects:
        if not target or target in HARMLESS_TARGETS or target.startswith("&"):
            continue
        if is_device(target):
            out.append((DANGEROUS, f"redirection overwrites the block device {target}"))
        elif ">>" in op:
            out.append((CAUTION, f"appends to the file {target}"))
        elif not words or words in (
            [":"],
            ["true"],
            ["echo"],
            ["echo", "-n"],
            ["cat", "/dev/null"],
        ):
            out.append((DANGEROUS, f"empties the file {target} (its content is lost)"))
        elif is_system_path(target) and not target.startswith("/proc/"):
            out.append((DANGEROUS, f"overwrites the system file {target}"))
        else:
            out.append((CAUTION, f"writes (overwrites) the file {target}"))
    return out


def _strip_wrappers(words: list[str], extra: list[Verdict]) -> list[str]:
    """Drop sudo, env assignments and wrappers such as nohup/timeout that run another command."""
    while words:
        while words and _ASSIGN_RE.match(words[0]):
            words = words[1:]
        if not words:
            break
        head = os.path.basename(words[0])
        if head in {"sudo", "doas", "pkexec"}:
            rest = words[1:]
            while rest and rest[0].startswith("-"):
                flag = rest.pop(0)
                if flag in {"-u", "-g", "-C", "-D", "-h", "-p", "-U", "-r", "-t"} and rest:
                    rest.pop(0)
                if flag in {"-i", "-s", "--login", "--shell"} and not rest:
                    extra.append((CAUTION, "sudo -i/-s opens an interactive root shell"))
                if flag == "--":
                    break
            extra.append((SAFE, "runs as root (sudo)"))
            words = rest
        elif head == "env":
            rest = words[1:]
            while rest and (rest[0].startswith("-") or _ASSIGN_RE.match(rest[0])):
                flag = rest.pop(0)
                if flag in {"-u", "--unset", "-C", "--chdir"} and rest:
                    rest.pop(0)
            words = rest if rest else ["env-list"]
            if not rest:
                break
        elif head == "timeout":
            rest = list(words[1:])
            while rest and rest[0].startswith("-"):
                flag = rest.pop(0)
                if flag in {"-s", "--signal", "-k", "--kill-after"} and rest:
                    rest.pop(0)
            words = rest[1:]
        elif head in _NOOP_PREFIXES:
            rest = words[1:]
            while rest and rest[0].startswith("-"):
                flag = rest.pop(0)
                if flag in {"-n", "-c", "-o", "-e", "-u", "-p"} and rest and not rest[0].isalpha():
                    rest.pop(0)
            words = rest
        else:
            break
    while words and words[-1] in {"}", "fi", "done"}:
        words = words[:-1]
    return words


def _classify_words(words: list[str], depth: int, piped_into: bool) -> list[Verdict]:
    extra: list[Verdict] = []
    words = _strip_wrappers(words, extra)
    if not words:
        return [*extra, (SAFE, "only sets shell variables")]
    head = os.path.basename(words[0])
    args = words[1:]

    def recurse(inner: list[str]) -> list[Verdict]:
        return _classify_words(list(inner), depth + 1, False)

    if head in _LOOP_WORDS:
        return [*extra, (SAFE, f"shell '{head}' construct")]
    if head in {"watch", "xargs"}:
        return extra + _run_wrapped(head, args, depth)
    if head == "ssh":
        return extra + _ssh(args, depth)
    if head in {"chroot", "nsenter", "toolbox"}:
        rest = positional(args, frozenset({"-t", "--target", "--userspec", "--groups"}))
        if head == "chroot":
            rest = rest[1:]
        if not rest:
            return [*extra, (CAUTION, f"{head} opens a root shell on the host")]
        return extra + [(r, f"via {head}: {why}") for r, why in recurse(rest)]
    if head in _SHELLS or head in _INTERPRETERS:
        return extra + _interpreter(head, args, depth, piped_into)
    if head.startswith("mkfs"):
        return extra + risk_host.destroyer(head, args, recurse)
    if head in {"amtool", "promtool"}:
        return [*extra, _prom_tool(head, args)]
    handler = _HANDLERS.get(head)
    if handler is not None:
        return extra + handler(head, args, recurse)
    if risk_tools.CMDLET_RE.match(head):
        return extra + risk_tools.cmdlet(head, args, recurse)
    if head in _READ_ONLY:
        if head in {"awk", "gawk", "mawk"} and any("system(" in a for a in args):
            return [*extra, (CAUTION, f"{head} program calls system() to run commands")]
        return [*extra, (SAFE, f"{head} only reads or prints")]
    if head in {"source", "."}:
        return [*extra, (CAUTION, "sources a script whose content is not shown")]
    return extra + _script_or_unknown(words)


def _prom_tool(head: str, args: list[str]) -> Verdict:
    words = [a for a in args if not a.startswith("-")]
    safe = frozenset(
        {
            "query",
            "check",
            "check-config",
            "config",
            "show",
            "routes",
            "test",
            "debug",
            "template",
            "list",
            "ls",
        }
    )
    changing = frozenset({"add", "expire", "import", "update", "create-blocks-from", "silence"})
    if words[:2] == ["silence", "query"] or (words[:1] == ["silence"] and len(words) == 1):
        return SAFE, f"{head} silence query only reads"
    return by_words(head, words, safe, frozenset(), changing - {"silence"})


def _run_wrapped(head: str, args: list[str], depth: int) -> list[Verdict]:
    rest = list(args)
    value_flags = {
        "-n",
        "--interval",
        "-I",
        "-P",
        "-L",
        "-d",
        "-s",
        "-E",
        "-a",
        "--max-args",
        "--max-procs",
        "-i",
        "--delimiter",
    }
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in value_flags and rest:
            rest.pop(0)
    if not rest:
        return [(SAFE, f"{head} with nothing to run prints its input")]
    if len(rest) == 1 and " " in rest[0]:
        return [(r, f"{head}: {why}") for r, why in _classify_text(rest[0], depth + 1)]
    return [(r, f"{head}: {why}") for r, why in _classify_words(rest, depth + 1, False)]


def _ssh(args: list[str], depth: int) -> list[Verdict]:
    value_flags = frozenset(
        {
            "-i",
            "-p",
            "-l",
            "-o",
            "-J",
            "-F",
            "-L",
            "-R",
            "-D",
            "-W",
            "-b",
            "-c",
            "-E",
            "-e",
            "-m",
            "-O",
            "-Q",
            "-S",
            "-w",
            "-B",
            "-I",
        }
    )
    rest = list(args)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in value_flags and rest:
            rest.pop(0)
    if len(rest) <= 1:
        return [(CAUTION, "ssh opens an interactive shell on a remote host")]
    remote = " ".join(rest[1:])
    return [(r, f"on the remote host: {why}") for r, why in _classify_text(remote, depth + 1)]


def _interpreter(head: str, args: list[str], depth: int, piped_into: bool) -> list[Verdict]:
    if head in _SHELLS:
        for i, arg in enumerate(args):
            is_c = arg == "-c" or (arg.startswith("-") and "c" in arg[1:] and arg[1] != "-")
            if is_c and i + 1 < len(args):
                inner = args[i + 1]
                return [(r, f"{head} -c: {why}") for r, why in _classify_text(inner, depth + 1)]
    elif any(a in {"-c", "-e", "-E"} for a in args):
        return [(CAUTION, f"{head} runs inline code")]
    scripts = [a for a in args if not a.startswith("-")]
    if scripts:
        return _script_or_unknown(scripts)
    if piped_into:
        return [(DANGEROUS, f"pipes text into {head}: runs whatever it receives")]
    return [(CAUTION, f"{head} opens an interactive interpreter")]


def _script_or_unknown(words: list[str]) -> list[Verdict]:
    name = os.path.basename(words[0])
    first_arg = next((w for w in words[1:] if not w.startswith("-")), "")
    is_script = "/" in words[0] or name.endswith((".sh", ".py", ".bash", ".pl", ".rb"))
    for candidate in (name, first_arg if is_script else ""):
        hit = RISKY_NAME_RE.search(candidate)
        if hit:
            kind = "script" if is_script else "command"
            return [
                (
                    DANGEROUS,
                    f"{kind} '{name}' is named for '{hit.group(1).lower()}': "
                    "likely disruptive or irreversible",
                )
            ]
    if is_script:
        return [(CAUTION, f"runs the script '{name}' whose content is not shown")]
    return [(CAUTION, f"unknown command '{name}': cannot tell what it changes")]


def known_heads() -> frozenset[str]:
    """Every command name the classifier has a specific rule for."""
    return _KNOWN_HEADS


_HANDLERS.update(risk_tools.HANDLERS)

_KNOWN_HEADS = (
    frozenset(_HANDLERS)
    | (_READ_ONLY - {"[", "[[", "]]", ":", "env-list"})
    | _SHELLS
    | {
        "watch",
        "xargs",
        "ssh",
        "chroot",
        "nsenter",
        "toolbox",
        "sudo",
        "env",
        "timeout",
        "nohup",
        "amtool",
        "promtool",
        "mkfs",
    }
)
