"""Alembic environment: always handed an open connection by `db.schema` (never a URL)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import db.engine  # noqa: F401 - registers every table on SQLModel.metadata


def _render_item(kind: str, item: Any, _autogen: AutogenContext) -> str | Literal[False]:
    """New revisions spell SQLModel's AutoString as plain sa.String (same DDL, no sqlmodel)."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying the table
    compare_type=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
