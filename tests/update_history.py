"""What reached an incident's workflow history as updates: the proof that an action from
Slack (or anywhere) did, or did not, get to the workflow rather than being refused before it."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter

from schemas.incident import ApprovalDecision
from tests.harness import Stack, history_events


async def approvals_in_history(stack: Stack, incident: str) -> list[ApprovalDecision]:
    """Every accepted `approve_step` update's decision, in history order."""
    out = []
    for event in await history_events(stack.handle(incident)):
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            continue
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        if request.input.name == "approve_step":
            payload = request.input.args.payloads[0]
            out.append(
                pydantic_data_converter.payload_converter.from_payload(payload, ApprovalDecision)
            )
    return out


async def updates_in_history(stack: Stack, incident: str) -> list[str]:
    """The names of every accepted update, in history order."""
    return [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in await history_events(stack.handle(incident))
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
