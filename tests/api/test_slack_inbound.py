"""Slack in: signed clicks, dialogs and `/ddrun` drive real incidents on the real Temporal server.

Requests are built from the contract fixtures, signed like Slack signs them, and posted to the
real FastAPI app; modals and ephemeral replies land on the Slack Web API stand-in, so every
assertion is about what the product did.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from api.slack.routes import ModalContext, SlackTiming
from db.engine import create_schema, make_engine
from db.incident_claims import IncidentClaimStore
from db.slack_messages import SlackMessageStore
from domain.slack.actions import Action, ActionValue, Callback
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.identity import Role
from schemas.incident import IncidentState, IncidentStatus, StepState
from schemas.trust import Mode
from services import incidents as incident_client
from tests.harness import (
    Stack,
    as_person,
    generic_alert,
    running_stack,
    stack_settings,
    unique,
)
from tests.standins.server import StandinServer
from tests.standins.signing import (
    FixedClock,
    SignedRequest,
    sign_slack,
    signed_interaction,
    signed_slash_command,
)
from tests.standins.slack_api import BOT_TOKEN, SlackStandin
from tests.support import CONTRACTS, assert_eventually
from tests.update_history import approvals_in_history

pytestmark = pytest.mark.temporal

SLACK = CONTRACTS / "slack"
VECTORS = json.loads((SLACK / "signature-vectors.json").read_text())
BLOCK_ACTIONS = json.loads((SLACK / "interactivity" / "block_actions.json").read_text())
VIEW_SUBMISSION = json.loads((SLACK / "interactivity" / "view_submission.json").read_text())
SLASH = json.loads((SLACK / "slash-commands" / "incident.declare.json").read_text())
SECRET = "e2e-signing-secret-0123456789abcdef"


@dataclass(frozen=True)
class Person:
    """A Slack user (`id`, `name`), linked to the dd0c/run person whose handle is `name`."""

    id: str
    name: str


MARCUS = Person("U07MARCUS02", "marcus.chen")
PRIYA = Person("U07PRIYA01", "priya.natarajan")
CMDR = Person("U07CMDR0001", "ines.commander")
PEOPLE = (MARCUS, PRIYA, CMDR)


async def link_people(engine: AsyncEngine) -> None:
    """Every Slack user here is a responder linked to a dd0c/run person (unlinked users are
    told to link and nothing happens); what they do is recorded under the person's handle."""
    for who in PEOPLE:
        await as_person(engine, who.name, (Role.RESPONDER,), slack=who.id)


# -- signature vectors through the real app ------------------------------------------------


