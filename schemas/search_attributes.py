"""Typed search-attribute keys: how incidents are found in the Temporal UI and by `incidents list`.

The same names are registered from temporal-dev.yml; tests check that the two agree.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SERVICE = SearchAttributeKey.for_keyword("IncidentService")
SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
STATUS = SearchAttributeKey.for_keyword("IncidentStatus")
SOURCE = SearchAttributeKey.for_keyword("IncidentSource")
RUNBOOK_ID = SearchAttributeKey.for_keyword("RunbookId")
RUNBOOK_VERSION = SearchAttributeKey.for_int("RunbookVersion")
ESCALATED = SearchAttributeKey.for_bool("IncidentEscalated")
AUTOMATED = SearchAttributeKey.for_bool("IncidentAutomated")
MODE = SearchAttributeKey.for_keyword("IncidentMode")
CLEAN = SearchAttributeKey.for_bool("IncidentClean")
KIND = SearchAttributeKey.for_keyword("IncidentKind")
ALERT_KEYS = SearchAttributeKey.for_keyword_list("IncidentAlertKeys")

ALL = (
    SERVICE,
    SEVERITY,
    STATUS,
    SOURCE,
    RUNBOOK_ID,
    RUNBOOK_VERSION,
    ESCALATED,
    AUTOMATED,
    MODE,
    CLEAN,
    KIND,
    ALERT_KEYS,
)
