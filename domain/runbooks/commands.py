"""Find the shell commands in a runbook: in code blocks, in `code spans`, and in prose.

A code block yields one command per meaningful command (prompts stripped, output dropped,
backslash and quote continuations kept together); comments become titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.runbooks import risk
from domain.runbooks.shellwords import tokenize

_NON_SHELL = frozenset(
    {"yaml", "yml", "json", "promql", "text", "txt", "log", "plaintext", "go", "toml", "ini",
     "xml", "diff", "html", "python", "java", "javascript", "js", "sql", "conf", "properties",
     "output", "csv", "jsonc", "logql", "markdown", "md", "dockerfile", "hcl", "none"}
)  # fmt: skip
_LENIENT = frozenset({"bash", "sh", "shell", "zsh", "shell-session", "ksh", "terminal"})
_EXTRA_KNOWN = frozenset(
    {"virtctl", "toolbox", "chroot", "nsenter", "crio", "amtool", "promtool", "ssh", "sudo",
     "export", "watch", "xargs", "timeout", "bash", "sh", "python3", "python", "jq", "for",
     "while", "if", "ovs-vsctl", "rados", "radosgw-admin", "istioctl", "linkerd", "velero",
     "argocd", "flux", "kubectx", "kubens", "stern", "k9s", "eksctl", "gsutil", "mc", "s3cmd",
     "vault", "consul", "nomad", "ansible", "ansible-playbook", "make", "mongosh", "mongo",
     "kafka-topics", "kafka-consumer-groups", "nodetool", "pg_dump", "pg_restore", "pg_ctl",
     "patronictl", "rabbitmqctl", "redis-cli", "ldapsearch", "oc", "kubectl", "set", "cd"}
)  # fmt: skip
_PROMPT_RE = re.compile(
    r"^\s*(?:\$|(?:\([\w.-]+\)\s*)?(?:\[[^\]\n]{1,60}\]|[\w.@~:/-]{1,60})[$#%])\s+(?=\S)"
)
_DB_PROMPT_RE = re.compile(r"^\s*[\w-]*(=>|=#|>)\s|^\s*(mysql|redis[\w.:-]*|sqlite)>\s")
_SPAN_RE = re.compile(r"(`+)(.+?)\1", re.S)
_ASSIGN_ONLY_RE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=")
_TODO_RE = re.compile(r"\b(TODO|FIXME|TBD|XXX)\b")


@dataclass
class CodeCommand:
    """A command found in a code block, with the comment written just above it."""

    command: str | None
    comment: str | None = None
    todo: bool = False


def known_command(word: str) -> bool:
    base = word.rsplit("/", 1)[-1]
    return (
        base in risk.known_heads()
        or base in _EXTRA_KNOWN
        or word.startswith(("./", "~/", "/usr/", "/opt/", "/bin/", "/sbin/", "/usr/local/"))
    )


def _first_word(line: str) -> str:
    words = line.strip().split()
    while words and ((_ASSIGN_ONLY_RE.match(words[0]) and len(words) > 1) or words[0] == "sudo"):
        words = words[1:]
    return words[0] if words else ""


def looks_like_command(text: str, *, strict: bool = True) -> bool:
    """Whether a line (or code span) is a shell command rather than output, a query or prose."""
    line = text.strip()
    if not line or line.startswith(("#", "//", "-", "*", "{", "[", "<", "|", '"')):
        return False
    first = _first_word(line)
    if _ASSIGN_ONLY_RE.match(line) and (
        len(tokenize(line.removeprefix("export "))) == 1 or re.search(r"=<[^<>]+>\s*$", line)
    ):
        return True
    if known_command(first):
        if strict and len(line.split()) < 2 and first not in {"exit", "ls", "df", "uptime"}:
            return False
        return not re.match(r"^[\w-]+\s+(is|are|was|will|can|should|has|have)\b", line)
    if strict:
        return False
    return bool(re.match(r"^[a-z][\w.-]*(\s|$)", line)) and not re.search(r"[({]\s*$|^\w+:", line)


def _unbalanced(text: str) -> bool:
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            nl = text.find("\n", i)
            if nl == -1:
                break
            i = nl
        i += 1
    return quote is not None


_OPEN_WORDS = {"do": "done", "then": "fi", "case": "esac", "{": "}"}


def _needs_more(text: str) -> bool:
    stripped = text.rstrip()
    if stripped.endswith(("\\", "|", "&&", "||", "(")):
        return True
    if _unbalanced(text):
        return True
    heredoc = re.search(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?", text)
    if heredoc:
        delim = heredoc.group(1)
        lines = text[heredoc.end() :].split("\n")[1:]
        if not any(line.strip() == delim for line in lines):
            return True
    words = re.findall(r"(?<![\w-])(do|done|then|fi|case|esac|\{|\})(?![\w-])", text)
    depth = 0
    for word in words:
        if word in _OPEN_WORDS:
            depth += 1
        elif word in _OPEN_WORDS.values():
            depth -= 1
    return depth > 0 or text.count("$(") > text.count(")")


def code_block_commands(content: str, lang: str) -> list[CodeCommand]:
    """Commands in one fenced or indented block (empty for YAML, PromQL, output...)."""
    if lang in _NON_SHELL:
        return []
    lines = content.split("\n")
    has_prompt = any(_PROMPT_RE.match(line) for line in lines)
    strict = lang not in _LENIENT
    out: list[CodeCommand] = []
    comment: str | None = None
    pending: list[str] = []
    for raw in lines:
        line = raw.rstrip()
        if pending:
            pending.append(line)
            joined = "\n".join(pending)
            if not _needs_more(joined):
                out.append(CodeCommand(_dedent(pending), comment))
                pending, comment = [], None
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if _TODO_RE.search(text):
                out.append(CodeCommand(None, text, todo=True))
            elif _ASSIGN_ONLY_RE.match(text) and "<" in text:
                out.append(CodeCommand(text, comment))  # commented binding: VAR='<label>'
                comment = None
            elif text and not looks_like_command(text):
                comment = text
            continue
        if has_prompt:
            match = _PROMPT_RE.match(line)
            if not match:
                continue  # output of the previous command
            line = line[match.end() :]
        elif _DB_PROMPT_RE.match(line) or not looks_like_command(line, strict=strict):
            continue
        pending = [line.strip()]
        if not _needs_more(pending[0]):
            out.append(CodeCommand(pending[0], comment))
            pending, comment = [], None
    if pending:
        out.append(CodeCommand(_dedent(pending), comment))
    return [c for c in out if c.command is None or c.command.strip() not in {"", "\\"}]


def _dedent(lines: list[str]) -> str:
    first = lines[0].strip()
    rest = [line.rstrip() for line in lines[1:]]
    return "\n".join([first, *rest]).strip()


_PROSE_RUN_RE = re.compile(
    r"\b(?:run|execute|use|using|with|via|command)\s*:?\s+"
    r"((?:sudo\s+)?(?:kubectl|oc|helm|systemctl|journalctl|aws|gcloud|az|etcdctl|virtctl|ceph|"
    r"psql|mysql|redis-cli|curl|docker|crictl|podman|terraform)\s[^`\n]*?)"
    r"(?=\s+(?:to|and|in order|for|on each|which|that|then)\s|[.;,:!?)](?:\s|$)|$)"
)


_ENGLISH_HEADS = frozenset(
    {"type", "read", "set", "host", "file", "join", "last", "w", "who", "test", "date", "free",
     "top", "clear", "history", "seq", "tree", "id", "groups", "diff", "comm", "sort", "cut",
     "wait", "return", "shift", "local", "declare", "expand", "fold", "paste", "rev", "nl", "true",
     "false", "sleep", "echo", "cd", "init", "service", "install", "find", "kill", "watch", "time",
     "ip", "tc", "more", "less", "head", "tail", "ping", "mount", "tar", "cat", "ps", "du", "df"}
)  # fmt: skip


def inline_commands(text: str) -> list[str]:
    """Commands written inside a sentence: `code spans` that parse as commands, or bare ones
    after 'run ...' (e.g. "run kubectl get pods to see...")."""
    from domain.runbooks.cmdline import is_command

    found: list[str] = []
    for match in _SPAN_RE.finditer(text):
        span = match.group(2).strip()
        words = span.split()
        if not words or _TODO_RE.search(span):
            continue
        if (
            looks_like_command(span)
            and (not _ASSIGN_ONLY_RE.match(span) or "=<" in span)
            and (words[0] not in _ENGLISH_HEADS or len(words) > 2 or "-" in span)
        ) or (len(words) > 1 and is_command(span)):
            found.append(span)
    bare = _SPAN_RE.sub(" ", text)
    for match in _PROSE_RUN_RE.finditer(bare):
        command = match.group(1).strip()
        if len(command.split()) >= 2 and command not in found:
            found.append(command)
    return found