@pytest_asyncio.fixture
async def vector_app(client: Client, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the vectors' secret and a clock frozen at their `now_for_test`."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'vectors.db'}")
    await create_schema(engine)  # verified requests are claimed (replays refused) before acting
    app = create_app(
        stack_settings(client, slack_signing_secret=VECTORS["signing_secret"]), client, engine
    )
    app.state.slack_clock = FixedClock(VECTORS["now_for_test"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
    ) as http:
        yield http
    await engine.dispose()


def _vector(name: str) -> dict[str, Any]:
    return next(c for c in VECTORS["cases"] if c["name"] == name)


def _path(case: dict[str, Any]) -> str:
    return "/slack/commands" if case["name"].startswith("slash") else "/slack/interactions"


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
async def test_contract_signature_vectors_are_accepted_or_refused(
    vector_app: httpx.AsyncClient, case: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Content-Type": case["content_type"], **case["headers"]}
    with caplog.at_level(logging.WARNING, logger="api.slack.routes"):
        response = await vector_app.post(_path(case), content=case["raw_body"], headers=headers)
    if case["expect_valid"]:
        assert response.status_code == 200, response.text
        assert not [r for r in caplog.records if "refused" in r.getMessage()]
    else:
        assert response.status_code == 401
        assert response.json() == {"error": "invalid Slack request signature"}
        refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        expected = "outside 300 s" if "stale" in case["name"] else "does not match the body"
        assert any(expected in line for line in refusals), refusals


async def test_valid_foreign_slash_command_is_answered_not_acted_on(
    vector_app: httpx.AsyncClient,
) -> None:
    case = _vector("slash_command")
    headers = {"Content-Type": case["content_type"], **case["headers"]}
    response = await vector_app.post("/slack/commands", content=case["raw_body"], headers=headers)
    assert response.json() == {
        "response_type": "ephemeral",
        "text": "dd0c/run does not handle /incident",
    }


@pytest.mark.parametrize(
    ("shift", "status"), [(-300, 200), (300, 200), (-301, 401), (301, 401), (10_000, 401)]
)
async def test_the_window_is_five_minutes_either_way(
    vector_app: httpx.AsyncClient, shift: int, status: int
) -> None:
    now = VECTORS["now_for_test"]
    body = _vector("slash_command")["raw_body"]
    signed = sign_slack(VECTORS["signing_secret"], body, now + shift)
    response = await vector_app.post("/slack/commands", content=signed.raw, headers=signed.headers)
    assert response.status_code == status, response.text


async def test_unsigned_malformed_and_wrongly_keyed_requests_are_refused(
    vector_app: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    case = _vector("block_actions")
    form = {"Content-Type": case["content_type"]}
    now = str(VECTORS["now_for_test"])
    attempts = {
        "unsigned": form,
        "no timestamp": {**form, "X-Slack-Signature": case["headers"]["X-Slack-Signature"]},
        "malformed timestamp": {**form, **case["headers"], "X-Slack-Request-Timestamp": "soon"},
        "other secret": sign_slack("not-the-secret", case["raw_body"], now).headers,
    }
    with caplog.at_level(logging.WARNING, logger="api.slack.routes"):
        for what, headers in attempts.items():
            response = await vector_app.post(
                "/slack/interactions", content=case["raw_body"], headers=headers
            )
            assert response.status_code == 401, what
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "unsigned" in logged
    assert "malformed timestamp" in logged


async def test_ssl_check_probe_and_oversized_bodies(vector_app: httpx.AsyncClient) -> None:
    probe = await vector_app.post(
        "/slack/commands",
        content="ssl_check=1&token=legacy",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (probe.status_code, probe.content) == (200, b"")
    huge = "payload=" + "x" * (300 * 1024)
    signed = sign_slack(VECTORS["signing_secret"], huge, VECTORS["now_for_test"])
    too_big = await vector_app.post(
        "/slack/interactions", content=signed.raw, headers=signed.headers
    )
    assert too_big.status_code == 413


async def test_signed_garbage_is_a_clear_4xx(vector_app: httpx.AsyncClient) -> None:
    now = VECTORS["now_for_test"]
    for body, status in (("nothing=here", 400), ("payload=%7Bnot-json", 400)):
        signed = sign_slack(VECTORS["signing_secret"], body, now)
        response = await vector_app.post(
            "/slack/interactions", content=signed.raw, headers=signed.headers
        )
        assert response.status_code == status, body
    wrong_shape = signed_interaction(
        {"type": "block_actions", "actions": []}, VECTORS["signing_secret"], now
    )
    response = await vector_app.post(
        "/slack/interactions", content=wrong_shape.raw, headers=wrong_shape.headers
    )
    assert response.status_code == 422


async def test_without_a_signing_secret_slack_is_off(client: Client, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    app = create_app(stack_settings(client), client, engine)
    case = _vector("block_actions")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
    ) as http:
        response = await http.post(
            "/slack/interactions", content=case["raw_body"], headers=case["headers"]
        )
    await engine.dispose()
    assert response.status_code == 503
    assert "DDRUN_SLACK_SIGNING_SECRET" in response.json()["error"]


# -- end to end: a real incident driven from Slack ------------------------------------------


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackStandin]:
    standin = SlackStandin(trigger_ttl=None)
    standin.add_user(CMDR.id, CMDR.name, "Ines Commander")
    async with StandinServer(standin):
        yield standin


class SlackUser:
    """Drives the product as Slack would: signed requests built from the contract fixtures."""

    def __init__(self, http: httpx.AsyncClient, standin: SlackStandin) -> None:
        self.http, self.standin = http, standin

    async def _post(self, path: str, signed: SignedRequest) -> httpx.Response:
        return await self.http.post(path, content=signed.raw, headers=signed.headers)

    async def click(
        self, who: Person, action: Action, value: ActionValue
    ) -> tuple[httpx.Response, str]:
        payload = copy.deepcopy(BLOCK_ACTIONS)
        payload["user"] = {
            "id": who.id,
            "username": who.name,
            "name": who.name,
            "team_id": "T08DD0CRUN1",
        }
        payload["actions"] = [
            {
                "action_id": action.value,
                "block_id": "step-actions",
                "text": {"type": "plain_text", "text": action.name.title()},
                "value": value.encode(),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ]
        payload = self.standin.prepare_interaction(payload)
        signed = signed_interaction(payload, SECRET, int(time.time()))
        return await self._post("/slack/interactions", signed), str(payload["response_url"])

    def opened_view(self) -> dict[str, Any]:
        opened = self.standin.calls_to("views.open")
        assert opened, "no dialog was opened"
        assert opened[-1].ok, opened[-1].response
        view: dict[str, Any] = opened[-1].args["view"]
        return view

    async def submit(self, who: Person, view: dict[str, Any], **typed: str) -> httpx.Response:
        payload = copy.deepcopy(VIEW_SUBMISSION)
        payload["user"] = {
            "id": who.id,
            "username": who.name,
            "name": who.name,
            "team_id": "T08DD0CRUN1",
        }
        payload["trigger_id"] = self.standin.mint_trigger_id(who.id)
        payload["view"].update(
            callback_id=view["callback_id"],
            private_metadata=view["private_metadata"],
            blocks=view["blocks"],
            state={
                "values": {
                    block: {"value": {"type": "plain_text_input", "value": text}}
                    for block, text in typed.items()
                }
            },
        )
        return await self._post(
            "/slack/interactions", signed_interaction(payload, SECRET, int(time.time()))
        )

    async def command(
        self, who: Person, text: str, channel: str = "C07ALERTS01"
    ) -> tuple[httpx.Response, str]:
        fields = {
            **SLASH,
            "command": "/ddrun",
            "text": text,
            "user_id": who.id,
            "user_name": who.name,
            "channel_id": channel,
        }
        fields = self.standin.prepare_slash_command(fields)
        response = await self._post(
            "/slack/commands", signed_slash_command(fields, SECRET, int(time.time()))
        )
        return response, fields["response_url"]

    async def replies(self, hook: str, count: int = 1) -> list[str]:
        async def posts() -> list[dict[str, Any]]:
            return self.standin.response_url_posts(hook)

        found = await assert_eventually(posts, lambda p: len(p) >= count, what="a reply")
        assert all(p["response_type"] == "ephemeral" for p in found), found
        return [str(p["text"]) for p in found]


@dataclass
class Scene:
    stack: Stack
    slack: SlackUser
    standin: SlackStandin
    log: Path

    async def start(self, steps: list[dict[str, Any]], **alert: Any) -> str:
        name = unique("SlackIn")
        await self.stack.add_runbook(
            {
                "id": unique("slack-in-"),
                "title": f"Slack inbound {name}",
                "selectors": [{"alertname": name}],
                "variables": [{"name": "log", "source": "label:log"}],
                "steps": steps,
            }
        )
        response = await self.stack.post_generic(
            generic_alert(name, labels={"log": str(self.log)}, **alert)
        )
        assert response.status_code == 202, response.text
        incident = str(response.json()["incident_id"])
        self.stack.handle(incident)
        return incident

    async def until(self, incident: str, what: str, check: Any) -> IncidentState:
        return await assert_eventually(
            lambda: self.stack.state(incident), check, what=what, timeout=30
        )

    async def waiting(self, incident: str, step: str) -> IncidentState:
        return await self.until(
            incident,
            f"{step} waiting",
            lambda s: _step(s, step).state is StepState.AWAITING_APPROVAL,
        )

    def lines(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []

    async def abort(self, incident: str) -> None:
        """Clean up through the API, as a responder (the actor comes from the token)."""
        headers = await self.stack.person("slack-test-cleanup")
        response = await self.stack.http.post(f"/api/incidents/{incident}/abort", headers=headers)
        assert response.status_code == 200, response.text


def _step(state: IncidentState, step_id: str) -> Any:
    return next(s for s in state.steps if s.id == step_id)


CAUTION = {
    "id": "change",
    "title": "Change config",
    "command": "echo change >> {{ log }}",
    "risk": "caution",
}
CAUTION2 = {
    "id": "tweak",
    "title": "Tweak",
    "command": "echo tweak >> {{ log }}",
    "risk": "caution",
}
DANGER = {
    "id": "drop",
    "title": "Drop cache",
    "command": "echo drop >> {{ log }}",
    "rollback": "echo undo-drop >> {{ log }}",
    "risk": "dangerous",
}


@pytest_asyncio.fixture
async def scene_factory(
    client: Client, engine: AsyncEngine, slack: SlackStandin, tmp_path: Path
) -> AsyncIterator[Any]:
    stacks: list[Any] = []

    async def make(policy: str | None = None) -> Scene:
        overrides: dict[str, Any] = {
            "slack_signing_secret": SECRET,
            "slack_bot_token": BOT_TOKEN,
            "slack_api_url": f"{slack.url}/api/",
        }
        if policy is not None:
            path = tmp_path / "policy.yml"
            path.write_text(policy)
            overrides["approval_policy_file"] = path
        context = running_stack(client, engine, **overrides)
        stack = await context.__aenter__()
        stacks.append(context)
        await link_people(engine)
        return Scene(stack, SlackUser(stack.http, slack), slack, tmp_path / "log")

    yield make
    for context in reversed(stacks):
        await context.__aexit__(None, None, None)


async def test_a_caution_step_approved_from_slack_records_the_slack_user(
    scene_factory: Any,
) -> None:
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION], severity="warning")
    state = await scene.waiting(incident, "change")
    card = _step(state, "change").card
    response, hook = await scene.slack.click(
        MARCUS, Action.APPROVE, ActionValue(incident=incident, step="change", card=card)
    )
    assert (response.status_code, response.content) == (200, b"")
    [reply] = await scene.slack.replies(hook)
    assert "approved" in reply
    assert MARCUS.name in reply  # the person's handle, not the Slack user id
    result = await scene.stack.handle(incident).result()
    assert scene.lines() == ["change"]
    change = _step(result, "change")
    assert change.state is StepState.SUCCEEDED
    assert change.approved_by == MARCUS.name
    [decision] = await approvals_in_history(scene.stack, incident)
    assert (decision.approver, decision.approver_name, decision.channel) == (
        MARCUS.name,
        MARCUS.name,
        "slack",
    )
    # The Slack user id is kept as the approver's other name; the credential says Slack.
    assert (decision.approver_ids, decision.authenticated_by) == ([MARCUS.id], f"slack {MARCUS.id}")
    assert decision.card == (card or None)
    # Recorded on the step as one approval among those the rule needs (the workflow's part).
    assert [(a.approver, a.approver_name, a.channel) for a in change.approvals] == [
        (MARCUS.name, MARCUS.name, "slack")
    ]


POLICY_ONCALL = """
groups:
  oncall: [U07PRIYA01]
responders: [oncall]
rules:
  - service: payment-svc
    risk: caution
    approvers: [oncall]
"""


async def test_an_unauthorised_approver_is_refused_and_told_why(scene_factory: Any) -> None:
    scene: Scene = await scene_factory(POLICY_ONCALL)
    incident = await scene.start([CAUTION], severity="warning")
    state = await scene.waiting(incident, "change")
    value = ActionValue(incident=incident, step="change", card=_step(state, "change").card)
    response, hook = await scene.slack.click(MARCUS, Action.APPROVE, value)
    assert response.status_code == 200
    [reply] = await scene.slack.replies(hook)
    assert "you may not do this" in reply
    assert "caution steps of payment-svc" in reply
    assert "group oncall" in reply
    assert scene.standin.ephemerals[-1].user == MARCUS.id  # only Marcus sees it
    assert _step(await scene.stack.state(incident), "change").state is StepState.AWAITING_APPROVAL
    assert await approvals_in_history(scene.stack, incident) == []  # nothing reached the workflow
    _, hook = await scene.slack.click(PRIYA, Action.APPROVE, value)
    await scene.slack.replies(hook)
    result = await scene.stack.handle(incident).result()
    assert _step(result, "change").approved_by == PRIYA.name
    assert scene.lines() == ["change"]


async def test_a_dangerous_step_asks_for_its_name_in_a_dialog(scene_factory: Any) -> None:
    scene: Scene = await scene_factory()
    incident = await scene.start([DANGER], severity="warning")
    state = await scene.waiting(incident, "drop")
    value = ActionValue(incident=incident, step="drop", card=_step(state, "drop").card)
    response, hook = await scene.slack.click(MARCUS, Action.APPROVE, value)
    assert response.status_code == 200
    view = scene.slack.opened_view()
    assert view["callback_id"] == Callback.CONFIRM_DANGEROUS.value
    meta = ModalContext.model_validate_json(view["private_metadata"])
    assert (meta.incident, meta.step, meta.response_url) == (incident, "drop", hook)
    shown = json.dumps(view["blocks"])
    assert "undo-drop" in shown  # the rollback is shown before anyone approves
    assert "Type drop to confirm" in shown
    assert scene.standin.response_url_posts(hook) == []

    wrong = await scene.slack.submit(MARCUS, view, confirm="Drop the cache")
    assert wrong.status_code == 200
    assert wrong.json() == {
        "response_action": "errors",
        "errors": {"confirm": "Type drop to confirm"},
    }
    assert _step(await scene.stack.state(incident), "drop").state is StepState.AWAITING_APPROVAL

    right = await scene.slack.submit(
        MARCUS, view, confirm=" Drop Cache ", comment="cache is poisoned"
    )
    assert (right.status_code, right.content) == (200, b"")
    result = await scene.stack.handle(incident).result()
    assert scene.lines() == ["drop"]
    assert _step(result, "drop").approved_by == MARCUS.name
    [decision] = await approvals_in_history(scene.stack, incident)
    assert (decision.confirm, decision.comment, decision.channel) == (
        "Drop Cache",
        "cache is poisoned",
        "slack",
    )
    [reply] = await scene.slack.replies(hook)
    assert "approved" in reply


POLICY_TWO_PERSON = """
responders: [U07PRIYA01, U07MARCUS02, U07CMDR0001]
services:
  payment-svc:
    commander: U07CMDR0001
"""


async def test_two_people_and_the_commander_approve_a_dangerous_step_in_a_critical_incident(
    scene_factory: Any,
) -> None:
    """Needs the workflow's multi-approval rules and the policy's commander at start."""
    scene: Scene = await scene_factory(POLICY_TWO_PERSON)
    incident = await scene.start([DANGER], severity="critical")
    state = await scene.waiting(incident, "drop")
    assert state.commander == CMDR.id
    drop = _step(state, "drop")
    assert (drop.approval_rule.approvals, drop.approval_rule.commander_required) == (2, True)
    value = ActionValue(incident=incident, step="drop", card=drop.card)

    await scene.slack.click(PRIYA, Action.APPROVE, value)
    first = await scene.slack.submit(PRIYA, scene.slack.opened_view(), confirm="drop")
    assert (first.status_code, first.content) == (200, b"")
    state = await scene.until(
        incident, "one approval", lambda s: len(_step(s, "drop").approvals) == 1
    )
    assert _step(state, "drop").state is StepState.AWAITING_APPROVAL
    assert scene.lines() == []

    _, hook = await scene.slack.click(
        PRIYA,
        Action.APPROVE,
        ActionValue(incident=incident, step="drop", card=_step(state, "drop").card),
    )
    [again] = await scene.slack.replies(hook)
    assert "already approved" in again
    twice = await scene.slack.submit(PRIYA, scene.slack.opened_view(), confirm="drop")
    assert twice.json()["response_action"] == "errors"  # the workflow refuses the same person

    card = _step(await scene.stack.state(incident), "drop").card
    await scene.slack.click(
        MARCUS, Action.APPROVE, ActionValue(incident=incident, step="drop", card=card)
    )
    second = await scene.slack.submit(MARCUS, scene.slack.opened_view(), confirm="drop")
    if second.content:
        assert "commander" in json.dumps(second.json())
    state = await scene.stack.state(incident)
    assert _step(state, "drop").state is StepState.AWAITING_APPROVAL
    assert scene.lines() == []  # without the commander, nothing runs

    card = _step(state, "drop").card
    await scene.slack.click(
        CMDR, Action.APPROVE, ActionValue(incident=incident, step="drop", card=card)
    )
    last = await scene.slack.submit(CMDR, scene.slack.opened_view(), confirm="drop")
    assert (last.status_code, last.content) == (200, b"")
    result = await scene.stack.handle(incident).result()
    assert scene.lines() == ["drop"]
    approvers = [a.approver for a in _step(result, "drop").approvals]
    assert approvers[0] == PRIYA.name
    assert approvers[-1] == CMDR.name  # the policy names the commander by Slack id


async def test_a_stale_card_is_refused(scene_factory: Any) -> None:
    """Needs the workflow's card versions (StepView.card) and its stale-card check."""
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION, DANGER], severity="warning")
    state = await scene.waiting(incident, "change")
    card = _step(state, "change").card
    assert card, "the workflow gives every waiting step a card version"
    _, hook = await scene.slack.click(
        MARCUS, Action.APPROVE, ActionValue(incident=incident, step="change", card=card + "-old")
    )
    [reply] = await scene.slack.replies(hook)
    assert "out of date" in reply
    assert _step(await scene.stack.state(incident), "change").state is StepState.AWAITING_APPROVAL

    _, hook = await scene.slack.click(
        MARCUS, Action.APPROVE, ActionValue(incident=incident, step="change", card=card)
    )
    await scene.slack.replies(hook)
    state = await scene.waiting(incident, "drop")
    opened = len(scene.standin.calls_to("views.open"))
    _, hook = await scene.slack.click(
        MARCUS, Action.APPROVE, ActionValue(incident=incident, step="drop", card=card)
    )
    [reply] = await scene.slack.replies(hook)
    assert "out of date" in reply
    assert len(scene.standin.calls_to("views.open")) == opened  # no dialog for a stale card
    await scene.abort(incident)


async def test_responders_steer_the_incident_with_buttons(scene_factory: Any) -> None:
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION, CAUTION2], severity="warning")
    state = await scene.waiting(incident, "change")

    def value(step: str | None = None) -> ActionValue:
        return ActionValue(incident=incident, step=step)

    _, hook = await scene.slack.click(PRIYA, Action.ACKNOWLEDGE, value())
    assert "acknowledged" in (await scene.slack.replies(hook))[0]
    _, hook = await scene.slack.click(MARCUS, Action.VIEW_STEPS, value())
    [steps] = await scene.slack.replies(hook)
    assert "`change` Change config (caution)" in steps
    assert "`tweak` Tweak" in steps
    assert f"acknowledged by {PRIYA.name}" in steps

    _, hook = await scene.slack.click(MARCUS, Action.PAUSE, value())
    await scene.slack.replies(hook)
    assert (await scene.stack.state(incident)).paused
    _, hook = await scene.slack.click(MARCUS, Action.PAUSE, value())
    assert "already paused" in (await scene.slack.replies(hook))[0]
    _, hook = await scene.slack.click(MARCUS, Action.RESUME, value())
    await scene.slack.replies(hook)
    assert not (await scene.stack.state(incident)).paused

    _, edit_hook = await scene.slack.click(
        MARCUS,
        Action.EDIT,
        value("change").model_copy(update={"card": _step(state, "change").card}),
    )
    view = scene.slack.opened_view()
    assert view["callback_id"] == Callback.EDIT_COMMAND.value
    [command_input] = [b for b in view["blocks"] if b.get("block_id") == "command"]
    assert command_input["element"]["initial_value"] == f"echo change >> {scene.log}"
    assert "confirm" not in [b.get("block_id") for b in view["blocks"]]  # caution: no name to type
    blank = await scene.slack.submit(MARCUS, view, command="  ")
    assert blank.json()["errors"] == {"command": "Enter the command to run"}
    edited = await scene.slack.submit(
        MARCUS, view, command=f"echo edited >> {scene.log}", comment="safer"
    )
    assert (edited.status_code, edited.content) == (200, b"")
    [recorded] = await scene.slack.replies(edit_hook)
    assert "someone other than" in recorded  # whoever edits cannot be the only approver
    state = await scene.stack.state(incident)
    change = _step(state, "change")
    assert (change.state, change.edited_by) == (StepState.AWAITING_APPROVAL, MARCUS.name)
    assert scene.lines() == []
    _, hook = await scene.slack.click(
        PRIYA, Action.APPROVE, value("change").model_copy(update={"card": change.card})
    )
    assert "approved" in (await scene.slack.replies(hook))[0]

    await scene.waiting(incident, "tweak")
    _, hook = await scene.slack.click(MARCUS, Action.SKIP_STEP, value("tweak"))
    assert "skipped" in (await scene.slack.replies(hook))[0]
    result = await scene.stack.handle(incident).result()
    assert scene.lines() == ["edited"]
    assert _step(result, "change").edited_by == MARCUS.name
    assert _step(result, "tweak").state is StepState.SKIPPED
    assert result.acknowledged_by == PRIYA.name


