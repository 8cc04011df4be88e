"""Slack's inbound side: signed requests (`routes`), their payloads, the button clicks and
modals (`actions`), slash commands (`commands`), the kill switch, and the replies Slack shows."""
