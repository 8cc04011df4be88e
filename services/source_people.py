"""People an alert source names, mapped to dd0c/run persons by their source user id
(`pagerduty_user_id`, `opsgenie_user_id` or the Opsgenie user's e-mail): the PagerDuty
incident's assignee is the on-call person, so the incident commander by default, and whoever
acknowledged or resolved the alert at the source is recorded by their handle. A source user
nobody mapped keeps their display name in the record and is never given a role: a name is not
an identity."""

from __future__ import annotations

import logging

from db.people import PeopleStore
from schemas.alert import Alert, AlertSource
from schemas.identity import Person

log = logging.getLogger(__name__)


#: Longest source user id or e-mail worth looking up (the people table's column widths).
_MAX_KEY = 200


def _key(value: str | None) -> str | None:
    """A source's user id or e-mail as a lookup key, or None when it cannot be one: from a
    signed but still outside payload, so a NUL or control character (which PostgreSQL refuses)
    or an oversized value simply matches nobody."""
    if not value or len(value) > _MAX_KEY or not value.isprintable():
        return None
    return value


def _active(person: Person | None) -> Person | None:
    return None if person is None or person.disabled else person


async def on_call_of(people: PeopleStore, alert: Alert) -> str | None:
    """The handle of the first PagerDuty assignee who is a dd0c/run person, or None."""
    if alert.source is not AlertSource.PAGERDUTY:
        return None
    ids = [k for i in alert.annotations.get("assignee_ids", "").split(",") if (k := _key(i))]
    for user_id in ids:
        person = _active(await people.by_pagerduty_user(user_id))
        if person is not None:
            return person.handle
    if ids:
        log.info(
            "PagerDuty assignee %s of %s is not a dd0c/run person (set pagerduty_user_id): "
            "no commander from the source",
            alert.annotations.get("assignees", ids[0]),
            alert.dedup_key,
        )
    return None


async def _actor(people: PeopleStore, alert: Alert) -> Person | None:
    key = {AlertSource.PAGERDUTY: "actor_id", AlertSource.OPSGENIE: "opsgenie_actor_id"}
    user_id = _key(alert.annotations.get(key.get(alert.source, "")))
    if user_id is None:
        return None
    if alert.source is AlertSource.PAGERDUTY:
        return _active(await people.by_pagerduty_user(user_id))
    return _active(await people.by_opsgenie_user(user_id, _key(alert.actor)))


async def with_actor_mapped(people: PeopleStore, alert: Alert) -> Alert:
    """The alert with its actor (who acknowledged or resolved it at the source) as a handle
    when that source user is a dd0c/run person."""
    if alert.actor is None:
        return alert
    person = await _actor(people, alert)
    return alert if person is None else alert.model_copy(update={"actor": person.handle})