async def test_take_over_start_copilot_and_abort_from_slack(scene_factory: Any) -> None:
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION, CAUTION2], severity="warning")
    await scene.waiting(incident, "change")
    value = ActionValue(incident=incident)

    _, hook = await scene.slack.click(MARCUS, Action.SKIP_RUNBOOK, value)
    assert "manual control" in (await scene.slack.replies(hook))[0]
    state = await scene.stack.state(incident)
    assert state.mode is Mode.READ_ALONG

    _, hook = await scene.slack.click(PRIYA, Action.START_COPILOT, value)
    [started] = await scene.slack.replies(hook)
    assert "acknowledged" in started
    assert "copilot" in started
    state = await scene.stack.state(incident)
    assert (state.mode, state.acknowledged_by) == (Mode.COPILOT, PRIYA.name)

    _, hook = await scene.slack.click(MARCUS, Action.TAKE_OVER, value)
    await scene.slack.replies(hook)
    assert (await scene.stack.state(incident)).mode is Mode.READ_ALONG

    _, hook = await scene.slack.click(MARCUS, Action.ABORT, value)
    assert "abort requested" in (await scene.slack.replies(hook))[0]
    result = await scene.stack.handle(incident).result()
    assert result.status in (IncidentStatus.ABORTED, IncidentStatus.ROLLED_BACK)
    assert scene.lines() == []

    _, hook = await scene.slack.click(MARCUS, Action.PAUSE, value)
    [late] = await scene.slack.replies(hook)
    assert "closed" in late


