"""Risk rules for commands that act on a host: files, services, containers, processes, HTTP."""

from __future__ import annotations

from domain.runbooks.risk_base import (
    CAUTION,
    DANGEROUS,
    SAFE,
    Recurse,
    Verdict,
    by_words,
    flag_value,
    has_flag,
    is_device,
    is_system_path,
    positional,
)


def rm(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    targets = positional(args)
    shown = " ".join(targets[:3]) or "files"
    if has_flag(args, "-r", "-R", "--recursive"):
        return [(DANGEROUS, f"rm -r deletes {shown} recursively (irreversible)")]
    return [(DANGEROUS, f"rm deletes {shown} (irreversible)")]


def dd(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    out = next((a[3:] for a in args if a.startswith("of=")), None)
    if out is None:
        return [(CAUTION, "dd copies raw data (no of=: writes to stdout)")]
    if out in {"/dev/null"}:
        return [(CAUTION, "dd reads raw data (output discarded)")]
    return [(DANGEROUS, f"dd overwrites {out} byte for byte (irreversible)")]


def destroyer(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    """mkfs, wipefs, shred, truncate, fsck and friends: data is gone afterwards."""
    if tool.startswith(("fsck", "e2fsck", "xfs_repair")) and has_flag(args, "-n"):
        return [(SAFE, f"{tool} -n only checks, changes nothing")]
    what = {
        "truncate": "cuts files to a size, losing their content",
        "shred": "overwrites files so they cannot be recovered",
        "wipefs": "erases filesystem signatures",
        "mkswap": "formats a device as swap",
    }.get(tool, "rewrites a filesystem or device")
    if tool.startswith("mkfs"):
        what = "formats a device, destroying its data"
    return [(DANGEROUS, f"{tool} {what} (irreversible)")]


def partition_tool(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if has_flag(args, "-l", "--list", "-p", "--print") or "print" in args:
        return [(SAFE, f"{tool} only lists partitions")]
    return [(DANGEROUS, f"{tool} rewrites partition tables (irreversible)")]


def file_writer(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    """cp, mv, tee, chmod, chown, ln, mkdir, touch, sed -i, rsync..."""
    targets = positional(args)
    if (
        tool == "sed"
        and not has_flag(args, "-i", "--in-place")
        and not any(a.startswith("-i") for a in args)
    ):
        return [(SAFE, "sed without -i only prints")]
    if tool == "rsync" and has_flag(args, "--delete", "--delete-after", "--delete-before"):
        return [(DANGEROUS, "rsync --delete removes files missing from the source (irreversible)")]
    if tool == "tar" and (args[:1] and "t" in args[0].lstrip("-") and "x" not in args[0]):
        return [(SAFE, "tar t only lists an archive")]
    recursive = has_flag(args, "-R", "-r", "--recursive")
    if (
        tool in {"chmod", "chown", "chgrp"}
        and recursive
        and any(t == "/" or is_system_path(t) for t in targets)
    ):
        return [(DANGEROUS, f"{tool} -R on a system path changes permissions everywhere below")]
    for target in targets:
        if is_device(target):
            return [(DANGEROUS, f"{tool} writes to the block device {target} (irreversible)")]
    if tool == "tee" and any(is_system_path(t) for t in targets):
        return [(DANGEROUS, f"tee overwrites the system file {targets[0]}")]
    if tool == "mv" and any(t == "/" or is_system_path(t) for t in targets):
        return [(DANGEROUS, "mv moves or replaces system files")]
    shown = " ".join(targets[-2:]) if targets else ""
    verbs = {
        "cp": "copies files",
        "mv": "moves or renames files (reversible by moving back)",
        "tee": "writes files",
        "chmod": "changes permissions",
        "chown": "changes ownership",
        "chgrp": "changes group ownership",
        "ln": "creates links",
        "mkdir": "creates directories",
        "touch": "creates or touches files",
        "sed": "edits files in place",
        "rmdir": "removes empty directories",
        "install": "installs files",
        "rsync": "syncs files",
        "scp": "copies files between hosts",
        "tar": "creates or extracts an archive",
        "unzip": "extracts an archive",
        "gzip": "compresses files in place",
        "gunzip": "decompresses files in place",
        "chattr": "changes file attributes",
        "setfacl": "changes ACLs",
    }
    return [(CAUTION, f"{tool} {verbs.get(tool, 'writes files')} {shown}".rstrip())]


def find(_tool: str, args: list[str], recurse: Recurse) -> list[Verdict]:
    if "-delete" in args:
        return [(DANGEROUS, "find -delete removes every matching file (irreversible)")]
    for flag in ("-exec", "-execdir", "-ok", "-okdir"):
        if flag in args:
            start = args.index(flag) + 1
            inner = []
            for word in args[start:]:
                if word in {";", "+", "\\;"}:
                    break
                inner.append(word)
            return [(r, f"find {flag}: {why}") for r, why in recurse(inner)]
    if any(a.startswith("-fprint") or a == "-fls" for a in args):
        return [(CAUTION, "find writes its results to a file")]
    return [(SAFE, "find only searches")]


_SYSTEMCTL_SAFE = frozenset(
    {"status", "show", "list-units", "list-unit-files", "list-timers", "list-sockets",
     "list-dependencies", "list-jobs", "is-active", "is-enabled", "is-failed", "cat", "help",
     "get-default", "show-environment", "--failed"}
)  # fmt: skip
_SYSTEMCTL_DANGER = frozenset(
    {
        "poweroff",
        "reboot",
        "halt",
        "kexec",
        "isolate",
        "rescue",
        "emergency",
        "default",
        "suspend",
        "hibernate",
    }
)


def systemctl(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(
        args,
        frozenset(
            {
                "-H",
                "--host",
                "-M",
                "--machine",
                "-p",
                "--property",
                "-t",
                "--type",
                "--state",
                "-n",
                "--lines",
            }
        ),
    )
    if tool == "service":  # service NAME ACTION
        verb = pos[1] if len(pos) > 1 else "status"
        unit = pos[0] if pos else ""
    else:
        verb = pos[0] if pos else "list-units"
        unit = pos[1] if len(pos) > 1 else ""
    if verb in _SYSTEMCTL_SAFE:
        return [(SAFE, f"{tool} {verb} only reads")]
    if verb in _SYSTEMCTL_DANGER:
        return [(DANGEROUS, f"{tool} {verb} takes the whole machine down")]
    if verb in {"stop", "kill", "disable", "mask"}:
        return [(CAUTION, f"{tool} {verb} {unit} stops a service (start it again to undo)".strip())]
    return [(CAUTION, f"{tool} {verb} {unit} changes a service's state".replace("  ", " "))]


def journalctl(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if any(a.startswith(("--vacuum", "--rotate", "--flush", "--relinquish")) for a in args):
        if any(a.startswith("--vacuum") for a in args):
            return [(DANGEROUS, "journalctl --vacuum deletes old logs (irreversible)")]
        return [(CAUTION, "journalctl rotate/flush moves logs")]
    return [(SAFE, "journalctl only reads logs")]


_CONTAINER_SAFE = frozenset(
    {"ps", "images", "inspect", "logs", "stats", "top", "info", "version", "events", "port",
     "diff", "history", "inspecti", "inspectp", "pods", "imagefsinfo", "search", "ls", "df"}
)  # fmt: skip
_CONTAINER_DANGER = frozenset({"rm", "rmi", "rmp", "prune", "kill", "down"})


def container_cli(tool: str, args: list[str], recurse: Recurse) -> list[Verdict]:
    pos = positional(
        args,
        frozenset(
            {
                "-H",
                "--host",
                "--context",
                "-r",
                "--runtime-endpoint",
                "-i",
                "--image-endpoint",
                "-f",
                "--file",
                "-p",
            }
        ),
    )
    words = pos[:3]
    if not words:
        return [(CAUTION, f"{tool} with no command")]
    if words[0] in {"exec"} and after_exec(args):
        return [(r, f"in the container: {why}") for r, why in recurse(after_exec(args))]
    if words[0] in {"system", "image", "volume", "container", "network", "compose", "builder"}:
        if len(words) > 1 and words[1] in _CONTAINER_DANGER | {"remove"}:
            if words[1] == "down" and not has_flag(args, "-v", "--volumes"):
                return [(CAUTION, f"{tool} {words[0]} down stops and removes containers")]
            return [(DANGEROUS, f"{tool} {' '.join(words[:2])} deletes containers, images or data")]
        if len(words) > 1 and words[1] in _CONTAINER_SAFE:
            return [(SAFE, f"{tool} {' '.join(words[:2])} only reads")]
        return [(CAUTION, f"{tool} {' '.join(words[:2])} changes containers")]
    if words[0] == "rmi" and tool == "crictl" and has_flag(args, "--prune", "-q"):
        return [(DANGEROUS, "crictl rmi --prune deletes every unused image")]
    if words[0] in _CONTAINER_DANGER:
        return [(DANGEROUS, f"{tool} {words[0]} removes or kills containers or images")]
    if words[0] in _CONTAINER_SAFE:
        return [(SAFE, f"{tool} {words[0]} only reads")]
    return [(CAUTION, f"{tool} {words[0]} changes containers")]


def after_exec(args: list[str]) -> list[str]:
    pos = positional(args, frozenset({"-u", "--user", "-w", "--workdir", "-e", "--env"}))
    return pos[2:] if len(pos) > 2 else []


def http_client(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if tool == "wget":
        out = flag_value(args, "-O", "--output-document")
        if has_flag(args, "--spider") or out == "-" or any(a.endswith("O-") for a in args):
            return [(SAFE, "wget only fetches to stdout")]
        if has_flag(args, "--post-data", "--post-file", "--method"):
            return [(CAUTION, "wget sends data to the server")]
        return [(CAUTION, "wget downloads a file to disk")]
    method = (flag_value(args, "-X", "--request") or "").upper()
    if not method:
        if has_flag(
            args,
            "-d",
            "--data",
            "--data-raw",
            "--data-binary",
            "--data-urlencode",
            "-F",
            "--form",
            "--json",
        ):
            method = "POST"
        elif has_flag(args, "-T", "--upload-file"):
            method = "PUT"
        elif has_flag(args, "-I", "--head"):
            method = "HEAD"
        else:
            method = "GET"
    if method == "DELETE":
        return [(DANGEROUS, "curl -X DELETE deletes a remote resource (irreversible)")]
    if method in {"POST", "PUT", "PATCH"}:
        return [(CAUTION, f"curl {method} changes state on the server")]
    if method not in {"GET", "HEAD", "OPTIONS"}:
        return [(CAUTION, f"curl {method}: unusual HTTP method")]
    if flag_value(args, "-o", "--output") in {"/dev/null", "-"} and not has_flag(
        args, "-O", "--remote-name"
    ):
        return [(SAFE, f"curl {method} only reads (response discarded)")]
    if has_flag(args, "-o", "--output", "-O", "--remote-name"):
        return [(CAUTION, f"curl {method} writes the response to a file")]
    return [(SAFE, f"curl {method} only reads")]


def killer(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if any(a in {"-9", "-KILL", "-SIGKILL", "-s9"} for a in args) or flag_value(
        args, "-s", "--signal"
    ) in {"9", "KILL", "SIGKILL"}:
        return [(DANGEROUS, f"{tool} -9 kills processes without a clean shutdown")]
    if tool == "kill" and any(a in {"-0", "-l", "-L"} for a in args):
        return [(SAFE, "kill -0/-l only checks or lists")]
    return [(CAUTION, f"{tool} terminates processes")]


def power(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    if tool == "shutdown" and has_flag(args, "-c"):
        return [(CAUTION, "shutdown -c cancels a pending shutdown")]
    if tool == "init" and not any(a in {"0", "6", "1"} for a in args):
        return [(CAUTION, "init changes the runlevel")]
    return [(DANGEROUS, f"{tool} reboots or powers off the machine")]


_NET_SAFE = frozenset(
    {
        "show",
        "list",
        "ls",
        "-l",
        "-L",
        "-S",
        "--list",
        "--list-rules",
        "-s",
        "get",
        "dump-flows",
        "dump-ports",
        "dump-ports-desc",
        "status",
        "find",
        "-n",
        "-nvL",
        "-nL",
        "-vnL",
        "monitor",
        "lflow-list",
        "trace",
    }
)
_NET_DANGER = frozenset({"-F", "--flush", "flush", "del-br", "emer-reset", "destroy"})
_NET_CHANGE = frozenset(
    {
        "add",
        "del",
        "delete",
        "set",
        "change",
        "replace",
        "-A",
        "-I",
        "-D",
        "-R",
        "-P",
        "-N",
        "-X",
        "--append",
        "--insert",
        "--delete",
        "up",
        "down",
        "restart",
        "modify",
        "reload",
        "connection",
        "mod",
        "clear",
        "-K",
        "-s",
        "-w",
        "-E",
        "-t",
        "-C",
        "-U",
    }
)


def network_tool(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    words = list(args)
    if tool in {"ip", "ethtool", "tc", "nmcli"} and not words:
        return [(SAFE, f"{tool} only shows")]
    if tool == "ethtool":
        if has_flag(args, "-s", "-K", "-G", "-A", "-C", "-L", "-E", "--change"):
            return [(CAUTION, "ethtool changes interface settings")]
        return [(SAFE, "ethtool only reads")]
    change = _NET_CHANGE - ({"-s", "-t", "-C"} if tool in {"ip", "conntrack"} else set())
    if tool == "conntrack":
        change = change | {"-D", "-F", "-U"}
    verdict = by_words(tool, words, _NET_SAFE, _NET_DANGER, frozenset(change))
    if (
        verdict[0] is CAUTION
        and tool == "ip"
        and all(
            w
            in {
                "addr",
                "a",
                "address",
                "route",
                "r",
                "link",
                "l",
                "neigh",
                "rule",
                "-s",
                "-d",
                "-4",
                "-6",
                "-br",
                "-c",
                "-j",
                "netns",
                "maddr",
                "mroute",
                "tunnel",
            }
            for w in words
        )
    ):
        return [(SAFE, f"ip {' '.join(words[:2])} only shows")]
    return [verdict]


def package_manager(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    words = [a for a in args if not a.startswith("-")]
    verb = words[0] if words else ""
    if tool in {"rpm", "dpkg"}:
        if has_flag(args, "-e", "--erase", "-r", "--remove", "-P", "--purge"):
            return [(DANGEROUS, f"{tool} removes packages")]
        if has_flag(args, "-q", "-l", "-L", "-s", "--list", "--status", "-V"):
            return [(SAFE, f"{tool} query only reads")]
        return [(CAUTION, f"{tool} installs or changes packages")]
    if verb in {
        "list",
        "info",
        "search",
        "show",
        "policy",
        "history",
        "check-update",
        "repolist",
        "provides",
        "freeze",
        "outdated",
        "madison",
        "depends",
    }:
        return [(SAFE, f"{tool} {verb} only reads")]
    if verb in {"remove", "erase", "purge", "autoremove", "uninstall"}:
        return [(DANGEROUS, f"{tool} {verb} removes software")]
    return [(CAUTION, f"{tool} {verb} installs or changes software".replace("  ", " "))]


def git(_tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    pos = positional(args, frozenset({"-C", "-c"}))
    verb = pos[0] if pos else ""
    if verb in {
        "status",
        "log",
        "diff",
        "show",
        "fetch",
        "blame",
        "grep",
        "ls-files",
        "rev-parse",
        "describe",
        "shortlog",
        "remote",
        "config",
        "reflog",
    } and not (verb in {"remote", "config"} and len(pos) > 2):
        return [(SAFE, f"git {verb} only reads")]
    if (
        (verb == "push" and has_flag(args, "-f", "--force", "--force-with-lease", "--delete"))
        or (verb == "reset" and has_flag(args, "--hard"))
        or (verb == "clean" and has_flag(args, "-f", "--force"))
        or (verb == "branch" and has_flag(args, "-D"))
        or (verb == "checkout" and "." in pos)
    ):
        return [(DANGEROUS, f"git {verb} discards or overwrites history or work (irreversible)")]
    return [(CAUTION, f"git {verb} changes the repository")]


def storage_admin(tool: str, args: list[str], _recurse: Recurse) -> list[Verdict]:
    """LVM, mdadm, mount and friends."""
    if tool in {"lvremove", "vgremove", "pvremove", "lvreduce"}:
        return [(DANGEROUS, f"{tool} removes or shrinks volumes (data loss)")]
    if tool in {"lvs", "vgs", "pvs", "lvdisplay", "vgdisplay", "pvdisplay", "lvscan", "findmnt"}:
        return [(SAFE, f"{tool} only reads")]
    if tool == "mdadm":
        if has_flag(args, "--detail", "-D", "--examine", "-E", "--query", "-Q"):
            return [(SAFE, "mdadm --detail only reads")]
        if has_flag(args, "--fail", "-f", "--remove", "-r", "--zero-superblock", "--stop", "-S"):
            return [(DANGEROUS, "mdadm fails, removes or stops RAID members")]
        return [(CAUTION, "mdadm changes a RAID array")]
    if tool == "mount" and (not args or args in (["-l"], ["-a", "-n"])):
        return [(SAFE, "mount with no arguments only lists mounts")]
    if tool == "sysctl":
        if has_flag(args, "-w", "--write", "-p", "--load", "--system") or any(
            "=" in a for a in args
        ):
            return [(CAUTION, "sysctl changes kernel parameters")]
        return [(SAFE, "sysctl only reads kernel parameters")]
    if tool == "crontab":
        if has_flag(args, "-r"):
            return [(DANGEROUS, "crontab -r deletes the whole crontab")]
        if has_flag(args, "-l"):
            return [(SAFE, "crontab -l only lists")]
    if tool == "smartctl" and not has_flag(args, "-t", "--test", "-s", "--smart"):
        return [(SAFE, "smartctl only reads disk health")]
    if tool == "dmesg":
        if has_flag(args, "-c", "-C", "--clear", "--read-clear"):
            return [(CAUTION, "dmesg -c clears the kernel ring buffer")]
        return [(SAFE, "dmesg only reads")]
    if tool == "openssl":
        verb = args[0] if args else ""
        if verb in {"x509", "s_client", "verify", "crl", "asn1parse", "version", "ciphers"} or (
            verb == "req" and has_flag(args, "-text", "-noout")
        ):
            return [(SAFE, f"openssl {verb} only inspects")]
        return [(CAUTION, f"openssl {verb} creates keys or files")]
    return [(CAUTION, f"{tool} changes system or storage state")]
