"""Merge the LLM's structure into the deterministic parse without ever trusting it on risk.

The model may add structure, titles, conditions and explanations. Every step's risk is at least
what the classifier says about its command and what the deterministic parse said for the same
command; an approval the text requires stays required; a command the source text does not
contain is flagged for a human rather than silently adopted.
"""

from __future__ import annotations

from domain.runbooks.risk import classify
from schemas.llm import LlmRunbook
from schemas.runbook import Runbook, Step, StepRisk, Variable

_ORDER = {StepRisk.SAFE: 0, StepRisk.CAUTION: 1, StepRisk.DANGEROUS: 2}


def _worst(a: StepRisk, b: StepRisk) -> StepRisk:
    return a if _ORDER[a] >= _ORDER[b] else b


def _squash(text: str) -> str:
    return " ".join(text.split())


def merge(
    draft: Runbook, llm: LlmRunbook, source_text: str
) -> tuple[Runbook, list[tuple[str | None, str]]]:
    """The improved runbook and the ambiguities (step id or None, message) to show."""
    source = _squash(source_text)
    draft_by_command = {_squash(s.command): s for s in draft.steps if s.command}
    draft_commands = set(draft_by_command)
    ambiguities: list[tuple[str | None, str]] = [(a.step_id, a.message) for a in llm.ambiguities]
    steps: list[Step] = []
    seen: set[str] = set()
    for item in llm.steps:
        step_id = item.id if item.id not in seen else f"{item.id}-{len(seen)}"
        seen.add(step_id)
        risk = item.risk
        reasons: list[str] = []
        same = draft_by_command.get(_squash(item.command)) if item.command else None
        if same is not None and _ORDER[same.risk] > _ORDER[risk]:
            reasons.append(f"raised from {risk.value}: the parsed step says {same.risk.value}")
            risk = same.risk
        if item.command:
            verdict = classify(item.command)
            if _ORDER[verdict.risk] > _ORDER[risk]:
                reasons.append(
                    f"raised from {risk.value}: the classifier says {verdict.risk.value}"
                )
            risk = _worst(risk, verdict.risk)
            reasons.extend(verdict.reasons)
            squashed = _squash(item.command)
            if squashed not in draft_commands and squashed.split("{{")[0].strip() not in source:
                ambiguities.append(
                    (
                        step_id,
                        "command proposed by the LLM, not found in the runbook text: "
                        "check it before approving",
                    )
                )
        elif risk is StepRisk.SAFE:
            risk = StepRisk.CAUTION  # a manual action is never run unattended
        if item.explanation:
            reasons.append(f"LLM: {item.explanation}")
        steps.append(
            Step(
                id=step_id,
                title=item.title[:300],
                command=item.command,
                risk=risk,
                risk_reasons=reasons,
                rollback=item.rollback or (same.rollback if same else None),
                rollback_inferred=bool(not item.rollback and same and same.rollback_inferred),
                condition=item.condition or (same.condition if same else None),
                instructions=item.explanation,
                require_approval=bool(same and same.require_approval),
                capture=dict(same.capture) if same and not item.rollback else {},
                source_lines=same.source_lines if same else None,
            )
        )
    variables = {v.name: v for v in draft.variables}
    for v in llm.variables:
        if v.name not in variables:
            source_hint = (
                v.source
                if v.source and v.source.split(":")[0] in ("label", "annotation", "alert")
                else None
            )
            variables[v.name] = Variable(
                name=v.name, description=v.description, source=source_hint, required=False
            )
    prerequisites = list(dict.fromkeys([*draft.prerequisites, *llm.prerequisites]))
    improved = draft.model_copy(
        update={
            "title": llm.title or draft.title,
            "steps": steps or draft.steps,
            "variables": list(variables.values()),
            "prerequisites": prerequisites,
        }
    )
    return Runbook.model_validate(improved.model_dump()), ambiguities
