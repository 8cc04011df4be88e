"""Explicit alert → runbook mappings (being written)."""
