"""Deterministic Temporal workflows: orchestration only, every side effect is an activity."""
