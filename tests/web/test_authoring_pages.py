"""Authoring pages over HTTP: paste & parse a real corpus runbook, save it, edit it (a lowered
risk needs a reason, recorded with who), version diffs, library filters, import, mappings with
a payload test and suggestions, and the dashboard's charts."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from db.web import WebStore
from schemas.identity import Role
from tests.harness import corpus_payload, generic_alert, running_stack, unique
from tests.support import CORPUS, assert_eventually
from tests.web.support import sign_in

pytestmark = pytest.mark.temporal

RUNBOOK = CORPUS / "openshift-runbooks/openshift-virtualization-operator/NoLeadingVirtController.md"


async def test_paste_parse_save_edit_and_history(client: Client, engine: AsyncEngine) -> None:
    async with running_stack(client, engine, with_agent=False, web_cookie_secure=False) as stack:
        author = await sign_in(stack, unique("wauth-"), (Role.AUTHOR,))
        viewer = await sign_in(stack, unique("wrdr-"), (Role.VIEWER,))
        text = RUNBOOK.read_text()

        assert (await viewer.get("/web/parse")).status_code == 403  # authors paste
        page = await author.get("/web/parse")
        assert 'hx-post="/web/parse/preview"' in page.text

        preview = await author.post("/web/parse/preview", {"text": text})
        assert preview.status_code == 200
        body = preview.text
        assert body.count('class="pstep') == 15
        assert '<span class="risk r-dangerous"' in body
        assert "oc -n {{ namespace }} delete lease virt-controller" in body
        assert "rollback: <code>oc rollout undo deployment virt-controller" in body
        assert "oc CLI logged in to the OpenShift cluster" in body  # prerequisite
        assert "<code>virt_controller</code>" in body  # variable
        assert "no alert label fills" in body  # ambiguity on its step …
        marked = re.findall(r'<span class="line marked"[^>]*><i>(\d+)</i>([^<]*)', body)
        assert any("virt_controller" in line or "describe pod" in line for _, line in marked)
        empty = await author.post("/web/parse/preview", {"text": "  "})
        assert "appears here" in empty.text

        rb_id = unique("web-nlvc-")
        saved = await author.post("/web/parse/save", {"text": text, "name": rb_id})
        assert saved.status_code == 200, saved.text
        assert saved.headers["HX-Redirect"] == f"/web/runbooks/{rb_id}"
        runbook = await stack.runbooks.get(rb_id)
        assert runbook is not None
        assert len(runbook.steps) == 15
        first = (await WebStore(engine).edits(rb_id))[1]
        assert (first.actor, first.summary) == (author.handle, "pasted and parsed")
        assert first.authenticated_by.startswith("web-session ")

        editor = await author.get(f"/web/runbooks/{rb_id}")
        assert editor.status_code == 200
        assert 'name="steps-8-risk"' in editor.text
        form = editor_form(editor.text)
        # mitigation-1 deletes a lease: dangerous. Lowering it to safe without a reason: refused.
        index = next(i for i, s in enumerate(runbook.steps) if s.id == "mitigation-1")
        form[f"steps-{index}-risk"] = "safe"
        form[f"steps-{index}-rollback"] = "echo nothing-to-undo"
        form["summary"] = "lease step reviewed"
        refused = await author.http.post(
            f"/web/runbooks/{rb_id}", data={**form, "csrf": author.csrf}
        )
        assert refused.status_code == 422
        assert "needs a reason" in refused.text
        assert (await stack.runbooks.get(rb_id)).version == 1  # type: ignore[union-attr]

        form[f"steps-{index}-risk_reason"] = "the lease is recreated by the controller"
        # A new step in the blank row, and a variable.
        blank = len(runbook.steps)
        form[f"steps-{blank}-id"] = "verify"
        form[f"steps-{blank}-title"] = "Verify the leader"
        form[f"steps-{blank}-command"] = "oc -n {{ namespace }} get lease virt-controller"
        form[f"steps-{blank}-risk"] = "safe"
        form[f"steps-{blank}-breakpoint"] = "1"
        done = await author.http.post(f"/web/runbooks/{rb_id}", data={**form, "csrf": author.csrf})
        assert done.status_code == 303, done.text
        v2 = await stack.runbooks.get(rb_id)
        assert v2 is not None
        assert v2.version == 2
        lowered = next(s for s in v2.steps if s.id == "mitigation-1")
        assert lowered.risk.value == "safe"
        assert lowered.rollback == "echo nothing-to-undo"
        assert lowered.risk_reasons[0].startswith("lowered from dangerous")
        added = v2.steps[-1]
        assert (added.id, added.breakpoint) == ("verify", True)

        edits = await WebStore(engine).edits(rb_id)
        assert edits[2].actor == author.handle
        assert edits[2].overrides[0].reason == "the lease is recreated by the controller"
        history = await viewer.get(f"/web/runbooks/{rb_id}")
        assert f"v2 · {author.handle}" in history.text
        assert "lowered from dangerous to safe" in history.text
        assert '<span class="add">+  title: Verify the leader</span>' in history.text
        assert "lease step reviewed" in history.text
        # A viewer sees the editor read-only and cannot save.
        assert "<fieldset disabled" in history.text
        no = await viewer.http.post(f"/web/runbooks/{rb_id}", data={**form, "csrf": viewer.csrf})
        assert no.status_code == 403
        for b in (author, viewer):
            await b.aclose()


def editor_form(page: str) -> dict[str, str]:
    """The editor's fields as the browser would send them (text inputs, selects, checkboxes)."""
    import html

    form: dict[str, str] = {}
    for name, value in re.findall(r'<input name="([^"]+)" value="([^"]*)"', page):
        form[name] = html.unescape(value)
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page):
        form[name] = html.unescape(value)
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        form[name] = html.unescape(value).replace("\n", "\r\n")  # as a browser sends it
    for name, options in re.findall(r'<select name="([^"]+)">(.*?)</select>', page, re.S):
        chosen = re.search(r"<option selected>([^<]+)</option>", options)
        if chosen:
            form[name] = chosen.group(1)
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" value="1" checked>', page):
        form[name] = "1"
    form.pop("csrf", None)
    return form


