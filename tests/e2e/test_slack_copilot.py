"""The Slack copilot, end to end: an alert opens a channel, responders run the runbook from it.

Everything real except Slack and PagerDuty themselves: the Temporal dev server, the orchestrator
and agent workers, the HTTP API (`api.app.create_app`) and the database (SQLite and PostgreSQL),
with the product's own `AsyncWebClient` talking to the Slack Web API stand-in on a real socket.
Clicks are what Slack would send: `block_actions` / `view_submission` bodies built from the
contract fixtures, carrying the button exactly as the stand-in recorded it on the bot's message
(action id, block id, value) and the container of that message, signed with the app's secret.
Assertions read what reached Slack (the stand-in's workspace and call log), the incident's state
and its Temporal history: never a mock.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.paging import dedup_key
from db.incident_claims import IncidentClaimStore
from db.slack_messages import SlackMessageStore
from domain.alerts.normalize import generic
from schemas.identity import Role
from schemas.incident import ApprovalDecision, IncidentState, IncidentStatus, StepState, StepView
from schemas.slack import SlackSyncResult
from schemas.webhooks.generic import GenericAlertBody
from services import incidents as incident_client
from tests.harness import Stack, as_person, generic_alert, running_stack, unique
from tests.standins.pagerduty_events import PagerDutyStandin
from tests.standins.server import StandinServer
from tests.standins.signing import SignedRequest, sign_slack, signed_interaction
from tests.standins.slack_api import (
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    SlackCall,
    SlackChannel,
    SlackMessage,
    SlackStandin,
)
from tests.support import CONTRACTS, assert_eventually
from tests.update_history import approvals_in_history, updates_in_history
from workflows.slack_catchup import SlackCatchUpWorkflow

pytestmark = [pytest.mark.temporal, pytest.mark.e2e, pytest.mark.postgres]

T = TypeVar("T")
Json = dict[str, Any]

SLACK = CONTRACTS / "slack"
BLOCK_ACTIONS: Json = json.loads((SLACK / "interactivity" / "block_actions.json").read_text())
VIEW_SUBMISSION: Json = json.loads((SLACK / "interactivity" / "view_submission.json").read_text())
SECRET = "copilot-e2e-signing-secret-4f1d9a0c7b2e"
SERVICE = "payment-svc"
ACK_LIMIT_S = 3.0  # Slack gives up on an interaction after 3 seconds
APPROVE = "ddrun_approve"  # the Approve & run button's action id (domain/slack/actions.py)


@dataclass(frozen=True)
class Person:
    """A Slack user (`id`, `name`), linked to the dd0c/run person whose handle is `name`: what
    they do from Slack is recorded under that handle."""

    id: str
    name: str


PRIYA = Person("U07PRIYA01", "priya.natarajan")  # seeded in the stand-in's workspace
MARCUS = Person("U07MARCUS02", "marcus.chen")
CMDR = Person("U07CMDR0001", "ines.commander")
ONCALL = [PRIYA.id, MARCUS.id]


async def link(engine: AsyncEngine, who: Person) -> dict[str, str]:
    """`who` as a responder linked to their Slack user (made once); API headers for them."""
    return await as_person(engine, who.name, (Role.RESPONDER,), slack=who.id)


# -- runbook steps ----------------------------------------------------------------------------

LOOK = {
    "id": "look",
    "title": "Look at the pods",
    "command": "echo checked pods in {{ namespace }}",
    "risk": "safe",
    "instructions": "See what is crash looping before touching anything.",
}
RESTART = {
    "id": "restart",
    "title": "Restart the api",
    "command": "echo restarted api in {{ namespace }}",
    "risk": "caution",
}
VERIFY = {
    "id": "verify",
    "title": "Verify recovery",
    "command": "echo verified {{ namespace }}",
    "risk": "safe",
}
DROP = {
    "id": "drop",
    "title": "Drop the cache",
    "command": "echo dropped cache in {{ namespace }}",
    "rollback": "echo warmed cache in {{ namespace }}",
    "risk": "dangerous",
}


# -- fixtures ---------------------------------------------------------------------------------


@dataclass
class SlackWorkspace:
    standin: SlackStandin
    server: StandinServer

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackWorkspace]:
    standin = SlackStandin()
    standin.add_user(CMDR.id, CMDR.name, "Ines Commander")
    server = StandinServer(standin)
    await server.start()
    try:
        yield SlackWorkspace(standin, server)
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def pagerduty() -> AsyncIterator[tuple[PagerDutyStandin, str]]:
    standin = PagerDutyStandin()
    async with StandinServer(standin) as server:
        yield standin, f"{server.url}/v2/enqueue"


@dataclass
class Copilot:
    """One product stack wired to the Slack stand-in, and a Slack user's hands."""

    stack: Stack
    slack: SlackWorkspace
    incidents: list[str] = field(default_factory=list)

    @property
    def standin(self) -> SlackStandin:
        return self.slack.standin

    # -- incidents ----------------------------------------------------------------------------

    async def runbook(self, steps: list[Json]) -> tuple[str, str]:
        """A runbook of its own (unique alert name), filling `namespace` from the alert."""
        name = unique("Latency")
        runbook_id = unique("copilot-")
        await self.stack.add_runbook(
            {
                "id": runbook_id,
                "title": f"Copilot {name}",
                "selectors": [{"alertname": name}],
                "variables": [{"name": "namespace", "source": "label:namespace"}],
                "steps": steps,
            }
        )
        return name, runbook_id

    async def open(self, steps: list[Json], *, severity: str = "warning") -> str:
        name, _ = await self.runbook(steps)
        response = await self.stack.post_generic(
            generic_alert(name, service=SERVICE, severity=severity)
        )
        assert response.status_code == 202, response.text
        return self.track(str(response.json()["incident_id"]))

    def track(self, incident: str) -> str:
        self.incidents.append(incident)
        self.stack.handle(incident)
        return incident

    async def state(self, incident: str) -> IncidentState:
        return await self.stack.state(incident)

    async def until(
        self, incident: str, what: str, check: Callable[[IncidentState], bool], timeout: float = 30
    ) -> IncidentState:
        return await assert_eventually(
            lambda: self.state(incident), check, what=what, timeout=timeout
        )

    async def waiting(self, incident: str, step: str) -> IncidentState:
        return await self.until(
            incident,
            f"step {step} waiting for approval",
            lambda s: step_of(s, step).state is StepState.AWAITING_APPROVAL,
        )

    async def result(self, incident: str) -> IncidentState:
        return await self.stack.handle(incident).result()

    async def settled(self, incident: str, timeout: float = 30) -> SlackSyncResult:
        """The closing Slack sync (SlackCatchUpWorkflow) of the incident's last run, finished."""
        run_id = (await self.result(incident)).run_id
        handle = self.stack.client.get_workflow_handle_for(
            SlackCatchUpWorkflow.run, f"{incident}-slack-{run_id}"
        )

        async def described() -> WorkflowExecutionStatus | None:
            try:
                return (await handle.describe()).status
            except RPCError:
                return None  # not started yet

        await assert_eventually(
            described,
            lambda s: s is not None and s is not WorkflowExecutionStatus.RUNNING,
            what="the closing Slack sync",
            timeout=timeout,
            interval=0.2,
        )
        return await handle.result()

    # -- what Slack shows ---------------------------------------------------------------------

    async def channel(self, incident: str, timeout: float = 30) -> SlackChannel:
        store = SlackMessageStore(self.stack.engine)

        async def created() -> SlackChannel | None:
            ref = await store.channel(incident)
            return self.standin.channels.get(ref.channel_id) if ref is not None else None

        found = await assert_eventually(
            created, lambda c: c is not None, what="the incident channel", timeout=timeout
        )
        assert found is not None
        return found

    def card(self, channel: SlackChannel, step: str) -> SlackMessage | None:
        cards = [m for m in self.standin.messages_in(channel.id) if has_block(m, f"title:{step}")]
        assert len(cards) <= 1, f"step {step} has {len(cards)} cards"
        return cards[0] if cards else None

    async def card_where(
        self,
        channel: SlackChannel,
        step: str,
        check: Callable[[SlackMessage], bool],
        what: str,
        timeout: float = 30,
    ) -> SlackMessage:
        async def current() -> SlackMessage | None:
            return self.card(channel, step)

        found = await assert_eventually(
            current, lambda m: m is not None and check(m), what=what, timeout=timeout
        )
        assert found is not None
        return found

    async def waiting_card(self, channel: SlackChannel, incident: str, step: str) -> SlackMessage:
        """The step's card once it offers Approve & run for the step's current card version."""
        state = await self.waiting(incident, step)
        version = step_of(state, step).card

        def current(message: SlackMessage) -> bool:
            button = find_button(message, APPROVE)
            return button is not None and json.loads(button["value"]).get("card") == version

        return await self.card_where(channel, step, current, f"{step}'s card with Approve & run")

    async def posts(self, channel: SlackChannel, text: str, timeout: float = 30) -> SlackMessage:
        async def found() -> list[SlackMessage]:
            return [m for m in self.standin.messages_in(channel.id) if text in message_text(m)]

        hits = await assert_eventually(
            found, bool, what=f"a channel post with {text!r}", timeout=timeout
        )
        return hits[0]

    async def summary(self, channel: SlackChannel, timeout: float = 30) -> SlackMessage:
        async def found() -> list[SlackMessage]:
            return [m for m in self.standin.messages_in(channel.id) if has_block(m, "outcome")]

        hits = await assert_eventually(found, bool, what="the summary", timeout=timeout)
        assert len(hits) == 1, f"{len(hits)} summaries"
        return hits[0]

    # -- a responder's hands --------------------------------------------------------------------

    def block_actions(
        self, who: Person, channel: SlackChannel, message: SlackMessage, action_id: str
    ) -> Json:
        """The fixture's block_actions, re-aimed: this user, this button, this message."""
        button = find_button(message, action_id)
        assert button is not None, f"no {action_id} button on the message"
        block = next(
            b
            for b in message.blocks or []
            if b.get("type") == "actions" and button in b.get("elements", [])
        )
        payload = copy.deepcopy(BLOCK_ACTIONS)
        payload["user"] = {"id": who.id, "username": who.name, "name": who.name, "team_id": TEAM_ID}
        payload["channel"] = {"id": channel.id, "name": channel.name}
        payload["message"] = message.to_api()
        clicked = {k: v for k, v in button.items() if k in ("action_id", "text", "value", "style")}
        payload["actions"] = [
            {
                **payload["actions"][0],
                **clicked,
                "block_id": block["block_id"],
                "action_ts": f"{time.time():.6f}",
            }
        ]
        if "style" not in clicked:
            payload["actions"][0].pop("style", None)
        return self.standin.prepare_interaction(payload, channel=channel.id, message_ts=message.ts)

    async def post(self, signed: SignedRequest) -> httpx.Response:
        return await self.stack.http.post(
            "/slack/interactions", content=signed.raw, headers=signed.headers
        )

    async def click(
        self, who: Person, channel: SlackChannel, message: SlackMessage, action_id: str = APPROVE
    ) -> tuple[httpx.Response, Json]:
        """Click a button on a bot message; Slack's 3-second acknowledgement is asserted."""
        payload = self.block_actions(who, channel, message, action_id)
        signed = signed_interaction(payload, SECRET, int(time.time()))
        started = time.perf_counter()
        response = await self.post(signed)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert elapsed < ACK_LIMIT_S, f"acknowledged after {elapsed:.2f}s"
        return response, payload

    def opened_view(self, trigger_id: str) -> Json:
        """The modal opened with this click's trigger_id (single use, so at most one)."""
        opened = [c for c in self.standin.calls_to("views.open") if c.args.get("trigger_id")]
        mine = [c for c in opened if c.args["trigger_id"] == trigger_id]
        assert len(mine) == 1, f"views.open calls for the trigger: {len(mine)}"
        assert mine[0].ok, mine[0].response
        view: Json = mine[0].args["view"]
        return view

    async def submit(self, who: Person, view: Json, **typed: str) -> httpx.Response:
        """Submit a modal, typing into its inputs by label keyword (e.g. confirm="drop")."""
        inputs = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
        values: dict[str, Json] = {}
        for keyword, text in typed.items():
            matches = [
                bid for bid, b in inputs.items() if keyword.lower() in b["label"]["text"].lower()
            ]
            assert len(matches) == 1, f"input for {keyword!r}: {matches} in {list(inputs)}"
            element = inputs[matches[0]]["element"]
            values[matches[0]] = {element["action_id"]: {"type": element["type"], "value": text}}
        payload = copy.deepcopy(VIEW_SUBMISSION)
        payload["user"] = {"id": who.id, "username": who.name, "name": who.name, "team_id": TEAM_ID}
        payload["trigger_id"] = self.standin.mint_trigger_id(who.id)
        payload["view"].update(
            callback_id=view["callback_id"],
            private_metadata=view["private_metadata"],
            blocks=view["blocks"],
            title=view["title"],
            state={"values": values},
        )
        started = time.perf_counter()
        response = await self.post(signed_interaction(payload, SECRET, int(time.time())))
        assert time.perf_counter() - started < ACK_LIMIT_S
        assert response.status_code == 200, response.text
        return response

    async def replies(self, hook: str, count: int = 1) -> list[Json]:
        async def posts() -> list[Json]:
            return self.standin.response_url_posts(hook)

        found = await assert_eventually(
            posts, lambda p: len(p) >= count, what="an ephemeral reply", timeout=15
        )
        assert all(p.get("response_type") == "ephemeral" for p in found), found
        return found

    # -- checks that need the product's store -------------------------------------------------

    async def assert_each_message_once(self, incident: str, channel: SlackChannel) -> None:
        """Every message the product keeps (by key) was posted exactly once and is in the
        channel exactly once; nothing else was posted (no lost or duplicated messages)."""
        state = await self.state(incident)
        stored = await SlackMessageStore(self.stack.engine).messages(
            incident, state.opened_at.isoformat()
        )
        assert stored, "nothing recorded as posted"
        key_of = {ref.ts: key for key, ref in stored.items()}
        posted = [
            c
            for c in self.standin.calls_to("chat.postMessage")
            if c.ok and isinstance(c.response, dict) and c.response.get("channel") == channel.id
        ]
        per_key = Counter(key_of.get(str(response_of(c)["ts"]), "<unrecorded>") for c in posted)
        assert per_key == Counter(dict.fromkeys(stored, 1)), per_key
        shown = Counter(m.ts for m in self.standin.messages_in(channel.id))
        assert shown == Counter(ref.ts for ref in stored.values())
        for step in state.steps:
            if step.state is not StepState.PENDING:
                assert self.card(channel, step.id) is not None, f"no card for {step.id}"


