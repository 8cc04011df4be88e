"""What a program does with its arguments: which words it re-reads as shell code, which word is
the program it runs next, and which positions it could read as options.

Only programs listed here are modelled; any other program's arguments are data. Positions that
hold code for an interpreter (awk, sed, perl -e, trap…) or a shell variable name are refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Literal

from domain.shellrender.lexer import DYN, sentinel_index

Stdin = Literal["script", "data"] | None


@dataclass
class Plan:
    """Roles of a command's words (indices into its argv)."""

    refused: dict[int, str] = field(default_factory=dict)
    scripts: list[tuple[tuple[int, ...], str]] = field(default_factory=list)
    sub: tuple[int, int, str] | None = None  # [start, end) of a command it runs directly
    end_options: int | None = None  # index of the `--` that ends this program's options
    no_options_from: int | None = None  # from here on, nothing is read as an option
    stdin: Stdin = None


SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "ash", "mksh", "busybox"})
_DATA_STDIN = frozenset(
    {"cat", "tee", "wc", "sort", "head", "tail", "base64", "grep", "egrep", "fgrep", "sed", "awk",
     "jq", "md5sum", "sha256sum", "uniq", "cut", "tr"}
)  # fmt: skip
_NAME_BUILTINS = frozenset(
    {"let", "declare", "typeset", "local", "export", "readonly", "unset", "read", "mapfile",
     "readarray", "source", ".", "trap", "alias", "enable", "complete", "compgen", "bind", "fc",
     "hash", "getopts", "wait", "function", "coproc", "shopt", "set", "ulimit", "caller"}
)  # fmt: skip
_INTERPRETERS = {
    "awk": "", "gawk": "", "mawk": "", "nawk": "", "sed": "e",
    "perl": "eE", "python": "c", "python3": "c", "python2": "c", "ruby": "e", "node": "ep",
    "php": "r", "lua": "e", "Rscript": "e", "tclsh": "", "expect": "c", "pwsh": "cC",
    "powershell": "cC", "osascript": "e",
}  # fmt: skip
# wrapper: (options taking an argument, positional words before the wrapped command)
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user",
                        "--group", "--prompt", "--host", "--chdir", "--role", "--type",
                        "--other-user", "--close-from", "--command-timeout"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "nohup": (frozenset(), 0),
    "timeout": (frozenset({"-k", "-s", "--kill-after", "--signal"}), 1),
    "time": (frozenset({"-f", "-o", "--format", "--output"}), 0),
    "exec": (frozenset({"-a"}), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}), 0),
    "setsid": (frozenset(), 0),
    "chroot": (frozenset({"--userspec", "--groups"}), 1),
    "nsenter": (frozenset({"-t", "--target", "-S", "-G", "--setuid", "--setgid", "-r", "-w"}), 0),
    "taskset": (frozenset(), 1),
    "xargs": (frozenset({"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file",
                         "--delimiter", "--max-args", "--max-procs", "--max-lines"}), 0),
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "strace": (frozenset({"-e", "-o", "-p", "-s", "-u"}), 0),
    "!": (frozenset(), 0), "{": (frozenset(), 0), "if": (frozenset(), 0),
    "then": (frozenset(), 0), "else": (frozenset(), 0), "elif": (frozenset(), 0),
    "while": (frozenset(), 0), "until": (frozenset(), 0), "do": (frozenset(), 0),
}  # fmt: skip
UNSAFE_ASSIGN = re.compile(
    r"^(PS[0-4]|PROMPT_COMMAND|BASH_ENV|ENV|SHELLOPTS|BASHOPTS|PATH|IFS|CDPATH|GLOBIGNORE|"
    r"BASH_XTRACEFD|LD_\w*|DYLD_\w*|BASH_FUNC_\w*|PERL5OPT|PERL5LIB|PYTHONSTARTUP|PYTHONPATH|"
    r"NODE_OPTIONS|GIT_\w*|SSH_ASKPASS|EDITOR|VISUAL|PAGER|LESSOPEN|TERMINFO|HOME|SHELL)\+?="
)
_POSITIONAL = re.compile(r"\$(\{?[0-9@*]|\{?#)")
_STDIN_CODE = frozenset({"xargs", "parallel", "source", "."})
_VERSIONED = re.compile(r"^(python|perl|ruby|node|php|lua|pwsh)[\d.]*$")
_SSH_ARG_OPTS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_DOCKER_ARG_OPTS = frozenset(
    {"-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys",
     "--timeout", "-s"}
)  # fmt: skip


