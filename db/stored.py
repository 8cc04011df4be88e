"""How values come back from either database: shared by the stores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import overload


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; every time stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def secret_digest(secret: str) -> str:
    """What is stored of a token or session secret: its sha256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
