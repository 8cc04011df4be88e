"""The first admin of a fresh installation: made in the database directly (the one thing the
CLI does without the API, since no credential exists yet); `ddrun dev` keeps their token in its
data folder so the CLI works with no login step."""

from __future__ import annotations

import os
from pathlib import Path

from cli.api_client import DEV_TOKEN_FILE
from schemas.identity import PersonIn, Role, Scope
from schemas.settings import Settings


async def bootstrap_admin(
    settings: Settings, handle: str = "admin", *, write_file: bool = True
) -> str | None:
    """A token for a new first admin when the installation has no admin yet, else None.

    With `write_file`, the token is also kept in `<data dir>/admin.token` (mode 0600), where
    the CLI finds it for a loopback API: `ddrun dev` works with no login step.
    """
    from db.engine import create_schema, make_engine
    from db.people import PeopleStore

    engine = make_engine(settings.effective_database_url)
    try:
        await create_schema(engine)
        people = PeopleStore(engine)
        if await people.count_admins():
            return None
        if await people.get(handle) is None:
            await people.add(PersonIn(handle=handle, name="First admin", roles=[Role.ADMIN]))
        issued = await people.issue_token(
            handle,
            name="first admin (bootstrap)",
            scopes=list(Scope),
            expires_in=None,
            created_by=handle,
        )
    finally:
        await engine.dispose()
    if write_file:
        write_dev_token(settings.data_dir, issued.token)
    return issued.token


def write_dev_token(data_dir: Path, token: str) -> Path:
    path = data_dir / DEV_TOKEN_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    return path
