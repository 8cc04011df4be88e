"""A person declares an incident (no alert fired), or links a duplicate to its parent.

A declared incident is an alert like any other (source `generic`, a dedup key of its own, the
declaring person as a label), started through the same path as a webhook's alert, with the level
the person chose: the same workflow, timers and channel, and the declaration in its history.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import Client

from db.incident_claims import IncidentClaimStore
from schemas.alert import Alert, AlertSource, AlertStatus
from schemas.incident import AlertAccepted
from schemas.settings import Settings
from schemas.severity import ParentLink, Severity
from services import incidents as incident_client

_SLUG = re.compile(r"[^a-z0-9]+")


class Declaration(BaseModel):
    """What a person declares: the level, a title, and the service if known."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity
    title: str = Field(min_length=1, max_length=400)
    service: str | None = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)


def slug(text: str, limit: int = 40) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-") or "incident"


def declared_alert(declaration: Declaration, actor: str, request_key: str | None = None) -> Alert:
    """The declaration as an alert. A retried request (same `request_key` from the same person)
    makes the same dedup key, so it reaches the incident the first one opened."""
    now = datetime.now(UTC)
    body = declaration.model_dump_json().encode()
    unique_part = (
        hashlib.sha256(f"{actor}\n{request_key}".encode()).hexdigest()[:10]
        if request_key
        else uuid.uuid4().hex[:10]
    )
    key = f"declared-{slug(declaration.title)}-{unique_part}"
    return Alert(
        source=AlertSource.GENERIC,
        dedup_key=key,
        event_id=uuid.uuid4().hex,
        status=AlertStatus.FIRING,
        name="declared",
        title=declaration.title,
        description=declaration.description,
        service=declaration.service or "unknown",
        severity=declaration.severity.value,
        labels={"severity": declaration.severity.value, "declared_by": actor},
        received_at=now,
        payload_digest=hashlib.sha256(body).hexdigest(),
    )


async def declare(
    client: Client,
    settings: Settings,
    claims: IncidentClaimStore,
    declaration: Declaration,
    actor: str,
    request_key: str | None = None,
) -> AlertAccepted:
    """Open the incident; `actor` is the authenticated person (never a name from a body)."""
    alert = declared_alert(declaration, actor, request_key)
    return await incident_client.deliver_alert(
        client,
        settings,
        alert,
        severity=declaration.severity,
        declared_by=actor,
        claims=claims,
    )


async def link_to_parent(
    client: Client, incident_id: str, link: ParentLink, request_id: str | None = None
) -> str:
    """Close `incident_id` as a duplicate, then hand its alerts to the running parent, which
    keeps them as related alerts (their later resolve reaches the parent by its alert keys)."""
    parent = await incident_client.get_state(client, link.parent_id)
    if parent.status.is_closed:
        raise incident_client.IncidentClosedError(
            f"parent incident {link.parent_id} is {parent.status.value}"
        )
    child = await incident_client.get_state(client, incident_id)
    result = await incident_client.act(client, incident_id, "link_parent", link, request_id)
    handle = client.get_workflow_handle(link.parent_id)
    fired = [a for a in child.alerts if "declared_by" not in a.labels]  # declared never resolve
    if fired:
        await handle.signal("alerts_received", fired)
    return result