async def test_library_import_mappings_and_dashboard(
    client: Client, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with running_stack(
        client, engine, web_cookie_secure=False, web_history_wait_s=60
    ) as stack:
        admin = await sign_in(stack, unique("wadmin-"), (Role.ADMIN,))
        author = await sign_in(stack, unique("wau2-"), (Role.AUTHOR,))
        tag = unique("lib")
        service = f"{tag}-svc"
        name = unique("WebLib")
        await stack.add_runbook(
            {
                "id": f"{tag}-restart",
                "title": f"{tag} restart",
                "services": [service],
                "selectors": [{"alertname": name, "labels": {"team": f"{tag}-team"}}],
                "steps": [{"id": "r", "title": "R", "command": "echo restart", "risk": "safe"}],
            }
        )
        await stack.add_runbook(
            {
                "id": f"{tag}-wipe",
                "title": f"{tag} wipe",
                "selectors": [{"alertname": unique("Other")}],
                "steps": [
                    {"id": "w", "title": "W", "command": "rm -rf /var/x", "risk": "dangerous"}
                ],
            }
        )
        # One real incident for the effectiveness column and the dashboard.
        incident = (
            await stack.post_generic(
                generic_alert(
                    name, severity="warning", service=service, labels={"team": f"{tag}-team"}
                )
            )
        ).json()["incident_id"]
        await assert_eventually(
            lambda: stack.state(incident), lambda s: s.status.is_closed, what="resolved"
        )

        lib = await author.get("/web/runbooks", params={"q": tag})
        assert f"{tag}-restart" in lib.text
        assert f"{tag}-wipe" in lib.text
        by_service = await author.get("/web/runbooks", params={"q": tag, "service": service})
        assert f"{tag}-restart" in by_service.text
        assert f"{tag}-wipe" not in by_service.text
        by_team = await author.get("/web/runbooks", params={"team": f"{tag}-team"})
        assert f"{tag}-restart" in by_team.text
        assert f"{tag}-wipe" not in by_team.text
        risky = await author.get("/web/runbooks", params={"q": tag, "risk": "dangerous"})
        assert f"{tag}-wipe" in risky.text
        assert f"{tag}-restart" not in risky.text
        stale = await author.get("/web/runbooks", params={"q": tag, "staleness": "stale"})
        assert f"{tag}-restart" not in stale.text
        fragment = await author.get(
            "/web/runbooks", params={"q": tag}, headers={"HX-Request": "true"}
        )
        assert "<html" not in fragment.text
        await stack.http._transport.app.state.web_history.refresh()  # type: ignore[attr-defined]
        effective = await author.get(
            "/web/runbooks", params={"q": tag, "effectiveness": "effective"}
        )
        assert f"{tag}-restart" in effective.text
        unused = await author.get("/web/runbooks", params={"q": tag, "effectiveness": "unused"})
        assert f"{tag}-wipe" in unused.text
        assert f"{tag}-restart" not in unused.text

        # Import: an uploaded Markdown file, a zip export, a server folder, a git repository.
        md = (
            CORPUS / "prometheus-operator-runbooks/kubernetes/KubePodCrashLooping.md"
        ).read_bytes()
        up = await author.http.post(
            "/web/runbooks/-/import/upload",
            data={"csrf": author.csrf},
            files={"file": (f"{tag}-crashloop.md", md, "text/markdown")},
        )
        assert up.status_code == 303, up.text
        assert await stack.runbooks.get(f"{tag}-crashloop") is not None
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr(f"space/{tag}-zipped.md", md)
            z.writestr("../escape.md", md)
        zipped = await author.http.post(
            "/web/runbooks/-/import/upload",
            data={"csrf": author.csrf},
            files={"file": ("export.zip", archive.getvalue(), "application/zip")},
        )
        assert zipped.status_code == 200, zipped.text
        assert "space/" in zipped.text
        assert "escape" not in zipped.text
        folder = tmp_path / "rbs"
        folder.mkdir()
        (folder / f"{tag}-folder.md").write_bytes(md)
        not_admin = await author.post("/web/runbooks/-/import/folder", {"folder": str(folder)})
        assert not_admin.status_code == 403
        imported = await admin.http.post(
            "/web/runbooks/-/import/folder", data={"csrf": admin.csrf, "folder": str(folder)}
        )
        assert f"{tag}-folder" in imported.text
        by_admin = (await WebStore(engine).edits(f"{tag}-folder"))[1]
        assert by_admin.actor == admin.handle
        assert str(folder) in by_admin.summary
        repo = tmp_path / "repo"
        repo.mkdir()
        (repo / f"{tag}-git.md").write_bytes(md)
        for args in (
            ["init", "-q"],
            ["add", "."],
            ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        ):
            subprocess.run(["git", *args], cwd=repo, check=True)
        cloned = await admin.http.post(
            "/web/runbooks/-/import/git", data={"csrf": admin.csrf, "url": f"file://{repo}"}
        )
        assert f"{tag}-git" in cloned.text, cloned.text
        bad = await admin.http.post(
            "/web/runbooks/-/import/git", data={"csrf": admin.csrf, "url": "ext::sh -c x"}
        )
        assert "not a git URL" in bad.text

        # Mappings: add one, test a real corpus payload against it, remove it.
        alertname = unique("WebMap")
        added = await author.post(
            "/web/mappings", {"alertname": alertname, "runbook": f"{tag}-wipe", "note": "t"}
        )
        assert added.status_code == 200, added.text
        page = await author.get("/web/mappings")
        assert alertname in page.text
        payload = json.dumps(
            corpus_payload("15-default-payments-KubePodCrashLooping-firing.json", alertname)
        )
        tested = await author.post("/web/mappings/test", {"payload": payload})
        assert f'<b class="chosen">{tag}-wipe</b>' in tested.text
        assert "by <b>mapping</b>" in tested.text
        broken = await author.post("/web/mappings/test", {"payload": "{not json"})
        assert "not valid JSON" in broken.text
        bad_rb = await author.post("/web/mappings", {"alertname": "X", "runbook": unique("no-")})
        assert bad_rb.status_code == 422
        mapping_id = re.search(r"Mapping #(\d+) added", added.text)
        assert mapping_id
        removed = await author.post(f"/web/mappings/{mapping_id.group(1)}/delete")
        assert removed.status_code == 200
        suggestions = await author.get("/web/mappings/suggestions")
        assert suggestions.status_code == 200
        # Matched by the runbook's own selector: a mapping would repeat it, so not suggested.
        assert name not in suggestions.text

        # The dashboard: real history, charts as inline SVG.
        dash = await author.get("/web/dashboard")
        assert dash.status_code == 200
        assert dash.text.count("<svg") >= 7
        assert "L1 / L2 / L3 split" in dash.text
        assert re.search(r'id="kpi-incidents">(\d+)<', dash.text)
        for b in (admin, author):
            await b.aclose()
