"""Bounded step output: the full output (as the agent returned it) goes to the product's store
through a local activity; the incident's state keeps a redacted excerpt and the sha256 the audit
export computes from the same output, so the two can be matched."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.audit.records import output_digest, output_excerpt
    from schemas.incident import RunCommandResult, StepOutput, StepOutputThenCheck, StepView
    from schemas.trust import SlotGrant, SlotRequest
    from workflows.incident import stubs
    from workflows.incident.core import Incident
    from workflows.incident.versions import PATCH_STEP_OUTPUTS
    from workflows.incident_record import IncidentRecord

STDOUT_EXCERPT_CHARS = 4000
STDERR_EXCERPT_CHARS = 2000


def _excerpt(text: str, max_chars: int) -> str:
    return output_excerpt(text, max_chars=max_chars, max_lines=80)[0]


class Outputs:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    async def keep_step(
        self, view: StepView, result: RunCommandResult, then_check: SlotRequest | None = None
    ) -> SlotGrant | None:
        """Keep a step's output; with `then_check`, the same local activity answers that
        automation check (for the step after this one) once the output is stored."""
        if not self._i.versions.has(PATCH_STEP_OUTPUTS):
            IncidentRecord.record_result(view, result)
            return None
        grant = None
        if then_check is None:
            await self._store(view.id, "step", result)
        else:
            output = self._output(view.id, "step", result)
            grant = await stubs.store_output_then_check(
                StepOutputThenCheck(output=output, check=then_check)
            )
        self._i.full_output[view.id] = result.stdout
        view.exit_code = result.exit_code
        view.stdout = _excerpt(result.stdout, STDOUT_EXCERPT_CHARS)
        view.stderr = _excerpt(result.stderr, STDERR_EXCERPT_CHARS)
        view.output_digest = output_digest(result.stdout + result.stderr)
        view.attempts = result.attempt
        return grant

    async def keep_rollback(self, view: StepView, result: RunCommandResult | None) -> None:
        view.rollback_exit_code = result.exit_code if result else None
        output = (result.stdout + result.stderr) if result else ""
        if not self._i.versions.has(PATCH_STEP_OUTPUTS):
            view.rollback_output = output
            return
        if result is not None:
            await self._store(view.id, "rollback", result)
        view.rollback_output = _excerpt(output, STDOUT_EXCERPT_CHARS)
        view.rollback_output_digest = output_digest(output) if result else ""

    async def _store(self, step_id: str, purpose: str, result: RunCommandResult) -> None:
        await stubs.store_step_output(self._output(step_id, purpose, result))

    def _output(self, step_id: str, purpose: str, result: RunCommandResult) -> StepOutput:
        return StepOutput(
            incident_id=self._i.state.id,
            run_id=workflow.info().run_id,
            step_id=step_id,
            purpose="rollback" if purpose == "rollback" else "step",
            attempt=result.attempt,
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            digest=output_digest(result.stdout + result.stderr),
        )
