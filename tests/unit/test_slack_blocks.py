"""Slack rendering is pure: what each message says, its buttons, and Slack's limits on any input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.slack import blocks, plan, posts
from domain.slack.actions import Action, decode
from domain.slack.channel_names import channel_name, is_valid_channel_name, with_suffix
from domain.slack.kit import Rendered
from domain.slack.mrkdwn import clip, clip_head, duration, escape, fence, person
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import (
    Approval,
    ApprovalRule,
    Divergence,
    Escalation,
    IncidentState,
    IncidentStatus,
    MatchCandidate,
    StepState,
    StepView,
    TimelineEntry,
)
from schemas.runbook import StepRisk
from schemas.trust import Mode

T0 = datetime(2026, 11, 22, 9, 12, tzinfo=UTC)


def alert(**changes: Any) -> Alert:
    base: dict[str, Any] = {
        "source": AlertSource.ALERTMANAGER,
        "dedup_key": "k1",
        "event_id": "e1",
        "status": AlertStatus.FIRING,
        "name": "PaymentSvcLatency",
        "title": "Payment latency above 2s",
        "description": "p99 latency <2s> & rising",
        "service": "payment-svc",
        "severity": "critical",
        "received_at": T0,
        "payload_digest": "0" * 64,
    }
    return Alert.model_validate(base | changes)


def step(sid: str, risk: StepRisk = StepRisk.SAFE, **changes: Any) -> StepView:
    base: dict[str, Any] = {
        "id": sid,
        "title": f"Step {sid}",
        "risk": risk,
        "command": f"echo {sid}",
        "card": f"{sid}-1",
    }
    return StepView.model_validate(base | changes)


def incident(**changes: Any) -> IncidentState:
    base: dict[str, Any] = {
        "id": "incident-alertmanager-PaymentSvcLatency-1a2b",
        "status": IncidentStatus.AWAITING_APPROVAL,
        "service": "payment-svc",
        "severity": "critical",
        "title": "Payment latency above 2s",
        "opened_at": T0,
        "alerts": [alert()],
        "runbook": "payment-latency",
        "runbook_title": "Payment latency",
        "runbook_version": 3,
        "match_reason": "selector alertname=PaymentSvcLatency",
        "match_confidence": 0.87,
        "match_method": "selector",
        "variables": {"namespace": "payments", "deployment": "payment-api"},
        "missing_variables": ["region"],
        "steps": [
            step("check", state=StepState.SUCCEEDED, exit_code=0, stdout="3 pods ready\n"),
            step(
                "restart",
                StepRisk.CAUTION,
                state=StepState.AWAITING_APPROVAL,
                rollback="kubectl rollout undo deploy/payment-api",
                instructions="Restarts clear the stuck connection pool.",
            ),
            step("scale", StepRisk.DANGEROUS),
        ],
    }
    return IncidentState.model_validate(base | changes)


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside a block list."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def buttons(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {o["action_id"]: o for o in walk(rendered.blocks) if o.get("type") == "button"}


def all_text(rendered: Rendered) -> str:
    return json.dumps(rendered.blocks, ensure_ascii=False)


def assert_within_slack_limits(rendered: Rendered) -> None:
    assert len(rendered.blocks) <= 50
    assert len(rendered.text) <= 40_000
    for block in rendered.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
            for f in block.get("fields", []):
                assert len(f["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
        assert len(block.get("block_id", "")) <= 255
    for b in buttons(rendered).values():
        assert len(b["value"]) <= 2000
        assert len(b["text"]["text"]) <= 75
    ids = [b["block_id"] for b in rendered.blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), "block ids must be unique within a message"


# -- header -------------------------------------------------------------------------------------


def test_header_shows_alert_match_variables_and_step_counts() -> None:
    state = incident()
    header = blocks.header_message(state)
    text = all_text(header)
    assert header.blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": ":rotating_light: [CRITICAL] Payment latency above 2s",
            "emoji": True,
        },
    }
    assert "p99 latency &lt;2s&gt; &amp; rising" in text  # escaped: Slack reads <...> as links
    assert "*Runbook* `payment-latency` v3 · Payment latency" in text
    assert "87% confidence · matched by selector" in text
    assert "`deployment` = `payment-api`" in text
    assert "*Missing:* `region`" in text
    assert "3 steps: 1 safe · 1 caution · 1 dangerous · 1 done" in text
    assert list(buttons(header)) == [
        Action.START_COPILOT,
        Action.VIEW_STEPS,
        Action.SKIP_RUNBOOK,
        Action.ACKNOWLEDGE,
        Action.PAUSE,
        Action.TAKE_OVER,
        Action.ABORT,
    ]
    for b in buttons(header).values():
        value = decode(b["value"])
        assert (value.incident, value.step, value.card) == (state.id, None, "")
    assert buttons(header)[Action.ABORT]["confirm"]["style"] == "danger"
    assert_within_slack_limits(header)


def test_header_without_a_runbook_lists_the_top_candidates() -> None:
    candidates = [
        MatchCandidate(runbook=f"rb-{i}", score=i / 10, reasons=[f"reason {i}"]) for i in range(5)
    ]
    state = incident(
        runbook=None,
        runbook_title=None,
        runbook_version=None,
        match_confidence=None,
        match_reason="best score 0.40 is below 0.45",
        match_candidates=candidates,
        steps=[],
    )
    text = all_text(blocks.header_message(state))
    assert "No runbook matched" in text
    assert "best score 0.40 is below 0.45" in text
    assert text.index("`rb-4` score 0.40: reason 4") < text.index("`rb-3`") < text.index("`rb-2`")
    assert "rb-1" not in text
    assert Action.START_COPILOT not in buttons(blocks.header_message(state))


def test_header_follows_acknowledge_pause_takeover_and_close() -> None:
    acked = incident(acknowledged_by="U07PRIYA01", acknowledged_at=T0 + timedelta(minutes=2))
    paused = incident(paused=True, mode=Mode.READ_ALONG)
    closed = incident(status=IncidentStatus.RESOLVED, outcome="alert cleared", closed_at=T0)
    assert Action.ACKNOWLEDGE not in buttons(blocks.header_message(acked))
    assert "<@U07PRIYA01>" in all_text(blocks.header_message(acked))
    paused_buttons = buttons(blocks.header_message(paused))
    assert Action.RESUME in paused_buttons
    assert Action.PAUSE not in paused_buttons
    assert Action.TAKE_OVER not in paused_buttons  # already read-along
    assert "awaiting approval (paused)" in all_text(blocks.header_message(paused))
    assert buttons(blocks.header_message(closed)) == {}
    assert blocks.header_message(closed).blocks[0]["text"]["text"].startswith(":white_check_mark:")


def test_topic_is_severity_status_service_within_250() -> None:
    assert blocks.topic(incident()) == "[CRITICAL] awaiting approval · payment-svc"
    long = incident(service="s" * 400)
    assert len(blocks.topic(long)) == 250


# -- step cards ---------------------------------------------------------------------------------


def test_waiting_card_offers_approve_edit_skip_and_controls_with_card_values() -> None:
    state = incident()
    restart = state.steps[1]
    card = blocks.step_card(state, restart)
    text = all_text(card)
    assert "*Step 2 of 3 · Step restart*" in text
    assert ":large_yellow_circle: caution · :raised_hand: waiting for approval" in text
    assert "```echo restart```" in text
    assert "Restarts clear the stuck connection pool." in text
    assert "```kubectl rollout undo deploy/payment-api```" in text
    found = buttons(card)
    assert list(found) == [
        Action.APPROVE,
        Action.EDIT,
        Action.SKIP_STEP,
        Action.PAUSE,
        Action.TAKE_OVER,
        Action.ABORT,
    ]
    for b in found.values():
        value = decode(b["value"])
        assert (value.incident, value.step, value.card) == (state.id, "restart", "restart-1")
    assert_within_slack_limits(card)


def test_finished_card_has_no_step_buttons_and_closed_card_none_at_all() -> None:
    state = incident()
    done = blocks.step_card(state, state.steps[0])
    assert list(buttons(done)) == [Action.PAUSE, Action.TAKE_OVER, Action.ABORT]
    assert "*Output* (exit 0)" in all_text(done)
    closed = incident(status=IncidentStatus.ROLLED_BACK)
    assert buttons(blocks.step_card(closed, closed.steps[1])) == {}


def test_card_lists_every_approval_and_the_rule() -> None:
    at = T0 + timedelta(minutes=5)
    waiting = step(
        "scale",
        StepRisk.DANGEROUS,
        state=StepState.AWAITING_APPROVAL,
        approvals=[Approval(approver="U07MARCUS02", approver_name="Marcus Chen", at=at)],
        approval_rule=ApprovalRule(approvals=2, commander_required=True),
    )
    text = all_text(blocks.step_card(incident(steps=[waiting]), waiting))
    assert "Approved by <@U07MARCUS02> (Marcus Chen) <!date^" in text
    assert "Needs 2 approvals, one of them the incident commander · 1 so far" in text
    ran = step(
        "scale",
        StepRisk.DANGEROUS,
        state=StepState.SUCCEEDED,
        approvals=[
            Approval(approver="U07MARCUS02", at=at),
            Approval(approver="alice", channel="cli", at=at),
        ],
        edited_from="kubectl scale --replicas=10",
        edited_by="U07PRIYA01",
    )
    text = all_text(blocks.step_card(incident(steps=[ran]), ran))
    assert "<@U07MARCUS02>" in text
    assert "*alice*" in text
    assert "Needs" not in text
    assert "*Command* (edited)" in text
    assert "Edited by <@U07PRIYA01>; the runbook said `kubectl scale --replicas=10`" in text


def test_long_output_is_cut_on_the_card_and_whole_in_the_thread() -> None:
    output = "".join(f"line {i}\n" for i in range(2000))
    ran = step("logs", state=StepState.SUCCEEDED, exit_code=0, stdout=output, stderr="warn\n")
    card = blocks.step_card(incident(steps=[ran]), ran)
    text = all_text(card)
    assert "line 1999" in text
    assert "line 5\\n" not in text
    assert "full output is in the thread" in text
    assert blocks.needs_thread(ran)
    thread = blocks.output_thread(ran)
    assert thread.blocks == []
    assert "line 0\nline 1\n" in thread.text
    assert "line 1999\n--- stderr ---\nwarn```" in thread.text
    short = step("ok", state=StepState.SUCCEEDED, exit_code=0, stdout="fine\n")
    assert not blocks.needs_thread(short)


def test_huge_inputs_stay_within_every_slack_limit() -> None:
    huge = "x<&>" * 20_000
    many = [
        step(
            f"s{i:03d}" + "z" * 90,
            StepRisk.DANGEROUS,
            title=huge,
            command=huge,
            rollback=huge,
            instructions=huge,
            state=StepState.FAILED,
            exit_code=1,
            stdout=huge,
            stderr=huge,
            error=huge,
            note=huge,
            card="c" * 100,
            approvals=[Approval(approver=f"U0{i:07d}", approver_name=huge[:200], at=T0)],
            edited_from=huge,
            edited_by="alice",
        )
        for i in range(60)
    ]
    state = incident(
        id="i" * 300,
        title=huge,
        service=huge,
        severity=huge,
        steps=many,
        variables={f"v{i}": huge for i in range(40)},
        missing_variables=[huge],
        divergences=[
            Divergence(step_id=s.id, kind="edited", actor="alice", detail=huge, at=T0) for s in many
        ],
        escalations=[
            Escalation(incident_id="i", level=i, target=huge, reason=huge, at=T0) for i in range(60)
        ],
        timeline=[TimelineEntry(at=T0, kind="escalated", message=huge, actor="U07MARCUS02")],
        status=IncidentStatus.AWAITING_APPROVAL,
    )
    rendered = [
        blocks.header_message(state),
        *(blocks.step_card(state, s) for s in many[:3]),
        posts.summary_message(state.model_copy(update={"status": IncidentStatus.ABORTED})),
    ]
    event = posts.event_post(state, state.timeline[0])
    assert event is not None
    for message in [*rendered, event]:
        assert_within_slack_limits(message)
    summary = rendered[-1]
    assert len(summary.blocks) == 50
    assert "more blocks not shown" in json.dumps(summary.blocks[-1])
    assert len(blocks.output_thread(many[0]).text) <= 40_000


def test_escaping_and_clipping_never_split_an_entity() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    for n in range(1, 30):
        cut = clip(escape("&" * 40), n)
        assert len(cut) <= n
        assert cut.rstrip("…").endswith(";") or cut.rstrip("…") == ""
        tail = clip_head(escape("<" * 40), n)
        assert len(tail) <= n
        assert tail.lstrip("…").startswith("&") or tail.lstrip("…") == ""
    assert fence("```nested```", 100) == "````\u200b``nested`\u200b`````"
    assert len(fence("y" * 10_000, 500, keep="tail")) <= 500
    assert person("U07MARCUS02", "Marcus") == "<@U07MARCUS02> (Marcus)"
    assert person("alice") == "*alice*"
    assert person("<!channel>") == "*&lt;!channel&gt;*"  # no @channel pings from a name


def test_ids_too_long_for_a_button_value_give_a_card_without_buttons() -> None:
    long_step = step("s" * 300, state=StepState.AWAITING_APPROVAL, stdout="x\n" * 2000)
    state = incident(steps=[long_step])
    card = blocks.step_card(state, long_step)
    assert buttons(card) == {}
    assert blocks.NO_BUTTONS in all_text(card)
    assert_within_slack_limits(card)
    assert Action.PAUSE in buttons(blocks.header_message(state))  # the incident's own id fits
    keys = [m.key for m in plan.messages_for(state)]
    assert all(len(k) <= 200 for k in keys)
    assert len(set(keys)) == len(keys)


def test_plan_orders_header_cards_threads_posts_then_summary() -> None:
    ran = step("logs", state=StepState.SUCCEEDED, exit_code=0, stdout="x\n" * 2000)
    state = incident(
        status=IncidentStatus.RESOLVED,
        steps=[ran, step("next", state=StepState.SKIPPED), step("later")],
        timeline=[
            TimelineEntry(at=T0, kind="opened", message="o"),
            TimelineEntry(at=T0, kind="escalated", message="e"),
            TimelineEntry(at=T0, kind="step_succeeded", message="s"),
            TimelineEntry(at=T0, kind="closed", message="c"),
        ],
    )
    planned = plan.messages_for(state)
    assert [(m.key, m.thread_of, m.pin) for m in planned] == [
        ("header", None, True),
        ("step:logs", None, False),
        ("thread:logs", "step:logs", False),
        ("step:next", None, False),
        ("event:1", None, False),
        ("event:3", None, False),
        ("summary", None, False),
    ]


# -- posts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "posted"),
    [
        ("escalated", True),
        ("acknowledged", True),
        ("paused", True),
        ("resumed", True),
        ("mode", True),
        ("kill_switch_engaged", True),
        ("kill_switch_lifted", True),
        ("alert_resolved", True),
        ("related_alert", True),
        ("reopened", True),
        ("closed", True),
        ("status", True),
        ("divergence_edited", True),
        ("opened", False),
        ("runbook_matched", False),
        ("approval_requested", False),
        ("step_succeeded", False),
        ("slack_unavailable", False),
    ],
)
def test_which_timeline_entries_are_posted(kind: str, posted: bool) -> None:
    entry = TimelineEntry(at=T0, kind=kind, message="why", actor="U07PRIYA01")
    post = posts.event_post(incident(), entry)
    assert (post is not None) is posted
    if post is not None:
        assert "by <@U07PRIYA01>: why" in all_text(post)
        assert buttons(post) == {}


def test_summary_gives_mttr_what_ran_approvals_divergences_and_outcome() -> None:
    at = T0 + timedelta(minutes=4)
    state = incident(
        status=IncidentStatus.RESOLVED,
        outcome="every step done; alert cleared",
        acknowledged_by="U07PRIYA01",
        acknowledged_at=T0 + timedelta(minutes=3, seconds=30),
        closed_at=T0 + timedelta(hours=1, minutes=2, seconds=3),
        steps=[
            step("check", state=StepState.SUCCEEDED, exit_code=0),
            step(
                "restart",
                StepRisk.CAUTION,
                state=StepState.SUCCEEDED,
                exit_code=0,
                approvals=[
                    Approval(approver="U07MARCUS02", at=at),
                    Approval(approver="U07PRIYA01", at=at),
                ],
            ),
            step("scale", StepRisk.DANGEROUS, state=StepState.SKIPPED),
            step("verify"),
        ],
        divergences=[
            Divergence(step_id="scale", kind="skipped", actor="U07MARCUS02", detail="n/a", at=at)
        ],
        escalations=[
            Escalation(
                incident_id="i",
                level=0,
                target="primary-oncall",
                reason="no ack",
                at=at,
                paged=True,
            )
        ],
    )
    summary = posts.summary_message(state)
    text = all_text(summary)
    assert summary.text.startswith("Resolved after 1h 02m 03s")
    assert "*MTTR*\\n1h 02m 03s" in text
    assert "*MTTA*\\n3m 30s" in text
    assert "*Outcome:* every step done; alert cleared" in text
    assert ":white_check_mark: `restart` Step restart: succeeded, exit 0" in text
    assert ":fast_forward: `scale` Step scale: skipped" in text
    assert ":white_circle: `verify` Step verify: not reached" in text
    assert "`restart`: <@U07MARCUS02>, <@U07PRIYA01>" in text
    assert "`scale` skipped by <@U07MARCUS02>: n/a" in text
    assert "level 1 → primary-oncall" in text
    assert "(paged)" in text
    assert buttons(summary) == {}


def test_duration_reads_like_a_person_would_say_it() -> None:
    assert duration(timedelta(seconds=12)) == "12s"
    assert duration(timedelta(minutes=4, seconds=5)) == "4m 05s"
    assert duration(timedelta(hours=1, minutes=2, seconds=3)) == "1h 02m 03s"
    assert duration(timedelta(days=2, hours=3)) == "2d 03h 00m"
    assert duration(timedelta(seconds=-5)) == "0s"


def test_rendering_is_deterministic() -> None:
    assert blocks.header_message(incident()).digest() == blocks.header_message(incident()).digest()
    changed = incident(paused=True)
    assert blocks.header_message(changed).digest() != blocks.header_message(incident()).digest()


# -- channel names ------------------------------------------------------------------------------


def test_channel_name_reads_like_the_example() -> None:
    assert (
        channel_name("inc", T0, "payment-svc", "PaymentSvcLatency")
        == "inc-20261122-payment-svc-latency"
    )
    assert (
        channel_name("inc", T0, "checkout", "KubePodCrashLooping")
        == "inc-20261122-checkout-kube-pod-crash-looping"
    )
    assert channel_name("INC", T0, "unknown", "Disk full") == "inc-20261122-disk-full"
    assert channel_name("", T0, "", "") == "20261122"


@pytest.mark.parametrize(
    ("service", "subject"),
    [
        ("Zahlungs-Dienst Ä/Ö", "Überlast: 99% CPU!!"),
        ("a" * 200, "b" * 200),
        ("svc", "x" * 500),
        ("__--__", "🔥🔥🔥"),
        ("billing", "HTTPServerErrors5xx on /api/v1"),
    ],
)
def test_channel_names_are_always_valid(service: str, subject: str) -> None:
    name = channel_name("inc", T0, service, subject)
    assert is_valid_channel_name(name), name
    for attempt in range(4):
        suffixed = with_suffix(name, "incident-1", attempt)
        assert is_valid_channel_name(suffixed), suffixed
    assert len({with_suffix(name, "incident-1", a) for a in range(4)}) == 4


def test_suffix_is_stable_per_incident() -> None:
    base = "inc-20261122-payment-svc-latency"
    assert with_suffix(base, "a", 1) == with_suffix(base, "a", 1)
    assert with_suffix(base, "a", 1) != with_suffix(base, "b", 1)
    assert with_suffix(base, "a", 0) == base