async def test_buttons_that_are_not_ours_or_are_garbled(scene_factory: Any) -> None:
    scene: Scene = await scene_factory()
    payload = scene.standin.prepare_interaction(copy.deepcopy(BLOCK_ACTIONS))
    signed = signed_interaction(payload, SECRET, int(time.time()))
    foreign = await scene.stack.http.post(
        "/slack/interactions", content=signed.raw, headers=signed.headers
    )
    assert foreign.status_code == 200
    assert scene.standin.response_url_posts(payload["response_url"]) == []

    _, hook = await scene.slack.click(
        MARCUS, Action.APPROVE, ActionValue(incident="incident-generic-missing", step="x")
    )
    assert "no incident incident-generic-missing" in (await scene.slack.replies(hook))[0]


async def test_ddrun_slash_command(scene_factory: Any) -> None:
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION, DANGER], severity="warning")
    await scene.waiting(incident, "change")

    async def run(text: str, who: Person = MARCUS) -> str:
        response, _ = await scene.slack.command(who, text)
        assert response.status_code == 200, response.text
        if not response.content:
            return ""
        body = response.json()
        assert body["response_type"] == "ephemeral"
        return str(body["text"])

    assert "`approve [ID] STEP`" in await run("help")
    assert "`runbook search TEXT`" in await run("")
    assert "Unknown command 'launch'" in await run("launch rockets")
    status = await run(f"status {incident}")
    assert incident in status
    assert "`change` Change config (caution) — awaiting approval" in status
    assert "say which incident" in await run("pause")

    async def listed() -> str:
        return await run("status")

    await assert_eventually(listed, lambda text: incident in text, what="open incidents list")

    assert "paused by" in await run(f"pause {incident}")
    assert "resumed by" in await run(f"resume {incident}")
    assert "say which step" in await run(f"approve {incident}")
    approved = await run(f"approve {incident} change", PRIYA)
    assert "approved" in approved
    await scene.waiting(incident, "drop")
    assert await run(f"approve {incident} drop") == ""  # the dialog opened instead
    view = scene.slack.opened_view()
    assert view["callback_id"] == Callback.CONFIRM_DANGEROUS.value

    found = await run("runbook search slack inbound")
    assert "Slack inbound" in found
    assert "No runbook mentions" in await run("runbook search zzzqqqxxx")

    aborted = await run(f"abort {incident} wrong cluster")
    assert "abort requested" in aborted
    result = await scene.stack.handle(incident).result()
    assert result.status in (IncidentStatus.ABORTED, IncidentStatus.ROLLED_BACK)
    assert any("wrong cluster" in entry.message for entry in result.timeline)
    assert "closed" in await run(f"pause {incident}")


