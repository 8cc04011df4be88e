"""Adopt the selected runbook: its steps become the incident's step views, rendered from the
alert, with what was refused or is missing said on the timeline."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import search_attributes as sa
    from schemas.incident import RenderedStep, SelectedRunbook, StepView
    from schemas.trust import Mode
    from workflows.incident.core import Incident, shown


def adopt(i: Incident, selected: SelectedRunbook) -> None:
    i.state.match_reason = selected.reason
    i.state.match_confidence = selected.confidence
    i.state.match_method = selected.method
    i.state.match_candidates = list(selected.candidates)
    i.state.match_close = list(selected.close)
    runbook = selected.runbook
    if runbook is None:
        i.rec.timeline("no_runbook", selected.reason)
        workflow.set_current_details(f"No runbook matched. {selected.reason}")
        return
    i.on_failure = runbook.on_failure
    i.state.runbook = runbook.id
    i.state.runbook_title = runbook.title
    i.state.runbook_version = runbook.version
    i.state.variables = dict(selected.variables)
    i.state.missing_variables = list(selected.missing_variables)
    rendered = {r.step_id: r for r in selected.rendered}
    for step in runbook.steps:
        i.steps[step.id] = step
        i.rendered[step.id] = rendered.get(
            step.id, RenderedStep(step_id=step.id, command=None, rollback=None)
        )
        i.state.steps.append(
            StepView(
                id=step.id,
                title=step.title,
                risk=step.risk,
                command=i.rendered[step.id].command,
                rollback=i.rendered[step.id].rollback,
                condition=step.condition,
                instructions=step.instructions,
                refused=list(i.rendered[step.id].refused),
            )
        )
        if i.rendered[step.id].refused:
            i.rec.timeline("values_refused", f"{step.id}: {shown(i.state.steps[-1])}")
    if not i.inp.selected:  # chosen by the client before start: already set at start
        workflow.upsert_search_attributes(
            [sa.RUNBOOK_ID.value_set(runbook.id), sa.RUNBOOK_VERSION.value_set(runbook.version)]
        )
    i.rec.timeline("runbook_matched", f"{runbook.id} v{runbook.version}: {selected.reason}")
    if selected.missing_variables:
        i.rec.timeline(
            "variables_missing",
            "no value for "
            + ", ".join(selected.missing_variables)
            + "; steps that need them become manual",
        )
    covering = i.covering_kill_switch()
    if covering is not None and i.state.mode is not Mode.READ_ALONG:
        i.set_mode(
            Mode.READ_ALONG,
            f"kill switch {covering.label} engaged by {covering.actor}: {covering.reason}",
            covering.actor,
        )
