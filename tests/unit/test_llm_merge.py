"""The LLM never lowers a step's risk, and its invented commands are flagged."""

from __future__ import annotations

from domain.llm_merge import merge
from schemas.llm import LlmRunbook
from schemas.runbook import Runbook, StepRisk

DRAFT = Runbook.model_validate(
    {
        "id": "draft",
        "title": "Draft",
        "variables": [{"name": "pod", "source": "label:pod"}],
        "steps": [
            {
                "id": "s1",
                "title": "Delete the pod",
                "command": "kubectl delete pod {{ pod }}",
                "risk": "dangerous",
            },
        ],
    }
)
TEXT = "Delete the pod with `kubectl delete pod $POD`. If that fails, drain the node."


def test_llm_cannot_lower_risk_and_invented_commands_are_flagged() -> None:
    llm = LlmRunbook.model_validate(
        {
            "title": "Pod stuck",
            "variables": [{"name": "node", "source": "label:node"}],
            "steps": [
                {
                    "id": "delete",
                    "title": "Delete pod",
                    "command": "kubectl delete pod {{ pod }}",
                    "risk": "safe",
                    "explanation": "restarts it",
                },
                {
                    "id": "drain",
                    "title": "Drain node",
                    "command": "kubectl drain {{ node }}",
                    "risk": "caution",
                    "condition": "if the delete fails",
                },
                {"id": "think", "title": "Tell the team", "risk": "safe"},
            ],
        }
    )
    merged, ambiguities = merge(DRAFT, llm, TEXT)
    steps = {s.id: s for s in merged.steps}
    assert steps["delete"].risk is StepRisk.DANGEROUS
    assert any("raised from safe" in r for r in steps["delete"].risk_reasons)
    assert steps["drain"].condition == "if the delete fails"
    assert steps["think"].risk is StepRisk.CAUTION
    assert [v.name for v in merged.variables] == ["pod", "node"]
    assert (
        "drain",
        "command proposed by the LLM, not found in the runbook text: check it before approving",
    ) in ambiguities
    assert not any(step == "delete" for step, _ in ambiguities)


def test_llm_keeps_the_parsed_risk_approval_and_rollback_of_the_same_command() -> None:
    """Even when the classifier alone would rate the command lower, the parse's risk stays."""
    draft = Runbook.model_validate(
        {
            "id": "draft",
            "title": "Draft",
            "steps": [
                {
                    "id": "s1",
                    "title": "Purge the queue",
                    "command": "./scripts/q.sh --queue mail",
                    "risk": "dangerous",
                    "require_approval": True,
                    "rollback": "./scripts/restore.sh --queue mail",
                    "source_lines": [3, 4],
                },
            ],
        }
    )
    llm = LlmRunbook.model_validate(
        {
            "title": "Queue",
            "steps": [
                {
                    "id": "purge",
                    "title": "Purge",
                    "command": "./scripts/q.sh  --queue mail",
                    "risk": "safe",
                },
            ],
        }
    )
    merged, _ = merge(draft, llm, "Purge it: ./scripts/q.sh --queue mail (approval needed)")
    step = merged.steps[0]
    assert step.risk is StepRisk.DANGEROUS
    assert any("the parsed step says dangerous" in r for r in step.risk_reasons)
    assert step.require_approval
    assert step.rollback == "./scripts/restore.sh --queue mail"
    assert step.source_lines == (3, 4)
