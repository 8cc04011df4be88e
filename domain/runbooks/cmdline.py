"""Is this text one shell command? Recognising commands written inside prose.

`date +%s.%N`, `cat /etc/hostname` and `echo $HOSTNAME` are commands although they start with
English words; "vault sealed" or "top queries" are not. Used for code spans, lines of plain
text and the words after "run"/"with".
"""

from __future__ import annotations

import re

from domain.runbooks import commands, risk_tools

STOP_WORDS = frozenset(
    [
        "to",
        "and",
        "on",
        "in",
        "for",
        "until",
        "till",
        "then",
        "which",
        "so",
        "if",
        "when",
        "before",
        "after",
        "from",
        "again",
        "as",
        "because",
        "since",
        "while",
        "or",
        "but",
        "is",
        "are",
        "should",
        "will",
        "it",
        "this",
        "that",
        "you",
        "we",
        "every",
        "each",
        "first",
        "instead",
        "until",
        "once",
        "to",
        "see",
        "-",
        "\u2013",
        "\u2014",
        "should",
        "must",
    ]
)


ENGLISH_OK_RE = re.compile(r"^[-+/.~$'\"{<]|[=/|<>*%@]|\w:\w|^\d+[a-zA-Z]?$|\.\w+$")


EXTRA_HEADS = frozenset(
    {"socat", "haproxy", "nginx", "apachectl", "certbot", "sqlcmd", "kcat", "kafkacat", "time",
     "cqlsh", "clickhouse-client", "varnishadm", "pgbackrest", "pg_basebackup", "pg_isready",
     "pg_ctlcluster", "doctl", "openstack", "gsutil", "az", "mongo", "mongosh", "mysqladmin",
     "mysqldump", "redis-sentinel", "sentinel", "zkCli.sh", "sysctl", "ethtool", "tcpdump",
     "iptables", "nft", "chronyc", "timedatectl", "hostnamectl", "resolvectl", "dig", "openssl",
     "keytool", "kubeadm", "kubelet", "minikube", "k9s", "skopeo", "ctr", "nerdctl", "lsblk",
     "blkid", "xfs_growfs", "resize2fs", "growpart", "fstrim", "ncdu", "logrotate", "swapoff",
     "swapon", "fuser", "pgrep", "strace", "gdb", "jstack", "jmap", "jcmd", "jstat",
     "rabbitmq-diagnostics", "rabbitmq-plugins", "rabbitmq-queues", "celery", "supervisorctl",
     "pm2", "service", "update-rc.d", "apt", "apt-get", "yum", "dnf", "rpm", "dpkg", "snap",
     "systemd-analyze", "loginctl", "ufw", "firewall-cmd", "aws", "gcloud", "terraform", "tofu",
     "pulumi", "ansible", "consul", "nomad", "vault", "etcdctl", "nodetool", "patronictl",
     "pgbouncer", "redis-cli", "mysql", "psql", "zookeeper-shell", "kafkactl",
     "elasticsearch-node", "curator", "promtool", "amtool", "logcli", "mc", "s3cmd", "rclone",
     "influx", "nats", "velero", "argocd", "flux", "istioctl", "linkerd", "cilium", "calicoctl",
     "stern", "kubectx", "kubens", "kustomize", "pgbench", "pt-kill", "pt-online-schema-change",
     "gh-ost", "redis-benchmark", "memcached-tool", "varnishstat", "ipvsadm", "conntrack", "nstat",
     "sar", "pidstat", "perf", "bpftrace", "gcore", "iotop", "htop", "atop", "nvidia-smi",
     "ipmitool", "smartctl", "mdadm", "zpool", "zfs", "btrfs", "xfs_info", "tune2fs", "multipath",
     "iscsiadm", "nfsstat", "showmount", "exportfs", "ntpq", "hwclock", "cfssl", "gpg", "bq",
     "terragrunt", "packer", "chef-client", "pip", "npm", "cargo", "oci", "hcloud", "ibmcloud",
     "eksctl", "kops", "k3s", "microk8s", "talosctl", "crane", "cosign", "trivy", "grpcurl",
     "httpie", "nc", "ncat", "telnet", "mtr", "traceroute", "tracepath", "arping", "nmap", "whois",
     "drill", "kdig", "nslookup", "mongodump", "mongorestore", "pg_dump", "pg_dumpall",
     "pg_restore", "pg_controldata", "repmgr", "orchestrator-client", "mysqlcheck", "mysqlbinlog",
     "xtrabackup", "innobackupex", "redis-check-aof", "redis-check-rdb", "sentinel-cli",
     "kafka-topics", "kafka-configs", "rabbitmqadmin", "emqx", "vmctl", "thanos", "mimirtool",
     "lokitool", "cortextool", "otelcol", "journalctl", "systemctl", "kubectl", "helm", "docker",
     "podman", "crictl", "oc", "virtctl", "k"}
)  # fmt: skip
_COMMON_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "we",
        "you",
        "they",
        "i",
        "he",
        "she",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "if",
        "then",
        "else",
        "when",
        "while",
        "for",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "as",
        "and",
        "or",
        "but",
        "not",
        "no",
        "so",
        "do",
        "does",
        "did",
        "done",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
        "must",
        "have",
        "has",
        "had",
        "please",
        "note",
        "also",
        "just",
        "first",
        "next",
        "finally",
        "now",
        "here",
        "there",
        "what",
        "which",
        "who",
        "how",
        "why",
        "where",
        "all",
        "any",
        "some",
        "each",
        "every",
        "check",
        "make",
        "sure",
        "ensure",
        "look",
        "see",
        "go",
        "get",
        "run",
        "use",
        "try",
        "open",
        "close",
        "set",
        "make",
        "restart",
        "stop",
        "start",
        "kill",
        "delete",
        "remove",
        "add",
        "increase",
        "decrease",
        "raise",
        "lower",
        "scale",
        "wait",
        "verify",
        "confirm",
        "contact",
        "escalate",
        "page",
        "call",
        "tell",
        "ask",
        "notify",
        "update",
        "change",
        "create",
        "review",
        "inspect",
        "investigate",
    ]
)


