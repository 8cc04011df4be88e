"""PATH stand-ins for ssh, kubectl, docker, su and sudo that re-evaluate like the real programs.

They never reach a network or a cluster: the fake `ssh` parses options the way OpenSSH does
(options again after the destination unless `--`; `-o ProxyCommand=…` is run, as real ssh would)
and runs the remote command with `sh -c` locally; `kubectl exec … -- cmd` and `docker exec c cmd`
exec the command; `su -c` runs `sh -c`; `sudo` execs its command. Programs a shipped runbook
would change a host with (journalctl, crictl, du, df) only print their arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_PY = f"#!{sys.executable} -IS\n"

_SSH = (
    _PY
    + r"""
import os, sys
argv = sys.argv[1:]
ARG = set("BbcDEeFIiJLlmOoPpQRSWw")
proxy = None
def options(k):
    global proxy
    while k < len(argv):
        word = argv[k]
        if word == "--":
            return k + 1, True
        if not word.startswith("-") or len(word) < 2:
            return k, False
        for pos, flag in enumerate(word[1:], start=1):
            if flag in ARG:
                value = word[pos + 1:]
                if not value:
                    k += 1
                    if k >= len(argv):
                        sys.exit("ssh: option requires an argument")
                    value = argv[k]
                if flag == "o" and value.lower().startswith("proxycommand"):
                    proxy = value.split("=", 1)[-1].lstrip(" =")
                break
        k += 1
    return k, False
k, done = options(0)
if k >= len(argv):
    sys.exit("usage: ssh destination [command]")
host = argv[k]
if not done:
    k, done = options(k + 1)
else:
    k += 1
if proxy:
    os.system(proxy)  # real ssh runs ProxyCommand with the user's shell
env = dict(os.environ, FAKE_SSH_HOST=host)
remote = " ".join(argv[k:])
shell = ["sh", "-c", remote] if remote else ["sh"]
os.execvpe("sh", shell, env)
"""
)

_KUBECTL = (
    _PY
    + r"""
import os, sys
argv = sys.argv[1:]
if "exec" in argv and "--" in argv:
    rest = argv[argv.index("--") + 1:]
    os.execvp(rest[0], rest)
sys.stdout.write("kubectl " + " ".join(repr(a) for a in argv) + "\n")
"""
)

_DOCKER = (
    _PY
    + r"""
import os, sys
argv = sys.argv[1:]
ARG = {"-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys"}
if argv[:1] != ["exec"]:
    sys.stdout.write("docker " + " ".join(repr(a) for a in argv) + "\n")
    sys.exit(0)
k = 1
while k < len(argv) and argv[k].startswith("-"):
    if argv[k] == "--":
        k += 1
        break
    k += 2 if argv[k] in ARG else 1
container, command = argv[k], argv[k + 1:]
os.execvp(command[0], command)
"""
)

_SU = (
    _PY
    + r"""
import os, sys
argv = sys.argv[1:]
command = None
k = 0
while k < len(argv):
    if argv[k] in ("-c", "--command"):
        command = argv[k + 1]
        k += 2
        continue
    k += 2 if argv[k] in ("-s", "--shell", "-g", "-G") else 1
os.execvp("sh", ["sh", "-c", command] if command is not None else ["sh"])
"""
)

_SUDO = (
    _PY
    + r"""
