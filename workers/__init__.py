"""Worker processes: the orchestrator (workflows + control plane) and the agent (commands only)."""