def flagged_unknown(text: str) -> bool:
    """An own-line command with a tool we do not know: `tool --flag value` shaped, not prose."""
    words = text.split()
    if len(words) < 2 or not re.fullmatch(r"[a-z][a-z0-9._-]{1,30}", words[0]):
        return False
    if words[0] in _COMMON_WORDS or words[0] in commands._ENGLISH_HEADS:
        return False
    if text.rstrip().endswith((".", "?", "!", ":")):
        return False
    flags = [w for w in words[1:] if re.fullmatch(r"--?[A-Za-z][\w-]*(=\S+)?", w)]
    first_flag = words.index(flags[0]) if flags else len(words)
    if words[1] in {"=", ":", "-", "\u2013"} or any(
        w.endswith((":", "?")) for w in words[:first_flag]
    ):
        return False  # "undo = roll forward: helm ..." / "note: cmd --x": a label, then a command
    prose = [w for w in words[1:] if w.lower() in _COMMON_WORDS]
    return bool(flags) and len(prose) <= 1


def head_ok(word: str) -> bool:
    base = word.rsplit("/", 1)[-1]
    if commands.known_command(word) or base in EXTRA_HEADS:
        return True
    if re.match(r"^[\w.-]+\.(?:sh|py|rb|pl)$", base):
        return True
    return bool(re.match(r"^kafka-[\w-]+(?:\.sh)?$", base)) or bool(
        risk_tools.CMDLET_RE.match(word)
    )


NOT_HEADS = frozenset({"wait", "which", "type", "test", "true", "false", "yes", "no", "set",
                        "read", "local", "return", "shift", "exit", "logout", "do", "done",
                        "then", "else", "fi", "in", "select", "help"})  # fmt: skip


TAIL_START = frozenset(
    [
        "to",
        "until",
        "till",
        "and",
        "which",
        "so",
        "then",
        "because",
        "if",
        "when",
        "again",
        "for",
        "in",
        "on",
        "as",
        "once",
        "after",
        "before",
        "until",
        "while",
        "should",
        "must",
        "will",
    ]
)


def trim_prose_tail(command: str) -> str:
    """Drop the words of the sentence that follow a command: "... | grep X to see which ones"."""
    words = command.split(" ")
    if len(words) > 2 and words[-1].lower().strip(".,!") in {"again", "here", "there", "too"}:
        words = words[:-1]
        command = " ".join(words)
    for k in range(1, len(words) - 1):
        if words[k].lower() not in TAIL_START:
            continue
        tail = words[k:]
        if all(re.fullmatch(r"[A-Za-z][A-Za-z',]*(?:-[A-Za-z]+)*[.!]?", w) for w in tail) and not (
            commands._unbalanced(" ".join(words[:k]))
        ):
            return " ".join(words[:k]).rstrip(" ,;")
    return command


