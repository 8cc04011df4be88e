"""Persistence: SQLModel tables, async engine (SQLite or PostgreSQL) and repositories."""

from sqlmodel import SQLModel

# Named constraints, so migrations can alter and drop them on SQLite too. The unique-constraint
# form is PostgreSQL's own default, so databases created before migrations keep their names.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "pk": "%(table_name)s_pkey",
}
