"""Pydantic contracts for everything that crosses a process, wire or workflow boundary; no I/O."""
