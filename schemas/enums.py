"""The closed vocabularies a command line offers as choices, as plain enums without pydantic.

`ddrun --help` builds every command's parameters, so the enums it names must import in
microseconds; the pydantic models in `schemas.trust`, `schemas.identity` and `schemas.alert`
re-export them from here.
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """read-along: nothing executes; copilot: safe steps run; autopilot: safe and caution run."""

    READ_ALONG = "read-along"
    COPILOT = "copilot"
    AUTOPILOT = "autopilot"


class Role(StrEnum):
    """What a person is to the product; a person may hold several."""

    VIEWER = "viewer"
    RESPONDER = "responder"
    AUTHOR = "author"
    ADMIN = "admin"


class Scope(StrEnum):
    """What a credential may do. A token's scopes never exceed its person's roles."""

    READ = "read"  # list and read incidents, runbooks, mappings, exports
    RESPOND = "respond"  # act on incidents: approve, abort, ack, pause, kill switch
    AUTHOR = "author"  # write runbooks and alert mappings
    ADMIN = "admin"  # people, tokens, runbook promotion to autopilot


class AlertSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    GENERIC = "generic"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    GRAFANA = "grafana"
