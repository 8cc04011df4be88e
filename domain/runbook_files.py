"""Which files of a runbook folder are runbooks, and the relative names they travel under.

The CLI reads a folder on the operator's machine and uploads each file under its path relative
to that folder; the API derives runbook ids from those names, so a name must stay inside the
folder (no absolute path, no `..`).
"""

from __future__ import annotations

from pathlib import PurePosixPath

MARKDOWN = (".md", ".markdown")  # parsed into steps
YAML = (".yml", ".yaml")  # loaded as written


def is_runbook_file(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in (*MARKDOWN, *YAML)


def is_yaml_file(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in YAML


def relative_name(name: str) -> PurePosixPath:
    """`name` as a path relative to its folder; ValueError when it would leave the folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if not name.strip() or path.is_absolute() or ".." in path.parts or not path.name:
        raise ValueError(f"{name!r}: give a path relative to the runbook folder")
    return path
