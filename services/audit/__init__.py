"""Compliance evidence: the audit timeline derived from Temporal histories, and its exports."""
