"""A Slack user acts only as the dd0c/run person it is linked to: an unlinked or disabled user
is told how to link and nothing happens; a linked viewer may read but not act."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.people import PeopleStore
from db.trust import TrustStore
from schemas.identity import PersonPatch, Role
from tests.harness import as_person, running_stack, unique
from tests.standins.signing import signed_slash_command
from tests.support import SHARED

pytestmark = pytest.mark.temporal

SECRET = "identity-signing-secret-0123456789"
SLASH = json.loads(
    (SHARED / "contracts" / "slack" / "slash-commands" / "incident.declare.json").read_text()
)


def _slack_id() -> str:
    return "U" + unique("")[:8].upper() + "9"


async def test_unlinked_disabled_and_viewer_slack_users(
    client: Client, engine: AsyncEngine
) -> None:
    async with running_stack(client, engine, slack_signing_secret=SECRET) as stack:

        async def slash(user_id: str, text: str) -> str:
            fields = {
                **SLASH,
                "command": "/ddrun",
                "text": text,
                "user_id": user_id,
                "user_name": "someone",
            }
            signed = signed_slash_command(fields, SECRET, int(time.time()))
            response = await stack.http.post(
                "/slack/commands", content=signed.raw, headers=signed.headers
            )
            assert response.status_code == 200, response.text
            return str(response.json()["text"])

        stranger = _slack_id()
        said = await slash(stranger, f"killswitch engage service {unique('svc-')} test")
        assert "not linked" in said
        assert f"--slack {stranger}" in said
        assert not [
            s for s in await TrustStore(engine).kill_switches() if s.engaged and s.actor == stranger
        ]

        viewer_slack = _slack_id()
        viewer = unique("viewer-")
        await as_person(engine, viewer, (Role.VIEWER,), slack=viewer_slack)
        service = unique("svc-")
        said = await slash(viewer_slack, f"killswitch engage service {service} test")
        assert "responder" in said
        switches = await TrustStore(engine).kill_switches()
        assert not [s for s in switches if s.value == service and s.engaged]

        responder_slack = _slack_id()
        responder = unique("resp-")
        await as_person(engine, responder, (Role.RESPONDER,), slack=responder_slack)
        said = await slash(responder_slack, f"killswitch engage service {service} test")
        assert "engaged" in said
        engaged = [s for s in await TrustStore(engine).kill_switches() if s.value == service]
        assert engaged
        assert engaged[0].actor == responder  # the person, not the Slack id

        await PeopleStore(engine).update(responder, PersonPatch(disabled=True))
        said = await slash(responder_slack, "killswitch status")
        assert "disabled" in said
        # Lifted again: the database and its kill switches are shared with later tests.
        await TrustStore(engine).set_kill_switch(
            engaged[0].model_copy(update={"engaged": False, "reason": "test done"})
        )
        assert not [
            s for s in await TrustStore(engine).kill_switches() if s.value == service and s.engaged
        ]