def response_of(call: SlackCall) -> Json:
    assert isinstance(call.response, dict)
    return call.response


def step_of(state: IncidentState, step: str) -> StepView:
    return next(s for s in state.steps if s.id == step)


def has_block(message: SlackMessage, block_id: str) -> bool:
    return any(b.get("block_id") == block_id for b in message.blocks or [])


def block_text(message: SlackMessage, block_id: str) -> str:
    chosen = [b for b in message.blocks or [] if b.get("block_id") == block_id]
    return json.dumps(chosen, ensure_ascii=False)


def message_text(message: SlackMessage) -> str:
    return message.text + json.dumps(message.blocks or [], ensure_ascii=False)


def find_button(message: SlackMessage, action_id: str) -> Json | None:
    for block in message.blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                found: Json = element
                return found
    return None


def card_posts(standin: SlackStandin, step: str) -> list[SlackCall]:
    """Successful chat.postMessage calls that carried this step's card."""
    return [
        c
        for c in standin.calls_to("chat.postMessage")
        if c.ok and any(b.get("block_id") == f"title:{step}" for b in c.args.get("blocks") or [])
    ]


async def now(value: T) -> T:
    return value


@pytest_asyncio.fixture
async def copilot_factory(
    client: Client, engine: AsyncEngine, slack: SlackWorkspace, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Copilot]]]:
    """`await make(policy=None, **settings)`: a stack with Slack on, pointed at the stand-in."""
    contexts: list[Any] = []
    made: list[Copilot] = []

    async def make(policy: str | None = None, **overrides: Any) -> Copilot:
        settings: dict[str, Any] = {
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SECRET),
            "slack_api_url": slack.api_url,
            "slack_oncall_users": ONCALL,
        }
        if policy is not None:
            path = tmp_path / f"policy-{len(contexts)}.yml"
            path.write_text(policy)
            settings["approval_policy_file"] = path
        settings.update(overrides)
        context = running_stack(client, engine, **settings)
        stack = await context.__aenter__()
        contexts.append(context)
        for who in (PRIYA, MARCUS, CMDR):
            await link(engine, who)
        copilot = Copilot(stack, slack)
        made.append(copilot)
        return copilot

    yield make
    try:
        for copilot in made:  # nothing left running on the shared server, whatever happened
            for incident in copilot.incidents:
                for workflow_id in (incident, *await _catch_ups(client, incident)):
                    handle = client.get_workflow_handle(workflow_id)
                    try:
                        if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                            await handle.terminate("test over")
                    except RPCError:
                        pass
    finally:
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


