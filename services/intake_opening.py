"""What a new incident opens with, read in the alert's intake claim (one transaction).

Two reads used to come before and after the claim, each its own database call on the way
from an alert to its first step:

* **the opening**: the runbook's trust mode and the engaged kill switches, which decide the
  mode the incident starts in (`domain.trust.start_mode`). The webhook read them in a call of
  their own (about a millisecond, a fifth of the API's own time before Temporal is called);
* **the first automatic step's check**: right before an automatic step the workflow reads the
  kill switches and takes a blast-radius slot (workflows/incident/gate.py). For a new incident
  whose first step runs on its own that was a local activity in its first workflow task.

The intake claim is already a transaction on the same database, so both are read there and
travel in the workflow's input, the freshest reads there can be before the start. The workflow
counts the check only while it is fresh and reads again otherwise (a start that waited in the
intake queue, or behind a burst).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from db.trust import TrustStore
from domain.trust import opens_on_its_own, slot_scopes, start_mode
from schemas.incident import IncidentInput
from schemas.trust import IntakeCheck


def with_opening(conn: Connection, trust: TrustStore, incident: IncidentInput) -> IncidentInput:
    """`incident` with the mode its runbook's trust and the kill switches give it, read in
    `conn`."""
    selected = incident.selected
    runbook_id = selected.runbook.id if selected is not None and selected.runbook else None
    switches, runbook_trust = trust.opening(conn, runbook_id)
    mode, reason = start_mode(runbook_trust, switches, incident.alert.service, runbook_id)
    return incident.model_copy(
        update={"mode": mode, "mode_reason": reason, "kill_switches": switches}
    )


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