def literal(text: str) -> bool:
    return DYN not in text and not any(sentinel_index(c) is not None for c in text)


def _has_placeholder(text: str) -> bool:
    return any(sentinel_index(c) is not None for c in text)


def plan(argv: list[str]) -> Plan:
    """How the program named by argv[0] treats each of its words."""
    result = Plan()
    if not argv:
        return result
    if not literal(argv[0]):
        for k in range(len(argv)):
            result.refused[k] = (
                "is the program to run" if k == 0 else "the program to run is computed at run time"
            )
        return result
    name = os.path.basename(argv[0])
    versioned = _VERSIONED.match(name)
    if versioned and name not in _INTERPRETERS:
        name = versioned.group(1)
    result.end_options = next((k for k, w in enumerate(argv) if w == "--" and k > 0), None)
    if name in SHELLS:
        _shell(argv, result)
    elif name == "eval":
        result.scripts.append((tuple(range(1, len(argv))), "eval"))
    elif name in {"su", "runuser"}:
        _su(argv, result)
    elif name == "ssh":
        _ssh(argv, result)
    elif name == "kubectl" or name == "oc":
        _kubectl(argv, result)
    elif name in {"docker", "podman", "nerdctl", "crictl"}:
        _docker(argv, result)
    elif name == "watch":
        _watch(argv, result)
    elif name == "find":
        _find(argv, result)
    elif name == "flock":
        _flock(argv, result)
    elif name in _WRAPPERS:
        _wrapper(argv, result, *_WRAPPERS[name])
    elif name in _NAME_BUILTINS:
        _refuse_from(result, argv, 1, f"`{name}` reads it as a variable name, code or arithmetic")
    elif name in _INTERPRETERS:
        _interpreter(argv, result, _INTERPRETERS[name])
    elif name in {"test", "["} and any(w in {"-v", "-R"} for w in argv):
        _refuse_from(result, argv, 1, "`test -v` evaluates array subscripts")
    elif name == "printf":
        _printf(argv, result)
    elif name == "for":
        _refuse_from(result, argv, 1, "a loop variable carries it where it cannot be followed")
    elif name in {"}", "fi", "done", "esac"}:
        _refuse_from(result, argv, 1, f"follows `{name}`")
    return result


def _refuse_from(result: Plan, argv: list[str], start: int, reason: str) -> None:
    for k in range(start, len(argv)):
        result.refused.setdefault(k, reason)


def _options(argv: list[str], start: int, takes_arg: frozenset[str], result: Plan, who: str) -> int:
    """Skip options from `start`; placeholders inside them are refused. Returns the next index."""
    k = start
    while k < len(argv):
        word = argv[k]
        if word == "--":
            return k + 1
        if not word.startswith("-") or word == "-" or not literal(word[:2]):
            return k
        if _has_placeholder(word) or DYN in word:
            result.refused[k] = f"inside an option of `{who}`"
        base = word.split("=", 1)[0]
        if base in takes_arg and "=" not in word:
            k += 1
            if k < len(argv) and (_has_placeholder(argv[k]) or DYN in argv[k]):
                result.refused.setdefault(k, f"an option argument of `{who}` ({base})")
        k += 1
    return k


def _wrapper(argv: list[str], result: Plan, takes_arg: frozenset[str], positionals: int) -> None:
    name = os.path.basename(argv[0])
    if name == "sudo" and any(w in {"-s", "-i", "--shell", "--login"} for w in argv[1:]):
        _refuse_from(result, argv, 1, "`sudo -s/-i` passes its arguments to a shell")
        return
    if name == "env" and any(w.startswith(("-S", "--split-string")) for w in argv[1:]):
        _refuse_from(result, argv, 1, "`env -S` splits its argument like a shell")
        return
    k = _options(argv, 1, takes_arg, result, name)
    if name == "env":
        while k < len(argv) and "=" in argv[k] and literal(argv[k].split("=", 1)[0]):
            if not argv[k].split("=", 1)[0].isidentifier():
                result.refused[k] = "an environment assignment with a computed name"
            elif UNSAFE_ASSIGN.match(argv[k]):
                result.refused[k] = "sets a variable the shell or programs evaluate"
            k += 1
    k += positionals
    if k < len(argv):
        result.sub = (k, len(argv), name)


