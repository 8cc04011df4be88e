"""Alerts are redacted before they reach workflow history: a token in an annotation must not
become part of the permanent audit trail."""

from __future__ import annotations

from domain.audit.redact import Redactor
from schemas.alert import Alert


def redact_alert(alert: Alert, redactor: Redactor) -> Alert:
    return alert.model_copy(
        update={
            "title": redactor.redact(alert.title),
            "description": redactor.redact(alert.description),
            "labels": redactor.redact_obj(alert.labels),
            "annotations": redactor.redact_obj(alert.annotations),
        }
    )
