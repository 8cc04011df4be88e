"""Fill a runbook's variables from the alert, and render its steps exactly as they will run."""

from __future__ import annotations

from domain.shell import Rendered, render_checked
from schemas.alert import Alert
from schemas.incident import RefusedValue, RenderedStep, SelectedRunbook
from schemas.runbook import Runbook, Variable

_ALERT_FIELDS = {"name", "title", "description", "service", "severity", "dedup_key", "source"}


def _lookup(variable: Variable, alert: Alert) -> str | None:
    if variable.source is not None:
        kind, _, key = variable.source.partition(":")
        if kind == "label":
            return alert.labels.get(key)
        if kind == "annotation":
            return alert.annotations.get(key)
        if key in _ALERT_FIELDS:
            return str(getattr(alert, key))
        return None
    return alert.labels.get(variable.name, alert.annotations.get(variable.name))


def fill_variables(runbook: Runbook, alert: Alert) -> tuple[dict[str, str], list[str]]:
    """Values the alert (or a default) provides, and the required variables still missing."""
    values: dict[str, str] = {}
    missing: list[str] = []
    for variable in runbook.variables:
        value = _lookup(variable, alert)
        if value is None:
            value = variable.default
        if value is None:
            if variable.required:
                missing.append(variable.name)
            continue
        values[variable.name] = value
    return values, missing


def _refusals(rendered: Rendered, part: str) -> list[RefusedValue]:
    return [
        RefusedValue(variable=r.name, value=r.value, reason=r.reason, part=part)
        for r in rendered.refused
    ]


def prepare(runbook: Runbook, alert: Alert, reason: str) -> SelectedRunbook:
    """The runbook snapshot with each step's command and rollback rendered (None if unfillable).

    A step whose command needs a missing variable is kept with command None: it becomes a manual
    step the responder sees with the gap named, never a command run with a hole in it. A value
    that cannot be placed safely is refused: the command keeps `{{ name }}` and lists the raw
    value, a rollback or capture that needs it is dropped (a human does it).
    """
    values, missing = fill_variables(runbook, alert)
    declared = frozenset(v.name for v in runbook.variables)
    rendered: list[RenderedStep] = []

    def note_missing(names: list[str]) -> None:
        missing.extend(n for n in names if n not in missing)

    for step in runbook.steps:
        command = rollback = None
        refused: list[RefusedValue] = []
        if step.command is not None:
            result = render_checked(step.command, values, declared)
            note_missing(result.missing)
            if not result.missing:
                command = result.command
                refused += _refusals(result, "command")
        capture: dict[str, str] = {}
        for name, template in step.capture.items():
            result = render_checked(template, values, declared)
            note_missing(result.missing)
            refused += _refusals(result, f"capture:{name}")
            if not result.missing and not result.refused:
                capture[name] = result.command
        if step.rollback is not None:
            # Captured values exist only at run time: shown as a marker until then.
            shown = {**values, **{n: f"<{n}: read just before the step>" for n in step.capture}}
            result = render_checked(step.rollback, shown, declared | frozenset(step.capture))
            note_missing(result.missing)
            refused += [r for r in _refusals(result, "rollback") if r.variable not in step.capture]
            if not result.missing and not any(r.part == "rollback" for r in refused):
                rollback = result.command
        rendered.append(
            RenderedStep(
                step_id=step.id,
                command=command,
                rollback=rollback,
                capture=capture,
                refused=refused,
            )
        )
    return SelectedRunbook(
        runbook=runbook,
        reason=reason,
        variables=values,
        missing_variables=missing,
        rendered=rendered,
    )
