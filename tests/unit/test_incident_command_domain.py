"""Issue 17's pure parts: the severity mapping, the war-room name, the status page (only
published updates) and the prefilled status update."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.severity import derive_severity, level_of
from domain.slack.channel_names import is_valid_channel_name, war_room_name
from domain.status_page import draft_update, status_page, status_page_html
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import IncidentState, IncidentStatus
from schemas.severity import Severity, SeverityPolicy
from schemas.status_updates import StatusUpdate, UpdatePhase

T0 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def _alert(severity: str = "unknown", **labels: str) -> Alert:
    return Alert(
        source=AlertSource.GENERIC,
        dedup_key="k",
        event_id="e",
        status=AlertStatus.FIRING,
        name="X",
        title="X",
        severity=severity,
        labels=labels,
        received_at=T0,
        payload_digest="0" * 64,
    )


def test_levels_come_from_labels_then_the_severity_word_then_the_default() -> None:
    policy = SeverityPolicy()
    assert derive_severity(_alert("critical"), policy) is Severity.P1
    assert derive_severity(_alert("Warning"), policy) is Severity.P2
    assert derive_severity(_alert("critical", priority="P0"), policy) is Severity.P0
    assert derive_severity(_alert("critical", priority="whatever"), policy) is Severity.P1
    assert derive_severity(_alert("nonsense"), policy) is Severity.P2  # the default
    custom = SeverityPolicy(default=Severity.P3, mapping={"page": Severity.P0})
    assert derive_severity(_alert("page"), custom) is Severity.P0
    assert derive_severity(_alert("critical"), custom) is Severity.P3  # not mapped here
    assert level_of(" p1 ", custom) is Severity.P1


def test_war_room_names_are_dated_slugs_slack_accepts() -> None:
    name = war_room_name(T0, "Checkout: 500s on /pay (EU)!")
    assert name == "incident-2026-12-03-checkout-500s-on-pay-eu"
    assert is_valid_channel_name(name)
    long = war_room_name(T0, "word " * 60)
    assert is_valid_channel_name(long)
    assert len(long) <= 80


def _state(**fields: object) -> IncidentState:
    values: dict[str, object] = {
        "id": "incident-generic-x",
        "status": IncidentStatus.MITIGATING,
        "service": "checkout",
        "severity": "critical",
        "title": "Checkout errors",
        "opened_at": T0,
        "severity_level": Severity.P1,
    }
    values.update(fields)
    return IncidentState.model_validate(values)


def _update(number: int, text: str, published: bool) -> StatusUpdate:
    return StatusUpdate(
        number=number,
        phase=UpdatePhase.MITIGATING,
        impact=text,
        posted_by="ann",
        at=T0,
        public=True,
        published_by="cy" if published else None,
        published_at=T0 if published else None,
    )


def test_the_status_page_shows_published_updates_only_and_escapes_them() -> None:
    shown = _state(status_updates=[_update(1, "<b>half</b> of payments fail", True)])
    hidden = _state(id="incident-generic-y", status_updates=[_update(1, "secret", False)])
    page = status_page([shown, hidden], ["website"], T0)
    assert [i["id"] for i in page["incidents"]] == ["incident-generic-x"]
    assert page["incidents"][0]["status"] == "Identified"  # mitigating, in standard phases
    assert {c["name"]: c["status"] for c in page["components"]} == {
        "checkout": "major_outage",
        "website": "operational",
    }
    text = status_page_html(page)
    assert "&lt;b&gt;half&lt;/b&gt;" in text
    assert "secret" not in text


def test_the_draft_is_prefilled_from_the_record() -> None:
    draft = draft_update(_state(match_reason="selector matched"))
    assert draft["phase"] == "mitigating"
    assert draft["impact"] == "P1 checkout: Checkout errors"
    assert draft["root_cause"] == "selector matched"
