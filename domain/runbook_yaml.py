"""YAML runbooks (docs-as-code) to the Runbook model, with errors a runbook author can act on."""

from __future__ import annotations

import yaml
from pydantic import ValidationError

from schemas.runbook import Runbook


class RunbookFileError(ValueError):
    """A runbook file that cannot be loaded; the message names the file and the field."""


def runbook_from_yaml(text: str, source: str = "<text>") -> Runbook:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RunbookFileError(f"{source}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise RunbookFileError(f"{source}: a runbook file must be a YAML mapping")
    data.pop("version", None)  # versions are assigned by the store, never by the author
    try:
        return Runbook.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()
        )
        raise RunbookFileError(f"{source}: {problems}") from err
