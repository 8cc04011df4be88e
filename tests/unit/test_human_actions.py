"""The registry of human actions (schemas/human_actions.py) and every place a human action lives
agree: the workflow's update handlers (name and input), the API's routes, the CLI's verbs, the
Slack buttons, and the kind the audit timeline gives each accepted update."""

from __future__ import annotations

import json

import typer.main
from fastapi.routing import APIRoute
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio import workflow
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, WorkflowExecutionUpdateAcceptedEventAttributes
from temporalio.api.update.v1 import Input, Meta, Request

from api.app import create_app
from api.auth import route_table
from cli.commands.actions import COMMANDS
from cli.main import app as cli_app
from domain.audit.redact import Redactor
from domain.slack.actions import Action
from schemas.human_actions import AUDIT_KINDS, BY_UPDATE, BY_VERB, HUMAN_ACTIONS
from schemas.settings import Settings
from services.audit.history import derive
from workflows.incident import IncidentWorkflow

#: Slack buttons that send no update of their own: they only show something.
VIEW_ONLY = {Action.VIEW_STEPS.value}
INCIDENT_ROUTES = "/api/incidents/{incident_id}/"


def test_names_are_unique() -> None:
    assert len(BY_UPDATE) == len(HUMAN_ACTIONS)
    assert len(set(AUDIT_KINDS.values())) == len(HUMAN_ACTIONS)
    assert len(BY_VERB) == sum(len(a.cli) for a in HUMAN_ACTIONS)


def test_the_workflow_has_exactly_these_updates_with_these_inputs() -> None:
    updates = workflow._Definition.must_from_class(IncidentWorkflow).updates
    assert set(updates) == set(BY_UPDATE)
    for name, handler in updates.items():
        assert handler.arg_types == [BY_UPDATE[name].input], name
        assert handler.validator is not None, f"{name}: refused inputs must never reach history"


def test_the_api_routes_are_the_registry_routes() -> None:
    posted = {
        path.removeprefix(INCIDENT_ROUTES): route.name
        for method, path, route in route_table(create_app(Settings()))
        if isinstance(route, APIRoute) and method == "POST" and path.startswith(INCIDENT_ROUTES)
    }
    expected = {a.route: a.update for a in HUMAN_ACTIONS if a.route is not None}
    assert posted == expected


def test_the_cli_verbs_are_the_registry_verbs() -> None:
    assert set(COMMANDS) == set(BY_VERB)
    registered = typer.main.get_command(cli_app).commands  # type: ignore[attr-defined]
    assert set(BY_VERB) <= set(registered)
    assert BY_VERB["approve"].path("incident-x", "fix") == (
        "/api/incidents/incident-x/steps/fix/approval"
    )
    assert BY_VERB["ack"].path("incident-x") == "/api/incidents/incident-x/acknowledge"


def test_the_incident_command_verbs_are_the_registry_verbs() -> None:
    group = typer.main.get_command(cli_app).commands["incident"]  # type: ignore[attr-defined]
    verbs = {verb for a in HUMAN_ACTIONS for verb in a.incident_cli}
    assert verbs <= set(group.commands)
    publish = BY_UPDATE["publish_status_update"]
    assert publish.path("incident-x", number=2) == (
        "/api/incidents/incident-x/status-updates/2/publish"
    )


def test_every_slack_button_is_a_registered_action_or_only_shows() -> None:
    registered = {button for a in HUMAN_ACTIONS for button in a.slack}
    assert registered <= {a.value for a in Action}
    assert {a.value for a in Action} - registered == VIEW_ONLY


def _accepted(update: str, body: dict[str, object], seconds: int) -> HistoryEvent:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(body).encode())
    return HistoryEvent(
        event_id=seconds,
        event_time=Timestamp(seconds=1_800_000_000 + seconds),
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        workflow_execution_update_accepted_event_attributes=(
            WorkflowExecutionUpdateAcceptedEventAttributes(
                accepted_request=Request(
                    meta=Meta(update_id=f"u-{seconds}", identity="ddrun-api"),
                    input=Input(name=update, args=Payloads(payloads=[payload])),
                )
            )
        ),
    )


def test_the_audit_timeline_names_each_update_as_the_registry_does() -> None:
    events = [
        _accepted(a.update, {"actor": "alice", "step_id": "fix", "reason": "r"}, n)
        for n, a in enumerate(HUMAN_ACTIONS, 1)
    ]
    records = derive(events, Redactor()).records
    assert [(r["kind"], r["actor"]) for r in records] == [
        (a.audit_kind, "alice") for a in HUMAN_ACTIONS
    ]
    assert not any(r["kind"].startswith("update_") for r in records)  # none fell through
