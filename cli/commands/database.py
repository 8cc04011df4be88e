"""`ddrun db upgrade|current`: the Alembic migrations of db/migrations against the configured
database (DDRUN_DATABASE_URL, default SQLite under DDRUN_DATA_DIR). `ddrun dev` and every
process upgrade at start; a production install runs `ddrun db upgrade` before a rollout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
db_app = typer.Typer(help="The database schema: migrations", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (default: the newest)")] = "head",
) -> None:
    """Migrate the database up to REVISION (idempotent; safe while other processes start)."""
    from db import schema

    async def upgrade(engine: AsyncEngine) -> tuple[str | None, str | None]:
        before = await schema.current(engine)
        await schema.upgrade(engine, revision)
        return before, await schema.current(engine)

    before, after = _with_engine(upgrade)
    if before == after:
        typer.echo(f"database already at {after}")
    else:
        typer.echo(f"database upgraded from {before or 'nothing'} to {after}")


@db_app.command("current")
def db_current() -> None:
    """The revision the database is at and the newest the code knows; exit 1 when behind."""
    from db import schema

    at = _with_engine(schema.current)
    head = schema.head()
    state = "up to date" if at == head else "behind: run `ddrun db upgrade`"
    typer.echo(f"database at {at or 'nothing (never migrated)'}; newest {head} ({state})")
    if at != head:
        raise typer.Exit(1)


def _with_engine(fn: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Open the configured database, run `fn`, close it; an unreachable server or a bad URL is
    one line naming DDRUN_DATABASE_URL."""
    import asyncio

    from cli.failures import database_down, database_errors
    from db.engine import make_engine
    from schemas.settings import Settings

    url = Settings().effective_database_url

    async def go() -> T:
        try:
            engine = make_engine(url)
        except database_errors() as err:
            raise database_down(url, err) from None
        try:
            return await fn(engine)
        except database_errors() as err:
            raise database_down(url, err) from None
        finally:
            await engine.dispose()

    return asyncio.run(go())


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
