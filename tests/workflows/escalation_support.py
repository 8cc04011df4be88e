"""What the escalation and paging workflow tests share: a runbook whose step waits for
approval, and its alert started on the time-skipping client, so that wait (and every
escalation level after it) passes on virtual time rather than in real seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.testing import WorkflowEnvironment

from db.incident_claims import IncidentClaimStore
from domain.alerts.normalize import generic
from schemas.incident import IncidentState
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import Stack, unique
from tests.support import assert_eventually


def approval_step(step_id: str, title: str, command: str, timeout_s: int) -> dict[str, Any]:
    """A caution step: it waits for an approver and escalates after `timeout_s`."""
    return {
        "id": step_id,
        "title": title,
        "command": command,
        "risk": "caution",
        "approval_timeout_s": timeout_s,
    }


async def add_runbook_for_new_alert(
    stack: Stack, prefix: str, title: str, steps: list[dict[str, Any]]
) -> str:
    """A runbook selected by a fresh alert name, which is returned."""
    name = unique(prefix)
    await stack.add_runbook(
        {
            "id": unique(f"{prefix.lower()}-"),
            "title": title,
            "selectors": [{"alertname": name}],
            "steps": steps,
        }
    )
    return name


async def start_incident(
    temporal_env: WorkflowEnvironment, stack: Stack, name: str, **fields: Any
) -> str:
    """A generic alert delivered through the time-skipping client; its incident id."""
    alert = generic.normalize(GenericAlertBody(name=name, **fields), datetime.now(UTC), "digest")[0]
    accepted = await incident_client.deliver_alert(
        temporal_env.client, stack.settings, alert, claims=IncidentClaimStore(stack.engine)
    )
    assert accepted.incident_id is not None
    return accepted.incident_id


async def escalated_twice(stack: Stack, incident_id: str, what: str) -> IncidentState:
    return await assert_eventually(
        lambda: stack.state(incident_id),
        lambda s: len(s.escalations) == 2,
        what=what,
        timeout=60,
    )
