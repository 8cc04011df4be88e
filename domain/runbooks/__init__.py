"""Runbooks written for people (Markdown, prose) turned into structured, risk-rated steps."""

from domain.runbooks.ambiguities import Ambiguity
from domain.runbooks.errors import RunbookParseError
from domain.runbooks.parse import ParseResult, parse_runbook, runbook_id_from
from domain.runbooks.risk import RiskAssessment, classify

__all__ = [
    "Ambiguity",
    "ParseResult",
    "RiskAssessment",
    "RunbookParseError",
    "classify",
    "parse_runbook",
    "runbook_id_from",
]