async def test_in_an_incident_channel_the_id_may_be_left_out(scene_factory: Any) -> None:
    """Needs `SlackMessageStore.incident_in_channel` in db/slack_messages.py."""
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION], severity="warning")
    await scene.waiting(incident, "change")
    store = SlackMessageStore(scene.stack.engine)
    saved = await store.save_channel(incident, unique("C0").upper(), "inc-test", reused=False)

    async def run(text: str, who: Person = MARCUS) -> str:
        response, _ = await scene.slack.command(who, text, channel=saved.channel_id)
        return str(response.json()["text"])

    assert "`change` Change config (caution) — awaiting approval" in await run("status")
    assert "paused by" in await run("pause")
    assert "resumed by" in await run("resume")
    assert "approved" in await run("approve change", PRIYA)
    result = await scene.stack.handle(incident).result()
    assert scene.lines() == ["change"]
    assert result.status is IncidentStatus.RESOLVED


async def test_an_unreadable_policy_allows_nothing_it_governs(scene_factory: Any) -> None:
    scene: Scene = await scene_factory("rules: [")
    incident = await scene.start([CAUTION], severity="warning")
    state = await scene.waiting(incident, "change")
    value = ActionValue(incident=incident, step="change", card=_step(state, "change").card)
    _, hook = await scene.slack.click(MARCUS, Action.APPROVE, value)
    [reply] = await scene.slack.replies(hook)
    assert "the approval policy cannot be read" in reply
    assert "not valid YAML" in reply
    _, hook = await scene.slack.click(MARCUS, Action.PAUSE, ActionValue(incident=incident))
    assert "paused by" in (await scene.slack.replies(hook))[0]  # stopping is never blocked
    await scene.abort(incident)