import os, sys
argv = sys.argv[1:]
ARG = {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"}
k = 0
while k < len(argv) and argv[k].startswith("-"):
    if argv[k] == "--":
        k += 1
        break
    k += 2 if argv[k] in ARG else 1
os.execvp(argv[k], argv[k:])
"""
)

_ECHOARGS = (
    _PY
    + r"""
import os, sys
sys.stdout.buffer.write(b"\0".join(os.fsencode(a) for a in sys.argv[1:]))
"""
)

_PRINT_ARGS = (
    _PY
    + r"""
import sys
name = sys.argv[0].rsplit("/", 1)[-1]
sys.stdout.write(name + " " + " ".join(repr(a) for a in sys.argv[1:]) + "\n")
"""
)

SHIMS = {
    "ssh": _SSH,
    "kubectl": _KUBECTL,
    "docker": _DOCKER,
    "su": _SU,
    "sudo": _SUDO,
    "echoargs": _ECHOARGS,
    "journalctl": _PRINT_ARGS,
    "crictl": _PRINT_ARGS,
    "du": _PRINT_ARGS,
    "df": _PRINT_ARGS,
}


@dataclass
class Sandbox:
    """A scratch directory to run in, the shims' PATH, and the marker a payload would create."""

    workdir: Path
    bindir: Path
    marker: Path

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.workdir),
            "LC_ALL": "C.UTF-8",
        }

    def run(self, command: str, timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
        """Run like the agent does: the command is one argument to `bash -c`."""
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def executed(self) -> list[str]:
        """Anything the payloads could have created: the marker, or any file in the workdir."""
        found = [p.name for p in self.workdir.iterdir()]
        if self.marker.exists() and self.marker.name not in found:
            found.append(str(self.marker))
        return found


def make_sandbox(root: Path) -> Sandbox:
    bindir = root / "bin"
    workdir = root / "work"
    bindir.mkdir()
    workdir.mkdir()
    for name, text in SHIMS.items():
        path = bindir / name
        path.write_text(text)
        path.chmod(0o755)
    return Sandbox(workdir=workdir, bindir=bindir, marker=workdir / "PWNED")


def hostile_values(marker: Path) -> list[str]:
    """Values an attacker could put in an alert label; each tries to create `marker`."""
    m = str(marker)
    return [
        f"$(touch {m})",
        f"`touch {m}`",
        f"x; touch {m}",
        f"x && touch {m}",
        f"x || touch {m}",
        f"x | touch {m}",
        f"x\ntouch {m}",
        f"x\rtouch {m}",
        f"'; touch {m}; echo '",
        f'"; touch {m}; echo "',
        f"'\"$(touch {m})\"'",
        f"\\'; touch {m}; #",
        f'\\"; touch {m}; #',
        f"$'\\x27'; touch {m}; #",
        f"\\x27; touch {m}",
        f"-oProxyCommand=touch {m}",
        f"-o ProxyCommand=touch {m}",
        "--help",
        "-",
        "--",
        f"-c touch {m}",
        f"${{IFS}}touch${{IFS}}{m}",
        f"$IFS;touch {m}",
        "*",
        "?",
        "[a-z]*",
        "~root",
        "{a,b}",
        "!!",
        "!$",
        "$HOME",
        "${HOME}",
        "$((1+1))",
        f"a[$(touch {m})]",
        f"$(( a[$(touch {m})] ))",
        "%s%n%x",
        "\\",
        "\\\\",
        "a\\",
        "'",
        '"',
        "`",
        "$",
        "${",
        "$(",
        "EOF",
        f"x\nEOF\ntouch {m}\n",
        f"EOF\ntouch {m}",
        f"x\n'EOF'\ntouch {m}",
        f"x\n\tEOF\ntouch {m}",
        f"<<EOF\ntouch {m}\nEOF",
        f"#\ntouch {m}",
        f"x\x00; touch {m}",
        "ünïcødé ✓ 日本語 \u202e",
        "\x1b[31mred\x1b[0m",
        "tab\there",
        " leading and trailing ",
        "",
        "x" * 3000,
        ("$(touch " + m + ")") * 400,
        f"/; touch {m}",
        f"/tmp/x'; touch {m}; '",
        f"ProxyCommand=touch {m}",
        f"host -oProxyCommand=touch {m}",
        f"a; ssh -oProxyCommand='touch {m}' x",
        f"$(printf 'touch {m}' | sh)",
        f'"$(touch {m})"',
        f"'$(touch {m})'",
        f"${{PWD:+$(touch {m})}}",
    ]
