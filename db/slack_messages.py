"""Slack channel and message ids per incident (being written)."""