async def test_ddrun_escalate(scene_factory: Any) -> None:
    """Needs the workflow's `escalate` update and `incident_client.escalate`."""
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION], severity="warning")
    await scene.waiting(incident, "change")
    response, _ = await scene.slack.command(MARCUS, f"escalate {incident} need the database team")
    assert "escalat" in response.json()["text"]
    state = await scene.until(incident, "escalated", lambda s: len(s.escalations) >= 1)
    assert "need the database team" in json.dumps([e.reason for e in state.escalations])
    await scene.abort(incident)


async def test_slow_work_is_acknowledged_at_once_and_reported_later(
    client: Client, slack: SlackStandin, tmp_path: Path
) -> None:
    """No worker serves this incident, so every update hangs: Slack still gets its answer
    within the budget, and the user learns what happened through the response_url."""
    settings = stack_settings(
        client,
        slack_signing_secret=SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=f"{slack.url}/api/",
    )
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}")
    await create_schema(engine)  # verified requests are claimed (replays refused) before acting
    await link_people(engine)
    app = create_app(settings, client, engine)
    app.state.slack_timing = SlackTiming(ack_budget_s=0.2, query_timeout_s=0.5, work_timeout_s=1.0)
    now = datetime.now(UTC)
    name = unique("NoWorker")
    alert = Alert(
        source=AlertSource.GENERIC,
        dedup_key=name,
        event_id=name,
        status=AlertStatus.FIRING,
        name=name,
        title="nobody is serving this incident",
        received_at=now,
        payload_digest="0" * 64,
    )
    incident = (
        await incident_client.deliver_alert(
            client, settings, alert, claims=IncidentClaimStore(engine)
        )
    ).incident_id
    assert incident is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ddrun.test"
    ) as http:
        user = SlackUser(http, slack)
        started = time.perf_counter()
        click, hook = await user.click(MARCUS, Action.PAUSE, ActionValue(incident=incident))
        assert (click.status_code, time.perf_counter() - started < 1.0) == (200, True)
        [late] = await user.replies(hook)
        assert f"incident {incident} did not answer in time" in late

        command, hook = await user.command(MARCUS, f"pause {incident}")
        assert command.json() == {
            "response_type": "ephemeral",
            "text": ":hourglass_flowing_sand: working on it…",
        }
        [late] = await user.replies(hook)
        assert "did not answer in time" in late

        hook = slack.mint_response_url(channel="C07ALERTS01", user=MARCUS.id)
        meta = ModalContext(incident=incident, step="drop", response_url=hook)
        dialog = {
            "callback_id": Callback.CONFIRM_DANGEROUS.value,
            "private_metadata": meta.encode(),
            "blocks": [],
        }
        submitted = await user.submit(MARCUS, dialog, confirm="drop")
        assert (submitted.status_code, submitted.content) == (200, b"")  # the dialog closes
        [late] = await user.replies(hook)
        assert "did not answer in time" in late
    await engine.dispose()
    await client.get_workflow_handle(incident).terminate("test over")


