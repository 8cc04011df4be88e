"""Alerts: normalising each source into one Alert, and choosing the runbook for it."""
