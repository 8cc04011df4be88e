"""The first automatic step's check, taken with the alert's intake claim.

Right before an automatic step the workflow reads the kill switches and takes a blast-radius
slot (workflows/incident/gate.py). For a new incident whose first step runs on its own that
read was a local activity in its first workflow task, about a fifth of an alert's way to its
first step. The intake claim is already a transaction on the same database, so the same check
is taken there and travels in the workflow's input: the workflow counts it only while it is
fresh, and reads again otherwise (a start that waited in the intake queue, or behind a burst).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from db.trust import TrustStore
from domain.trust import opens_on_its_own, slot_scopes
from schemas.incident import IncidentInput
from schemas.trust import IntakeCheck


def with_intake_check(
    conn: Connection, trust: TrustStore, incident: IncidentInput, fresh_s: float
) -> IncidentInput:
    """`incident` with the check taken in `conn`, when its first step will run on its own."""
    selected = incident.selected
    if (
        incident.dry_run
        or incident.continued is not None
        or selected is None
        or selected.runbook is None
        or not opens_on_its_own(selected, incident.mode)
    ):
        return incident
    scopes = slot_scopes(selected.runbook.id, incident.alert.service)
    switches, granted, _ = trust.check_within(
        conn, incident.incident_id, scopes, incident.blast_radius, datetime.now(UTC), sweep=False
    )
    check = IntakeCheck(
        checked_at=datetime.now(UTC),
        fresh_s=fresh_s,
        kill_switches=switches,
        slot=granted and incident.blast_radius > 0,
    )
    return incident.model_copy(update={"intake_check": check})