def test_slash_fixture_body_round_trips() -> None:
    """The fixture's decoded fields re-encode to the signed vector body (so the helpers match)."""
    assert urllib.parse.urlencode(SLASH) == _vector("slash_command")["raw_body"]


async def test_kill_switch_from_slack_anyone_engages_only_a_responder_lifts(
    scene_factory: Any,
) -> None:
    scene: Scene = await scene_factory(POLICY_ONCALL)
    service = unique("svc-")
    incident = await scene.start([CAUTION], severity="warning", service=service)
    await scene.waiting(incident, "change")

    async def run(text: str, who: Person) -> str:
        response, _ = await scene.slack.command(who, text)
        assert response.status_code == 200, response.text
        return str(response.json()["text"])

    assert "`killswitch status`" in await run("help", MARCUS)
    assert "say what to stop" in await run("killswitch engage", MARCUS)
    engaged = await run(f"killswitch engage service {service} bad deploy", MARCUS)
    assert f"`service={service}` engaged; 1 running incident(s) told" in engaged
    state = await scene.until(incident, "switch reached", lambda s: bool(s.kill_switches))
    assert state.kill_switches[0].actor == MARCUS.name
    assert "bad deploy" in state.kill_switches[0].reason
    assert f"`service={service}` by {MARCUS.name}: bad deploy" in await run(
        "killswitch status", MARCUS
    )

    refused = await run(f"killswitch lift service {service}", MARCUS)
    assert "you may not" in refused
    assert "responder" in refused
    assert f"service={service}" in await run("killswitch status", MARCUS)  # still engaged
    lifted = await run(f"killswitch lift service {service}", PRIYA)
    assert "lifted" in lifted
    await scene.until(incident, "switch lifted", lambda s: not s.kill_switches)
    assert f"service={service}" not in await run("killswitch status", PRIYA)
    await scene.abort(incident)
    await scene.stack.handle(incident).result()


