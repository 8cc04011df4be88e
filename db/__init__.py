"""Persistence: SQLModel tables, async engine (SQLite or PostgreSQL) and repositories."""
