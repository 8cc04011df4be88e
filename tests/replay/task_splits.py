"""Histories as Temporal's core writes them when a query races a local activity.

When a query is delivered with a workflow task while a local activity's result is pending, core
completes the task with the activity's marker and forces a new task; the workflow runs on from
the result in that new task. The commands it gave after the result then sit in the new task, not
in the marker's. This module makes that history from an ordinary one, at a chosen marker, so the
replay tests can put every split the race could cause in front of the workflow code
(see workflows/incident/versions.py for why it matters).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

LOCAL_ACTIVITY_MARKER = "core_local_activity"
_COMPLETED = "EVENT_TYPE_WORKFLOW_TASK_COMPLETED"


def _attributes(event: dict[str, Any]) -> dict[str, Any]:
    return next(v for k, v in event.items() if k.endswith("Attributes") and isinstance(v, dict))


def _task_of(event: dict[str, Any]) -> str | None:
    """The id of the workflow-task completion that gave this command, if it is a command."""
    value = _attributes(event).get("workflowTaskCompletedEventId")
    return str(value) if value is not None else None


def split_points(history: dict[str, Any]) -> list[int]:
    """Indexes of local-activity markers after which the same task gave more commands."""
    events = history["events"]
    points = []
    for index, event in enumerate(events[:-1]):
        attributes = _attributes(event)
        if attributes.get("markerName") != LOCAL_ACTIVITY_MARKER:
            continue
        if _task_of(events[index + 1]) == _task_of(event):
            points.append(index)
    return points


def split_at(history: dict[str, Any], index: int) -> dict[str, Any]:
    """The history as it would read had a query forced a new task right after marker `index`."""
    events = copy.deepcopy(history["events"])
    marker = events[index]
    task = _task_of(marker)
    completed = next(e for e in events if e["eventId"] == task and e["eventType"] == _COMPLETED)
    scheduled = next(
        e for e in events if e["eventId"] == _attributes(completed)["scheduledEventId"]
    )
    started = next(e for e in events if e["eventId"] == _attributes(completed)["startedEventId"])
    new_scheduled, new_started, new_completed = (
        copy.deepcopy(scheduled),
        copy.deepcopy(started),
        copy.deepcopy(completed),
    )
    for event in (new_scheduled, new_started, new_completed):
        event["eventTime"] = marker["eventTime"]
    _attributes(new_started)["requestId"] = "request-from-RespondWorkflowTaskCompleted"
    # Placeholder ids, renumbered below with every reference to them.
    new_scheduled["eventId"], new_started["eventId"], new_completed["eventId"] = "s", "t", "c"
    _attributes(new_started)["scheduledEventId"] = "s"
    _attributes(new_completed)["scheduledEventId"] = "s"
    _attributes(new_completed)["startedEventId"] = "t"
    rest = index + 1
    while rest < len(events) and _task_of(events[rest]) == task:
        _attributes(events[rest])["workflowTaskCompletedEventId"] = "c"
        rest += 1
    events[index + 1 : index + 1] = [new_scheduled, new_started, new_completed]
    renumbered = {event["eventId"]: str(n) for n, event in enumerate(events, start=1)}
    for event in events:
        event["eventId"] = renumbered[event["eventId"]]
        _renumber_references(event, renumbered)
    return {**history, "events": events}


def _renumber_references(node: Any, renumbered: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("EventId") and isinstance(value, str | int) and key != "eventId":
                node[key] = renumbered.get(str(value), str(value))
            else:
                _renumber_references(value, renumbered)
    elif isinstance(node, list):
        for item in node:
            _renumber_references(item, renumbered)


def every_split(history: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index in split_points(history):
        yield index, split_at(history, index)