async def test_declare_and_change_severity_from_slack(scene_factory: Any) -> None:
    """Issue 17: `/ddrun declare` opens an incident as the Slack user's linked person, and
    `/ddrun severity` changes its level with a reason (recorded, by that person)."""
    scene: Scene = await scene_factory()

    async def run(text: str, who: Person = MARCUS) -> str:
        response, _ = await scene.slack.command(who, text)
        assert response.status_code == 200, response.text
        return str(response.json()["text"])

    assert "say the severity first" in await run("declare urgent things")
    assert "say what is happening" in await run("declare P1")
    service = unique("slack-decl-")
    declared = await run(f"declare p1 service={service} Checkout returns 500s")
    found = re.search(r"`(incident-[^`]+)`", declared)
    assert found, declared
    incident = found.group(1)
    scene.stack.touched.add(incident)
    state = await assert_eventually(
        lambda: scene.stack.state(incident), lambda s: s is not None, what="declared"
    )
    assert state.severity_level == "P1"
    assert state.service == service
    assert state.title == "Checkout returns 500s"
    assert state.declared_by is not None
    assert state.declared_by == MARCUS.name  # the linked person's handle, not the Slack id
    assert "say the new severity and why" in await run(f"severity {incident} P0")
    assert "severity P0 set by" in await run(f"severity {incident} P0 card payments down too")
    state = await scene.stack.state(incident)
    assert state.severity_level == "P0"
    assert state.severity_changes[-1].reason == "card payments down too"
    assert state.severity_changes[-1].actor == state.declared_by


async def test_hand_over_incident_command_from_slack(scene_factory: Any) -> None:
    """Issue 17: `/ddrun ic ID @user` hands the commander role to the linked person."""
    scene: Scene = await scene_factory()
    incident = await scene.start([CAUTION], severity="warning")
    await scene.waiting(incident, "change")

    async def run(text: str, who: Person = MARCUS) -> str:
        response, _ = await scene.slack.command(who, text)
        assert response.status_code == 200, response.text
        return str(response.json()["text"])

    assert "say who takes over" in await run(f"ic {incident} priya")
    assert "is not linked" in await run(f"ic {incident} <@U07NOBODY9|nobody>")
    said = await run(f"ic {incident} <@{PRIYA.id}|{PRIYA.name}>")
    assert f"{PRIYA.name} is commander" in said
    state = await scene.stack.state(incident)
    assert state.commander == PRIYA.name
    assert state.role_changes[-1].actor == MARCUS.name
    assert "already commander" in await run(f"ic {incident} <@{PRIYA.id}>")