async def _catch_ups(client: Client, incident: str) -> list[str]:
    query = 'WorkflowType = "SlackCatchUpWorkflow" AND ExecutionStatus = "Running"'
    return [
        e.id
        async for e in client.list_workflows(query, limit=50)
        if e.id.startswith(f"{incident}-slack-")
    ]


# -- 1. the full copilot flow -------------------------------------------------------------------


async def test_full_copilot_flow_from_alert_to_summary(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory()
    standin = copilot.standin
    name, runbook_id = await copilot.runbook([LOOK, RESTART])
    response = await copilot.stack.post_generic(
        generic_alert(name, service=SERVICE, severity="warning")
    )
    assert response.status_code == 202, response.text
    incident = copilot.track(str(response.json()["incident_id"]))

    # The channel: named for the day, service and alert; topic (the level a warning maps to,
    # P2); on-call invited.
    channel = await copilot.channel(incident)
    await assert_eventually(lambda: now(list(channel.pins)), bool, what="a pinned header")
    opened = (await copilot.state(incident)).opened_at.astimezone(UTC)
    assert channel.name == f"inc-{opened:%Y%m%d}-{SERVICE}-{name.lower()}"
    assert len(channel.name) <= 80
    assert re.fullmatch(r"\[P2\] .+ · payment-svc", channel.topic["value"]), channel.topic
    assert {PRIYA.id, MARCUS.id, BOT_USER_ID} <= channel.members
    invites = [c for c in standin.calls_to("conversations.invite") if c.ok]
    assert invites
    assert set(invites[0].args["users"]) >= set(ONCALL)

    # The header: first message, pinned, with the runbook, confidence, variables, step counts.
    first = standin.messages_in(channel.id)[0]
    assert has_block(first, "runbook"), "the first message is the header"
    assert channel.pins == [first.ts]
    runbook = block_text(first, "runbook")
    assert f"`{runbook_id}` v1" in runbook
    assert re.search(r"\d+% confidence", runbook), runbook
    assert "`namespace` = `payments`" in block_text(first, "variables")
    assert "2 steps: 1 safe · 1 caution" in block_text(first, "steps")
    assert find_button(first, "ddrun_start_copilot") is not None

    # The safe step ran on its own and its card shows the output.
    look = await copilot.card_where(
        channel,
        "look",
        lambda m: "checked pods in payments" in block_text(m, "output:look"),
        "look's card with its output",
    )
    assert "exit 0" in block_text(look, "output:look")
    assert find_button(look, APPROVE) is None

    # The caution step waits with Approve & run on its card.
    card = await copilot.waiting_card(channel, incident, "restart")
    card_ts = card.ts
    approve = find_button(card, APPROVE)
    assert approve is not None
    assert approve["text"]["text"] == "Approve & run"
    assert "echo restarted api in payments" in block_text(card, "cmd:restart")
    assert len(card_posts(standin, "restart")) == 1
    before = len(standin.calls)

    _, payload = await copilot.click(MARCUS, channel, card)
    assert payload["actions"][0]["action_id"] == APPROVE
    container = {**BLOCK_ACTIONS["container"], "channel_id": channel.id, "message_ts": card.ts}
    assert payload["container"] == container
    [reply] = await copilot.replies(payload["response_url"])
    assert "approved" in reply["text"]
    assert standin.ephemerals[-1].user == MARCUS.id

    result = await copilot.result(incident)
    assert result.status is IncidentStatus.RESOLVED
    restart = step_of(result, "restart")
    assert restart.state is StepState.SUCCEEDED
    assert "restarted api in payments" in restart.stdout
    assert restart.approved_by == MARCUS.name  # the linked person's handle
    assert [(a.approver, a.approver_name, a.channel) for a in restart.approvals] == [
        (MARCUS.name, MARCUS.name, "slack")
    ]
    [decision] = await approvals_in_history(copilot.stack, incident)
    assert (decision.approver, decision.approver_name, decision.channel) == (
        MARCUS.name,
        MARCUS.name,
        "slack",
    )
    assert (decision.approver_ids, decision.authenticated_by) == ([MARCUS.id], f"slack {MARCUS.id}")
    clicked = json.loads(payload["actions"][0]["value"])
    assert (clicked["incident"], clicked["step"]) == (incident, "restart")
    assert decision.card == clicked["card"]  # the version of the card the click came from

    # The same card, updated in place as the step ran; never posted twice.
    done = await copilot.card_where(
        channel,
        "restart",
        lambda m: (
            "succeeded" in block_text(m, "title:restart")
            and "restarted api in payments" in block_text(m, "output:restart")
        ),
        "restart's card showing its output",
    )
    assert done.ts == card_ts
    assert MARCUS.name in block_text(done, "approvals:restart")
    assert find_button(done, APPROVE) is None
    updates = [
        c for c in standin.calls[before:] if c.method == "chat.update" and c.args["ts"] == card_ts
    ]
    assert updates
    assert updates[-1].ok
    assert len(card_posts(standin, "restart")) == 1

    # Resolution: a summary with MTTR; the topic and header follow.
    summary = await copilot.summary(channel)
    assert "*MTTR*" in block_text(summary, "outcome")
    assert "restart" in block_text(summary, "approvals-0")
    await assert_eventually(
        lambda: now(channel.topic["value"]), lambda t: "resolved" in t, what="topic resolved"
    )
    await copilot.assert_each_message_once(incident, channel)


# -- 2. a dangerous step asks for its name in a modal ------------------------------------------


async def test_dangerous_step_is_confirmed_by_name_in_a_modal(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory()
    incident = await copilot.open([DROP])
    channel = await copilot.channel(incident)
    card = await copilot.waiting_card(channel, incident, "drop")
    card_ts = card.ts
    assert "warmed cache in payments" in block_text(card, "rollback:drop")  # the undo, shown

    _, payload = await copilot.click(MARCUS, channel, card)
    view = copilot.opened_view(payload["trigger_id"])  # views.open with this click's trigger
    assert view["type"] == "modal"
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert "echo dropped cache in payments" in shown
    assert "echo warmed cache in payments" in shown
    assert copilot.standin.response_url_posts(payload["response_url"]) == []
    assert await approvals_in_history(copilot.stack, incident) == []

    wrong = await copilot.submit(MARCUS, view, confirm="drop everything")
    body = wrong.json()
    assert body["response_action"] == "errors"
    [(block, message)] = body["errors"].items()
    assert block in {b["block_id"] for b in view["blocks"] if b.get("type") == "input"}
    assert "drop" in message
    state = await copilot.state(incident)
    assert step_of(state, "drop").state is StepState.AWAITING_APPROVAL
    assert await approvals_in_history(copilot.stack, incident) == []

    right = await copilot.submit(MARCUS, view, confirm="drop", comment="the cache is poisoned")
    assert (right.status_code, right.content) == (200, b"")  # the modal closes
    result = await copilot.result(incident)
    drop = step_of(result, "drop")
    assert drop.state is StepState.SUCCEEDED
    assert "dropped cache in payments" in drop.stdout
    assert drop.approved_by == MARCUS.name
    [decision] = await approvals_in_history(copilot.stack, incident)
    assert (decision.approver, decision.confirm, decision.comment, decision.channel) == (
        MARCUS.name,
        "drop",
        "the cache is poisoned",
        "slack",
    )
    [reply] = await copilot.replies(payload["response_url"])
    assert "approved" in reply["text"]
    done = await copilot.card_where(
        channel, "drop", lambda m: "succeeded" in block_text(m, "title:drop"), "drop succeeded"
    )
    assert done.ts == card_ts
    assert len(card_posts(copilot.standin, "drop")) == 1
    await copilot.settled(incident)  # the channel has its final state and summary


# -- 3. two people, one of them the commander ---------------------------------------------------

POLICY_TWO_PERSON = f"""
responders: [{PRIYA.id}, {MARCUS.id}, {CMDR.id}]
services:
  {SERVICE}:
    commander: {CMDR.id}
"""


async def test_two_person_rule_in_a_critical_incident(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory(POLICY_TWO_PERSON)
    incident = await copilot.open([DROP], severity="critical")
    channel = await copilot.channel(incident)
    card = await copilot.waiting_card(channel, incident, "drop")
    state = await copilot.state(incident)
    assert state.commander == CMDR.id
    rule = step_of(state, "drop").approval_rule
    assert rule is not None
    assert (rule.approvals, rule.commander_required) == (2, True)
    assert CMDR.id in channel.members  # the commander is invited too

    # Priya approves first: recorded, but the step keeps waiting.
    _, first = await copilot.click(PRIYA, channel, card)
    submitted = await copilot.submit(
        PRIYA, copilot.opened_view(first["trigger_id"]), confirm="drop"
    )
    assert (submitted.status_code, submitted.content) == (200, b"")
    state = await copilot.until(
        incident, "one approval", lambda s: len(step_of(s, "drop").approvals) == 1
    )
    assert step_of(state, "drop").state is StepState.AWAITING_APPROVAL
    assert [a.approver for a in step_of(state, "drop").approvals] == [PRIYA.name]
    card = await copilot.waiting_card(channel, incident, "drop")  # redrawn with her approval
    assert PRIYA.name in block_text(card, "approvals:drop")
    assert "1 so far" in block_text(card, "approvals:drop")

    # Priya again: refused, told why, only her; no dialog opens, nothing reaches the workflow.
    opened = len(copilot.standin.calls_to("views.open"))
    _, again = await copilot.click(PRIYA, channel, card)
    [refusal] = await copilot.replies(again["response_url"])
    assert "already approved" in refusal["text"]
    assert copilot.standin.ephemerals[-1].user == PRIYA.id
    assert len(copilot.standin.calls_to("views.open")) == opened
    assert [d.approver for d in await approvals_in_history(copilot.stack, incident)] == [PRIYA.name]
    assert step_of(await copilot.state(incident), "drop").state is StepState.AWAITING_APPROVAL

    # The commander's approval completes the rule and the step runs.
    _, last = await copilot.click(CMDR, channel, card)
    final = await copilot.submit(CMDR, copilot.opened_view(last["trigger_id"]), confirm="drop")
    assert (final.status_code, final.content) == (200, b"")
    result = await copilot.result(incident)
    drop = step_of(result, "drop")
    assert drop.state is StepState.SUCCEEDED
    # The policy names the commander by Slack id; the approval is recorded under the handle.
    assert [a.approver for a in drop.approvals] == [PRIYA.name, CMDR.name]
    assert [d.approver for d in await approvals_in_history(copilot.stack, incident)] == [
        PRIYA.name,
        CMDR.name,
    ]
    await copilot.settled(incident)  # the channel has its final state and summary


# -- 4. an approver the policy does not list ----------------------------------------------------

POLICY_RESPONDERS = f"""
responders: [{PRIYA.id}]
"""


async def test_unauthorised_approver_is_refused_and_told_why(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory(POLICY_RESPONDERS)
    incident = await copilot.open([DROP])
    channel = await copilot.channel(incident)
    card = await copilot.waiting_card(channel, incident, "drop")
    opened = len(copilot.standin.calls_to("views.open"))

    _, click = await copilot.click(MARCUS, channel, card)
    [refusal] = await copilot.replies(click["response_url"])
    assert "not allowed" in refusal["text"]
    assert "dangerous steps of payment-svc" in refusal["text"]
    assert "responder" in refusal["text"]
    eph = copilot.standin.ephemerals[-1]
    assert (eph.user, eph.channel) == (MARCUS.id, channel.id)  # only Marcus sees it
    assert len(copilot.standin.calls_to("views.open")) == opened  # no dialog for him
    state = await copilot.state(incident)
    assert step_of(state, "drop").state is StepState.AWAITING_APPROVAL
    assert step_of(state, "drop").approvals == []
    assert await updates_in_history(copilot.stack, incident) == []  # nothing reached history

    # Priya is listed: the same button works for her.
    _, hers = await copilot.click(PRIYA, channel, card)
    await copilot.submit(PRIYA, copilot.opened_view(hers["trigger_id"]), confirm="drop")
    result = await copilot.result(incident)
    assert step_of(result, "drop").approved_by == PRIYA.name
    assert [d.approver for d in await approvals_in_history(copilot.stack, incident)] == [PRIYA.name]
    await copilot.settled(incident)  # the channel has its final state and summary


# -- 5. forged requests --------------------------------------------------------------------------


async def test_tampered_stale_and_unsigned_requests_are_refused(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory()
    incident = await copilot.open([RESTART])
    channel = await copilot.channel(incident)
    card = await copilot.waiting_card(channel, incident, "restart")
    payload = copilot.block_actions(MARCUS, channel, card, APPROVE)
    now_s = int(time.time())
    genuine = signed_interaction(payload, SECRET, now_s)

    forged = {**payload, "user": {**payload["user"], "id": PRIYA.id}}  # same signature
    tampered = SignedRequest(signed_interaction(forged, SECRET, now_s).body, genuine.headers)
    stale = signed_interaction(payload, SECRET, now_s - 301)
    unsigned = SignedRequest(genuine.body, {"Content-Type": genuine.headers["Content-Type"]})
    wrong_key = sign_slack("not-the-signing-secret", genuine.body, now_s)
    for what, request in {
        "tampered": tampered,
        "stale": stale,
        "unsigned": unsigned,
        "signed with another secret": wrong_key,
    }.items():
        response = await copilot.post(request)
        assert response.status_code == 401, (what, response.text)
    assert copilot.standin.response_url_posts(payload["response_url"]) == []
    assert await updates_in_history(copilot.stack, incident) == []
    assert step_of(await copilot.state(incident), "restart").state is StepState.AWAITING_APPROVAL

    # The control: the very same click, properly signed, is taken.
    response = await copilot.post(genuine)
    assert response.status_code == 200
    result = await copilot.result(incident)
    assert step_of(result, "restart").approved_by == MARCUS.name
    await copilot.settled(incident)  # the channel has its final state and summary


# -- 6. Slack rate limits and errors mid-incident -----------------------------------------------


async def test_slack_429_and_5xx_lose_and_duplicate_nothing(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory()
    standin = copilot.standin
    # A burst meets Slack's own per-channel limit (about one post a second): 429 with
    # Retry-After: 1 right after a post that went through, in the middle of a sync. That is
    # where a message is posted twice unless what was posted is remembered at once.
    standin.post_interval = 1.0
    faults = [standin.inject("chat.postMessage", "http_status", status=503)]
    incident = await copilot.open([LOOK, RESTART, VERIFY])
    channel = await copilot.channel(incident)

    def throttled() -> list[SlackCall]:
        return [c for c in standin.calls if c.status == 429 and c.fault is None]

    await assert_eventually(
        lambda: now(throttled()), lambda t: len(t) >= 2, what="posts throttled", timeout=30
    )
    standin.post_interval = None  # the burst is over
    card = await copilot.waiting_card(channel, incident, "restart")
    faults += [  # the card updates that follow the approval, and the posts after them
        standin.inject("chat.update", "http_status", status=502),
        standin.inject("chat.update", "ratelimited", retry_after=1),
        standin.inject("chat.postMessage", "http_status", status=500),
    ]
    await copilot.click(PRIYA, channel, card)
    result = await copilot.result(incident)
    assert result.status is IncidentStatus.RESOLVED
    await copilot.summary(channel)
    await copilot.card_where(
        channel, "verify", lambda m: "succeeded" in block_text(m, "title:verify"), "verify done"
    )

    assert [f.fired for f in faults] == [1] * len(faults), "every fault reached the product"
    assert all(c.method == "chat.postMessage" for c in throttled())
    assert [c.status for c in standin.calls if c.fault == "ratelimited"] == [429]
    assert {c.status for c in standin.calls if c.fault == "http_status"} == {500, 502, 503}
    synced = await copilot.settled(incident)
    assert synced.channel_id == channel.id
    await copilot.assert_each_message_once(incident, channel)
    for step in ("look", "restart", "verify"):
        assert len(card_posts(standin, step)) == 1
        final = copilot.card(channel, step)
        assert final is not None
        assert "succeeded" in block_text(final, f"title:{step}")  # the last update was not lost
    headers = [m for m in standin.messages_in(channel.id) if has_block(m, "runbook")]
    assert len(headers) == 1
    assert channel.pins == [headers[0].ts]


# -- 7. Slack down for the whole incident ---------------------------------------------------------


async def test_slack_down_for_the_whole_incident_then_catches_up(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    copilot = await copilot_factory()
    standin, server = copilot.slack.standin, copilot.slack.server
    await server.stop()  # connection refused from now on
    incident = await copilot.open([LOOK, RESTART])
    await copilot.waiting(incident, "restart")
    response = await copilot.stack.http.post(
        f"/api/incidents/{incident}/steps/restart/approval",
        json={"decision": "approve", "comment": "Slack is down"},
        headers=await link(copilot.stack.engine, PRIYA),  # Priya's API token, Slack is down
    )
    assert response.status_code == 200, response.text
    started = time.perf_counter()
    result = await copilot.result(incident)
    closed_in = time.perf_counter() - started
    assert result.status is IncidentStatus.RESOLVED
    assert closed_in < 10, f"the incident waited {closed_in:.1f}s for Slack"
    assert step_of(result, "restart").approved_by == PRIYA.name
    assert standin.calls == []  # nothing reached Slack
    assert await SlackMessageStore(copilot.stack.engine).channel(incident) is None

    # The closing sync outlives the incident and keeps trying while Slack is away.
    catch_up = copilot.stack.client.get_workflow_handle(f"{incident}-slack-{result.run_id}")

    async def failed_attempts() -> int:
        try:
            pending = (await catch_up.describe()).raw_description.pending_activities
        except RPCError:
            return 0  # not started yet
        return max((p.attempt - 1 for p in pending if p.HasField("last_failure")), default=0)

    await assert_eventually(
        failed_attempts, lambda n: n >= 1, what="a failed catch-up attempt", timeout=30
    )
    assert standin.calls == []
    url = server.url
    assert await server.start() == url  # Slack is back, on the same port
    channel = await copilot.channel(incident, timeout=90)
    summary = await copilot.summary(channel, timeout=90)
    assert "*MTTR*" in block_text(summary, "outcome")
    synced = await copilot.settled(incident, timeout=90)
    assert synced.channel_id == channel.id
    assert [c.name for c in standin.channels.values() if c.name.startswith("inc-")] == [
        channel.name
    ]
    for step in ("look", "restart"):
        card = copilot.card(channel, step)
        assert card is not None
        assert "succeeded" in block_text(card, f"title:{step}")
        assert find_button(card, APPROVE) is None  # closed: nothing left to click
    assert "resolved" in channel.topic["value"]
    assert len(channel.pins) == 1
    await copilot.assert_each_message_once(incident, channel)


# -- 8. escalation pages a person and says so in the channel -------------------------------------


async def test_unapproved_step_pages_pagerduty_and_posts_to_the_channel(
    temporal_env: WorkflowEnvironment,
    copilot_factory: Callable[..., Awaitable[Copilot]],
    pagerduty: tuple[PagerDutyStandin, str],
) -> None:
    pd, url = pagerduty
    keys = [SecretStr("a" * 32), SecretStr("b" * 32)]
    copilot = await copilot_factory(pagerduty_routing_keys=keys, pagerduty_events_url=url)
    slow = {**RESTART, "approval_timeout_s": 300}
    name, _ = await copilot.runbook([slow])
    alert = generic.normalize(
        GenericAlertBody(
            name=name, service=SERVICE, severity="warning", labels={"namespace": "payments"}
        ),
        datetime.now(UTC),
        "digest",
    )[0]
    # Started through the time-skipping client: the approval deadline passes on virtual time.
    accepted = await incident_client.deliver_alert(
        temporal_env.client,
        copilot.stack.settings,
        alert,
        claims=IncidentClaimStore(copilot.stack.engine),
    )
    assert accepted.incident_id is not None
    incident = copilot.track(accepted.incident_id)
    state = await copilot.until(
        incident, "the first page", lambda s: len(s.escalations) >= 1, timeout=60
    )
    first = state.escalations[0]
    assert (first.level, first.target, first.paged) == (1, "primary-oncall", True)
    assert first.at - state.opened_at >= timedelta(seconds=300)  # on virtual time
    triggers = [e for e in pd.events if e["event_action"] == "trigger"]
    assert triggers[0]["dedup_key"] == dedup_key(incident, 1)
    assert triggers[0]["routing_key"] == "a" * 32
    assert "not approved within 300s" in triggers[0]["payload"]["summary"]

    channel = await copilot.channel(incident)
    post = await copilot.posts(channel, "Escalated")
    said = message_text(post)
    assert "primary-oncall" in said  # who was paged
    assert "not approved within 300s" in said  # and why
    assert "Restart the api" in said

    await incident_client.approve_step(
        copilot.stack.client, incident, ApprovalDecision(step_id="restart", approver=PRIYA.id)
    )
    result = await copilot.result(incident)
    assert result.status is IncidentStatus.RESOLVED
    resolved = {e["dedup_key"] for e in pd.events if e["event_action"] == "resolve"}
    assert dedup_key(incident, 1) in resolved
    await copilot.settled(incident)  # the channel has its final state and summary


# -- the record stays true when the incident closes while a Slack sync is still retrying ---------


async def test_closing_while_slack_fails_adds_nothing_false_to_the_timeline(
    copilot_factory: Callable[..., Awaitable[Copilot]],
) -> None:
    """Slack failing (5xx) when the incident closes: the sync that was retrying is cancelled
    with the incident. The timeline ends with the close, and the closing catch-up posts the
    final state once Slack answers again."""
    copilot = await copilot_factory()
    standin = copilot.standin
    incident = await copilot.open([RESTART])
    channel = await copilot.channel(incident)
    card = await copilot.waiting_card(channel, incident, "restart")
    outage = [
        standin.inject("chat.update", "http_status", status=503, times=None),
        standin.inject("chat.postMessage", "http_status", status=503, times=None),
    ]
    await copilot.click(MARCUS, channel, card)
    result = await copilot.result(incident)
    assert result.status is IncidentStatus.RESOLVED
    assert sum(f.fired for f in outage) >= 1  # a sync was failing when the incident closed
    standin.faults.clear()
    await copilot.settled(incident)
    await copilot.summary(channel)
    await copilot.assert_each_message_once(incident, channel)
    assert [e.kind for e in result.timeline][-1] == "closed", [
        (e.kind, e.message) for e in result.timeline[-3:]
    ]
    assert [e.message for e in result.timeline if e.kind == "slack_unavailable"] == []
