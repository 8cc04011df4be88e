"""The approval policy file: read at start-up, and again only when it changed on disk.

The rules themselves (what a policy says and how it decides) are pure and live in
`domain.policy`; this module is the file behind them.
"""

from __future__ import annotations

from pathlib import Path

from domain.policy import PolicyError, policy_from_yaml
from schemas.policy import ApprovalPolicy


def load_policy(path: Path | None) -> ApprovalPolicy | None:
    """The policy in `path`, or None when no file is configured (the defaults apply)."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PolicyError(f"{path}: cannot read the approval policy: {err.strerror}") from err
    return policy_from_yaml(text, str(path))


_loaded: dict[Path, tuple[tuple[int, int], ApprovalPolicy | str | None]] = {}


def current_policy(path: Path | None) -> ApprovalPolicy | None:
    """`load_policy`, read again only when the file changed (its mtime or size).

    Every firing alert and every Slack click consults the policy; parsing the YAML each time
    is waste. A broken file raises `PolicyError` on every call, as `load_policy` does.
    """
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return load_policy(path)  # raises the error that names the file
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _loaded.get(path)
    if cached is None or cached[0] != stamp:
        value: ApprovalPolicy | str | None
        try:
            value = load_policy(path)
        except PolicyError as err:
            value = str(err)  # kept as text: re-raising one exception object grows its traceback
        cached = _loaded[path] = (stamp, value)
    if isinstance(cached[1], str):
        raise PolicyError(cached[1])
    return cached[1]
