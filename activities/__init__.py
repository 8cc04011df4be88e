"""Temporal activities: all I/O (commands on the agent, database, paging) happens here."""