def is_command(text: str, *, bare: bool = False) -> bool:
    """Whether `text` is one shell command (not a sentence that starts with a tool's name).

    Commands that start with an English word (`date`, `cat`, `echo`, `watch`, `time`) count
    when an argument looks technical (a flag, a path, a pipe, a format) or, for `time` and
    `watch`, when the next word is itself a command.
    """
    line = text.strip()
    if not line or len(line) > 4000:
        return False
    words = line.split()
    first = words[0]
    if first in NOT_HEADS:
        return False
    if first in {"if", "for", "while", "until", "case"}:
        return (bool(re.search(r";\s*(?:do|then)\b|\bin\s+\S", line)) and first != "if") or bool(
            re.search(r";\s*then\b", line)
        )
    sudo = False
    while first in {"sudo", "time", "watch", "nohup", "env"} and len(words) > 1:
        sudo = sudo or first == "sudo"
        if first in {"time", "watch"}:
            if head_ok(words[1]) and words[1] not in commands._ENGLISH_HEADS:
                return True
            rest = words[1:]
            if any(w.startswith("-") for w in rest[:1]):
                return True
        words = words[1:]
        first = words[0]
    if re.match(r"^[A-Za-z_]\w*=\S", first):
        inner = re.match(r"^[A-Za-z_]\w*=\$\((.*)\)\s*$", line)
        if inner:
            return is_command(inner.group(1))
        while words and re.match(r"^[A-Za-z_]\w*=\S*$", words[0]):
            words = words[1:]
        return bool(words) and is_command(" ".join(words))
    label = next((k for k, w in enumerate(words[:4]) if w.endswith(":")), None)
    if (
        label is not None
        and label + 1 < len(words)
        and all(re.fullmatch(r"[a-z]+:?", w) for w in words[: label + 1])
        and head_ok(words[label + 1])
    ):
        return False  # "more flush workers: kubectl ...": a label, then the command
    if not head_ok(first) and not (sudo and _program_name(first)):
        return False  # "sudo postfix reload": what follows sudo is a program, known or not
    if re.match(
        r"^[\w-]+\s+(?:is|are|was|will|can|should|has|have|does|did|and|or)\b", " ".join(words)
    ):
        return False
    args = words[1:]
    english = first in commands._ENGLISH_HEADS or first in {"time", "kind", "service"}
    if not args:
        return (
            first
            in {
                "uptime",
                "df",
                "ls",
                "free",
                "top",
                "ps",
                "w",
                "who",
                "id",
                "date",
                "hostname",
                "env",
                "dmesg",
                "lsblk",
                "nproc",
                "ifconfig",
                "pwd",
                "history",
                "mount",
                "iostat",
                "vmstat",
                "netstat",
                "timedatectl",
                "hostnamectl",
                "lscpu",
                "lsmod",
                "getenforce",
                "sestatus",
            }
            and not bare
        )
    if english:
        if line.endswith(":"):
            return False
        if args[0].lower() in _DETERMINERS and not re.search(
            r"[|$=<>/{}\"`]|(?:^|\s)-", " ".join(args)
        ):
            return False  # "kill the reporting sessions, but ask @db-oncall first": a sentence
        return any(
            ENGLISH_OK_RE.search(a) for a in args if a not in {"->", "\u2192", "=>", "-", "\u2013"}
        )
    second = args[0].lower()
    if second in STOP_WORDS or second in {"the", "a", "an", "your", "our", "its"}:
        return False
    if bare:
        prose_words = sum(1 for a in args if re.fullmatch(r"[a-z]{2,}", a) and a in STOP_WORDS)
        return prose_words <= 1 and (len(args) >= 2 or bool(TECHNICAL_RE.search(" ".join(args))))
    return True


def _program_name(word: str) -> bool:
    return (
        bool(re.fullmatch(r"[a-z][a-z0-9._-]{1,30}", word))
        and word not in _COMMON_WORDS
        and (word not in commands._ENGLISH_HEADS)
    )


_DETERMINERS = frozenset(
    {"the", "a", "an", "your", "our", "its", "their", "his", "her", "this", "that", "these",
     "those", "all", "any", "some", "every", "each"}
)  # fmt: skip


TECHNICAL_RE = re.compile(r"(?:^|\s)-{1,2}\w|[/=|<>$\"'{]")


def is_title_command(text: str) -> bool:
    """A first line that names a tool ("vault sealed") is a title unless it is clearly a command."""
    return is_command(text) and bool(TECHNICAL_RE.search(text.split(None, 1)[-1]))


def common_word_doubt(command: str) -> str | None:
    """A note when a command found inside a sentence starts with an everyday word.

    `date +%s.%N` or `cat /etc/hostname` are kept as commands; the note lets a reviewer confirm
    the writer meant them to run rather than silently turning the step into a manual one.
    """
    words = command.split()
    while words and words[0] in {"sudo", "time", "watch"} and len(words) > 1:
        if words[0] in {"time", "watch"}:
            return None
        words = words[1:]
    if words and words[0] in commands._ENGLISH_HEADS and words[0] not in {"cd", "echo"}:
        return (
            f"'{command[:60]}' starts with the everyday word '{words[0]}' and is read as a "
            "command: check it is meant to run"
        )
    return None


def reads_as_prose(text: str) -> bool:
    """A line that starts with a tool's name but goes on as a sentence ("kubelet restarts are
    rare and usually not needed.")."""
    words = re.sub(r"\s+#\s.*$", "", text).split()  # a shell comment's words are not the line's
    common = sum(1 for w in words[1:] if w.lower().strip(".,;") in _COMMON_WORDS)
    return common >= 3 and not TECHNICAL_RE.search(" ".join(words[1:]))