def _shell(argv: list[str], result: Plan) -> None:
    name = os.path.basename(argv[0])
    k = 1
    has_c = False
    if name == "busybox":
        if len(argv) < 2 or argv[1] not in {"sh", "ash"}:
            return
        k = 2
    while k < len(argv):
        word = argv[k]
        if word == "--" or word == "-":
            k += 1
            break
        if not (word.startswith(("-", "+")) and len(word) > 1):
            break
        if not literal(word):
            result.refused[k] = f"inside an option of `{name}`"
            k += 1
            continue
        if not word.startswith("--"):
            has_c = has_c or (word[0] == "-" and "c" in word)
            if "o" in word[1:] or "O" in word[1:]:
                k += 1
                if k < len(argv) and not literal(argv[k]):
                    result.refused[k] = f"an option argument of `{name}`"
        k += 1
    if has_c:
        if k < len(argv):
            result.scripts.append(((k,), f"{name} -c"))
            result.no_options_from = k + 1  # $0, $1…: positional parameters, never options
            if _POSITIONAL.search(argv[k]):
                # The script expands its arguments: where they go is not followed.
                _refuse_from(result, argv, k + 1, f"an argument the `{name} -c` script expands")
        return
    if k < len(argv):
        result.refused[k] = f"names the script file `{name}` runs"
        result.no_options_from = k + 1
        return
    result.stdin = "script"


def _su(argv: list[str], result: Plan) -> None:
    name = os.path.basename(argv[0])
    k = 1
    while k < len(argv):
        word = argv[k]
        if word in {"-c", "--command"} and k + 1 < len(argv):
            result.scripts.append(((k + 1,), f"{name} -c"))
            k += 2
            continue
        if word in {"-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w"}:
            result.refused[k + 1] = f"an option argument of `{name}`"
            k += 2
            continue
        if word.startswith("-") and (_has_placeholder(word) or DYN in word):
            result.refused[k] = f"inside an option of `{name}`"
        k += 1
    if not result.scripts:
        result.stdin = "script"


def _ssh(argv: list[str], result: Plan) -> None:
    k = 1
    terminated = False

    def options(k: int) -> tuple[int, bool]:
        while k < len(argv):
            word = argv[k]
            if word == "--":
                return k + 1, True
            if not word.startswith("-") or len(word) < 2:
                return k, False
            if not literal(word):
                result.refused[k] = "inside an option of `ssh`"
            for pos, flag in enumerate(word[1:], start=1):
                if flag in _SSH_ARG_OPTS:
                    if pos == len(word) - 1:
                        k += 1
                        if k < len(argv) and not literal(argv[k]):
                            result.refused[k] = (
                                "an ssh option argument (-o, -J, -F… can run commands)"
                            )
                    break
            k += 1
        return k, False

    k, terminated = options(k)
    if k >= len(argv):
        return
    host = k
    result.no_options_from = None if not terminated else host
    if not terminated:
        # OpenSSH parses options again after the destination unless `--` came first.
        k, terminated = options(host + 1)
    else:
        k = host + 1
    if k < len(argv):
        result.scripts.append((tuple(range(k, len(argv))), "the remote shell of `ssh`"))
    else:
        result.stdin = "script"


def _kubectl(argv: list[str], result: Plan) -> None:
    end = result.end_options
    head = argv[1:end] if end is not None else argv[1:]
    verb = next((w for w in head if w in {"exec", "run", "debug", "attach"}), None)
    if verb is None:
        return
    if end is None:
        if verb in {"exec", "attach"}:
            start = argv.index(verb)
            _refuse_from(
                result, argv, start + 1, f"`kubectl {verb}` without `--` before the command"
            )
        return
    if end + 1 < len(argv):
        result.sub = (end + 1, len(argv), f"kubectl {verb}")
        result.no_options_from = None


