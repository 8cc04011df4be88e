"""Slack: what the bot posts (blocks, channel names) and what a click means (actions)."""
