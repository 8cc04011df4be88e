"""HTTP API: alert webhooks and the incident/runbook endpoints."""
