"""The intake takes the first step's blast-radius slot ahead only when that step will run on its
own as the incident opens (domain/trust.opens_on_its_own, services/intake_opening.py)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.trust import opens_on_its_own
from schemas.incident import RefusedValue, RenderedStep, SelectedRunbook
from schemas.runbook import Runbook
from schemas.trust import Mode


def _selected(*steps: dict[str, Any], refused: bool = False) -> SelectedRunbook:
    runbook = Runbook(id="rb", title="Runbook", steps=[{"title": s["id"], **s} for s in steps])
    rendered = [
        RenderedStep(
            step_id=step.id,
            command=step.command,
            rollback=step.rollback,
            refused=(
                [RefusedValue(variable="pod", value="$(rm -rf /)", reason="shell")]
                if refused and i == 0
                else []
            ),
        )
        for i, step in enumerate(runbook.steps)
    ]
    return SelectedRunbook(runbook=runbook, reason="test", rendered=rendered)


SAFE = {"id": "look", "command": "kubectl get pods", "risk": "safe"}
CAUTION = {"id": "restart", "command": "kubectl rollout restart deploy/x", "risk": "caution"}
DANGER = {"id": "drop", "command": "redis-cli flushall", "risk": "dangerous"}


@pytest.mark.parametrize(
    ("steps", "mode", "expected"),
    [
        ([SAFE, CAUTION], Mode.COPILOT, True),
        ([CAUTION, SAFE], Mode.COPILOT, False),  # the first step waits for an approval
        ([CAUTION], Mode.AUTOPILOT, True),
        ([DANGER], Mode.AUTOPILOT, False),
        ([SAFE], Mode.READ_ALONG, False),
        ([{**SAFE, "breakpoint": True}], Mode.AUTOPILOT, False),
        ([{**SAFE, "manual": True}], Mode.AUTOPILOT, False),
        ([{**SAFE, "require_approval": True}], Mode.AUTOPILOT, False),
        ([{"id": "think", "risk": "safe"}], Mode.AUTOPILOT, False),  # nothing to execute
        # A condition on a step that has not run needs a person's judgement.
        ([{**SAFE, "condition": "steps.earlier.failed"}], Mode.AUTOPILOT, False),
    ],
)
def test_the_first_step_runs_on_its_own_only_where_the_step_runner_would_run_it(
    steps: list[dict[str, Any]], mode: Mode, expected: bool
) -> None:
    assert opens_on_its_own(_selected(*steps), mode) is expected


def test_refused_alert_values_or_no_runbook_hand_the_first_step_to_a_person() -> None:
    assert opens_on_its_own(_selected(SAFE, refused=True), Mode.AUTOPILOT) is False
    assert opens_on_its_own(SelectedRunbook(runbook=None, reason="none"), Mode.AUTOPILOT) is False
    assert opens_on_its_own(None, Mode.AUTOPILOT) is False
