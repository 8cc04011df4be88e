"""Incident-command inputs: change the severity (with a reason), close as a false positive
(with a reason kept for tuning), or link to the parent incident this one duplicates. Like every
human input, a validator refuses before anything reaches history; the handler records."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.incident_ids import looks_like_incident_id
    from schemas.incident import HumanAction
    from schemas.roles import IncidentRole, RoleChange, RoleRecord
    from schemas.severity import FalsePositive, ParentLink, SeverityChange, SeverityRecord
    from workflows.incident.core import Incident


class IncidentCommand:
    def __init__(self, incident: Incident) -> None:
        self._i = incident

    def change_severity(self, change: SeverityChange) -> str:
        i = self._i
        before = i.state.severity_level
        i.state.severity_level = change.severity
        i.state.severity_changes.append(
            SeverityRecord(
                before=before,
                after=change.severity,
                reason=change.reason,
                actor=change.actor,
                at=workflow.now(),
            )
        )
        i.engage(change.actor)
        was = before.value if before else "none"
        i.rec.timeline(
            "severity", f"{was} → {change.severity.value}: {change.reason}", change.actor
        )
        return f"severity {change.severity.value} set by {change.actor}"

    def validate_change_severity(self, change: SeverityChange) -> None:
        i = self._i
        i.refuse_if_closed()
        if not change.reason.strip():
            raise ValueError("a change of severity needs a reason")
        if i.state.severity_level is change.severity:
            raise ValueError(f"incident {i.state.id} is already {change.severity.value}")

    def mark_false_positive(self, action: HumanAction) -> str:
        i = self._i
        i.state.false_positive = FalsePositive(
            reason=action.reason, actor=action.actor, at=workflow.now()
        )
        i.rec.timeline("false_positive", action.reason, action.actor)
        i.resolution = HumanAction(
            actor=action.actor,
            reason=f"false positive: {action.reason}",
            channel=action.channel,
            authenticated_by=action.authenticated_by,
        )
        return f"marked a false positive by {action.actor}"

    def validate_mark_false_positive(self, action: HumanAction) -> None:
        self._refuse_closing()
        if not action.reason.strip():
            raise ValueError("a false positive needs a reason (it is kept to tune the alert)")

    def link_parent(self, link: ParentLink) -> str:
        i = self._i
        i.state.parent_incident = link.parent_id
        why = f": {link.reason}" if link.reason else ""
        i.rec.timeline("linked_to_parent", f"{link.parent_id}{why}", link.actor)
        i.resolution = HumanAction(
            actor=link.actor,
            reason=f"duplicate of {link.parent_id}{why}",
            channel=link.channel,
            authenticated_by=link.authenticated_by,
        )
        return f"linked to {link.parent_id} by {link.actor}"

    def validate_link_parent(self, link: ParentLink) -> None:
        self._refuse_closing()
        if link.parent_id == self._i.state.id:
            raise ValueError("an incident cannot be its own parent")
        if not looks_like_incident_id(link.parent_id):
            raise ValueError(f"{link.parent_id!r} is not an incident id")

    # ------------------------------------------------------------------------- roles

    def holder(self, role: IncidentRole) -> str | None:
        st = self._i.state
        return {
            IncidentRole.COMMANDER: st.commander,
            IncidentRole.COMMS_LEAD: st.comms_lead,
            IncidentRole.SCRIBE: st.scribe,
        }.get(role)

    def record_role(
        self, role: IncidentRole, person: str | None, before: str | None, actor: str | None
    ) -> None:
        self._i.state.role_changes.append(
            RoleRecord(role=role, person=person, before=before, actor=actor, at=workflow.now())
        )

    def assign_role(self, change: RoleChange) -> str:
        i = self._i
        st = i.state
        role, person = change.role, change.person
        before = self.holder(role)
        if role is IncidentRole.RESPONDER:
            if change.remove:
                st.responders.remove(person)
            else:
                st.responders.append(person)
        elif role is IncidentRole.COMMANDER:
            st.commander = person
        elif role is IncidentRole.COMMS_LEAD:
            st.comms_lead = None if change.remove else person
        else:
            st.scribe = None if change.remove else person
        now = None if change.remove else person
        self.record_role(role, now, before, change.actor)
        i.engage(change.actor)
        words = role.value.replace("_", " ")
        said = f"{person} is no longer {words}" if change.remove else f"{person} is {words}"
        i.rec.timeline(
            "commander" if role is IncidentRole.COMMANDER else "role", said, change.actor
        )
        return said

    def validate_assign_role(self, change: RoleChange) -> None:
        i = self._i
        i.refuse_if_closed()
        st = i.state
        role, person = change.role, change.person
        if role is IncidentRole.RESPONDER:
            if change.remove and person not in st.responders:
                raise ValueError(f"{person} is not a responder")
            if not change.remove and person in st.responders:
                raise ValueError(f"{person} is already a responder")
            return
        if change.remove:
            if role is IncidentRole.COMMANDER:
                raise ValueError("the incident always has a commander: hand it over instead")
            if self.holder(role) != person:
                raise ValueError(f"{person} is not {role.value}")
        elif self.holder(role) == person:
            raise ValueError(f"{person} is already {role.value}")

    def _refuse_closing(self) -> None:
        i = self._i
        i.refuse_if_closed()
        if i.resolution is not None:
            raise ValueError(f"already resolved by {i.resolution.actor}")
        pending = i.pending_decision()
        if pending is not None:
            raise ValueError(f"cannot close while {pending}")