def _docker(argv: list[str], result: Plan) -> None:
    name = os.path.basename(argv[0])
    verbs = [k for k, w in enumerate(argv) if w in {"exec", "run", "create"}]
    if not verbs:
        return
    verb = verbs[0]
    if argv[verb] != "exec":
        _refuse_from(result, argv, verb + 1, f"`{name} {argv[verb]}` options are not modelled")
        return
    k = _options(argv, verb + 1, _DOCKER_ARG_OPTS, result, f"{name} exec")
    if k < len(argv):
        result.sub = (k + 1, len(argv), f"{name} exec") if k + 1 < len(argv) else None
        result.end_options = k if result.end_options is None else min(result.end_options, k)


def _watch(argv: list[str], result: Plan) -> None:
    if any(w in {"-x", "--exec"} for w in argv[1:]):
        k = _options(argv, 1, frozenset({"-n", "--interval", "-d"}), result, "watch")
        if k < len(argv):
            result.sub = (k, len(argv), "watch --exec")
        return
    k = _options(argv, 1, frozenset({"-n", "--interval"}), result, "watch")
    if k < len(argv):
        result.scripts.append((tuple(range(k, len(argv))), "watch (sh -c)"))


def _find(argv: list[str], result: Plan) -> None:
    for k, word in enumerate(argv):
        if word in {"-exec", "-execdir", "-ok", "-okdir"}:
            stop = next((j for j in range(k + 1, len(argv)) if argv[j] in {";", "+"}), len(argv))
            result.sub = (k + 1, stop, f"find {word}")
            for j in range(stop, len(argv)):
                if _has_placeholder(argv[j]):
                    result.refused[j] = "after find -exec (only one -exec is modelled)"
            return


def _flock(argv: list[str], result: Plan) -> None:
    for k, word in enumerate(argv):
        if word in {"-c", "--command"} and k + 1 < len(argv):
            result.scripts.append(((k + 1,), "flock -c"))
            return
    k = _options(
        argv, 1, frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), result, "flock"
    )
    if k + 1 < len(argv):
        result.sub = (k + 1, len(argv), "flock")


def _interpreter(argv: list[str], result: Plan, code_flags: str) -> None:
    name = os.path.basename(argv[0])
    reason = f"is code for `{name}`"
    k = 1
    program_given = False
    while k < len(argv):
        word = argv[k]
        if word == "--":
            k += 1
            break
        if not word.startswith("-") or word == "-":
            break
        flag = word[1:2]
        if (
            (flag and flag in code_flags)
            or flag in {"f"}
            or word.startswith(("--source", "--expression", "--file"))
        ):
            program_given = True
            result.refused[k] = reason
            if "=" not in word and len(word) == 2:
                k += 1
                result.refused[k] = reason
        elif name.endswith("awk") and word in {"-F", "-v"}:
            k += 1  # -v var=value and -F sep are data
        elif name == "sed" and word in {"-i"}:
            pass
        elif _has_placeholder(word) or DYN in word:
            result.refused[k] = f"inside an option of `{name}`"
        k += 1
    if not program_given and k < len(argv):
        result.refused[k] = reason  # the program text, or the script file to run
        k += 1
    result.no_options_from = k


def _printf(argv: list[str], result: Plan) -> None:
    k = 1
    if k < len(argv) and argv[k] == "-v":
        _refuse_from(result, argv, 1, "`printf -v` assigns to a variable name")
        return
    if k < len(argv) and argv[k] == "--":
        k += 1
    result.no_options_from = k + 1  # after the format, arguments are never options


def stdin_is_code(argv: list[str]) -> bool:
    """The command runs what arrives on stdin (a shell, ssh without a command, xargs…)."""
    if not argv or not literal(argv[0]):
        return True
    if os.path.basename(argv[0]) in _STDIN_CODE:
        return True
    current = plan(argv)
    if current.sub is not None:
        start, end, _ = current.sub
        return stdin_is_code(argv[start:end])
    return current.stdin == "script"


def stdin_of(argv: list[str]) -> Stdin:
    """Whether the command reads its standard input as shell code, as data, or unknown."""
    if not argv or not literal(argv[0]):
        return None
    current = plan(argv)
    if current.sub is not None:
        start, end, _ = current.sub
        return stdin_of(argv[start:end])
    if current.stdin is not None:
        return current.stdin
    if current.scripts:
        return None
    return "data" if os.path.basename(argv[0]) in _DATA_STDIN else None
