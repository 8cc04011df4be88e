"""Password pages (a person changes their own, proving the current one; an admin sets someone
else's) and the editor's trust mode (authors lower or raise between read-along and copilot,
only an admin promotes to autopilot; every change kept with the person)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.web import WebStore
from schemas.identity import Role
from tests.harness import running_stack, unique
from tests.web.support import PASSWORD, new_client, sign_in

pytestmark = pytest.mark.temporal

NEW = "a much longer new passphrase"


async def test_password_change_and_admin_set(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        person = await sign_in(stack, unique("wpw-"))
        admin = await sign_in(stack, unique("wpwadm-"), (Role.ADMIN,))
        store = WebStore(engine)

        page = await person.get("/web/account")
        assert page.status_code == 200
        assert 'id="password-form"' in page.text
        form = {"current_password": PASSWORD, "new_password": NEW, "repeat_password": NEW}
        # No CSRF token: refused, nothing changed.
        bare = await new_client(stack).post("/web/account/password", data=form)
        assert bare.status_code in (401, 403)
        forged = await person.http.post(
            "/web/account/password", data=form, headers={"X-CSRF-Token": "forged"}
        )
        assert forged.status_code == 403
        wrong = await person.post("/web/account/password", {**form, "current_password": "nope"})
        assert wrong.status_code == 403
        assert "current password is wrong" in wrong.text
        short = await person.post(
            "/web/account/password",
            {"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"},
        )
        assert short.status_code == 400
        assert "at least 12 characters" in short.text
        differ = await person.post("/web/account/password", {**form, "repeat_password": NEW + "x"})
        assert differ.status_code == 400
        assert await store.check_password(person.handle, PASSWORD)

        done = await person.post("/web/account/password", form)
        assert done.status_code == 200, done.text
        assert "Password changed." in done.text
        assert await store.check_password(person.handle, NEW)
        assert not await store.check_password(person.handle, PASSWORD)
        hashed = await _hash_of(engine, person.handle)
        assert hashed.startswith("$argon2id$")

        # The admin page: a responder may not see it; an admin sets the person's password.
        assert (await person.get("/web/people")).status_code == 403
        people = await admin.get("/web/people")
        assert people.status_code == 200
        assert person.handle in people.text
        refused = await person.post(
            f"/web/people/{admin.handle}/password", {"new_password": "x" * 20}
        )
        assert refused.status_code == 403
        assert await store.check_password(admin.handle, PASSWORD)
        reset = "reset by the admin 2026"
        set_it = await admin.post(f"/web/people/{person.handle}/password", {"new_password": reset})
        assert set_it.status_code == 200, set_it.text
        assert f"set by {admin.handle}" in set_it.text
        assert await store.check_password(person.handle, reset)
        assert await _changed_by(engine, person.handle) == admin.handle
        own = await admin.post(f"/web/people/{admin.handle}/password", {"new_password": reset})
        assert own.status_code == 400  # their own: the Account page, with the current password
        for b in (person, admin):
            await b.aclose()


async def _hash_of(engine: AsyncEngine, handle: str) -> str:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from db.web import WebPasswordRecord

    async with AsyncSession(engine) as session:
        record = await session.get(WebPasswordRecord, handle)
    assert record is not None
    return record.password_hash


async def _changed_by(engine: AsyncEngine, handle: str) -> str:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from db.web import WebPasswordRecord

    async with AsyncSession(engine) as session:
        record = await session.get(WebPasswordRecord, handle)
    assert record is not None
    return record.changed_by


async def test_trust_mode_from_the_editor(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        author = await sign_in(stack, unique("wtrau-"), (Role.AUTHOR,))
        admin = await sign_in(stack, unique("wtradm-"), (Role.ADMIN,))
        viewer = await sign_in(stack, unique("wtrvw-"), (Role.VIEWER,))
        rb_id = unique("wtrust-")
        await stack.add_runbook(
            {
                "id": rb_id,
                "title": "Trust from the editor",
                "selectors": [{"alertname": unique("WebTrust")}],
                "steps": [
                    {"id": "look", "title": "Look", "command": "echo look", "risk": "safe"},
                    {"id": "fix", "title": "Fix", "command": "echo fix", "risk": "caution"},
                    {"id": "call", "title": "Call the vendor", "manual": True},
                ],
            }
        )
        page = await author.get(f"/web/runbooks/{rb_id}")
        assert 'id="trust-mode">copilot<' in page.text
        assert "Under copilot: <b>runs on its own</b>" in page.text  # the safe step
        assert 'id="needs-fix"><small>Under copilot: <b>waits for one approval' in page.text

        # An author lowers it to read-along, with a reason: recorded with them.
        lowered = await author.post(
            f"/web/runbooks/{rb_id}/trust", {"mode": "read-along", "reason": "new on-call team"}
        )
        assert lowered.status_code == 200, lowered.text
        assert lowered.headers["HX-Redirect"].startswith(f"/web/runbooks/{rb_id}")
        trust = await stack.http.get(
            f"/api/runbooks/{rb_id}/trust", headers=await stack.person(unique("wtrr-"))
        )
        view = trust.json()
        assert view["trust"]["mode"] == "read-along"
        assert view["history"][-1]["actor"] == author.handle
        assert view["history"][-1]["reason"] == "new on-call team"
        page = await author.get(f"/web/runbooks/{rb_id}")
        assert 'id="needs-look"><small>Under read-along: <b>a human performs it' in page.text
        assert f"by {author.handle}: “new on-call team”" in page.text

        # Raising back to copilot is an author's too; autopilot is an admin's only.
        raised = await author.post(f"/web/runbooks/{rb_id}/trust", {"mode": "copilot"})
        assert raised.status_code == 200
        promote = await author.post(
            f"/web/runbooks/{rb_id}/trust", {"mode": "autopilot", "reason": "ready"}
        )
        assert promote.status_code == 403
        assert "needs the &#39;admin&#39; scope" in promote.text
        viewer_try = await viewer.post(f"/web/runbooks/{rb_id}/trust", {"mode": "read-along"})
        assert viewer_try.status_code == 403
        promoted = await admin.post(
            f"/web/runbooks/{rb_id}/trust", {"mode": "autopilot", "reason": "90 clean runs"}
        )
        assert promoted.status_code == 200, promoted.text
        view = (
            await stack.http.get(
                f"/api/runbooks/{rb_id}/trust", headers=await stack.person(unique("wtrr-"))
            )
        ).json()
        assert view["trust"]["mode"] == "autopilot"
        assert [c["kind"] for c in view["history"]][-3:] == ["set", "set", "promoted"]
        assert view["history"][-1]["actor"] == admin.handle
        page = await viewer.get(f"/web/runbooks/{rb_id}")
        assert 'id="needs-fix"><small>Under autopilot: <b>runs on its own' in page.text
        assert 'id="needs-call"><small>Under autopilot: <b>a human performs it' in page.text
        assert 'id="trust-form"' not in page.text  # a viewer reads it, cannot change it
        for b in (author, admin, viewer):
            await b.aclose()
