"""Bytecode for our own packages, written once so every workflow sandbox reads it.

The workflow sandbox re-imports the workflow modules for every new run and every replay. With
PYTHONDONTWRITEBYTECODE set (as in this project's environments) nothing ever writes
`__pycache__`, so each of those imports compiled the sources again: a replay took ~230 ms
instead of ~60 ms. `compileall` writes the `.pyc` files regardless of that setting, and
rewrites only those older than their source, so calling it at every worker start is cheap.
"""

from __future__ import annotations

import compileall
import logging
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
#: What the workflow sandbox imports (and the worker processes start from).
PACKAGES = ("activities", "db", "domain", "infra", "schemas", "workflows", "workers")


def ensure_bytecode(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> bool:
    """Compile stale or missing bytecode of `packages` under `root`; False when a directory
    could not be written (a read-only install: then nothing changes, only speed)."""
    ok = True
    for name in packages:
        folder = root / name
        if folder.is_dir():
            try:
                ok = compileall.compile_dir(folder, quiet=1) and ok
            except OSError as err:
                log.warning("no bytecode written for %s: %s", folder, err)
                ok = False
    return ok
