"""Times as senders write them, range-checked so that nothing later overflows.

Python parses `9999-12-31T23:59:59-23:59` and `0001-01-01T00:00:00+01:00`, but converting either
to UTC (what every comparison and every duration does) raises OverflowError, a 500 deep in the
request. Such a time is refused at validation, naming the field (422); Go's zero time in UTC,
which Alertmanager and Grafana send for "not set", stays valid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

# Epoch integers as Opsgenie sends them, bounded by datetime's range (year 1970 to 9999).
MAX_EPOCH_MS = 253_402_300_799_999
MAX_EPOCH_NS = MAX_EPOCH_MS * 1_000_000


def _convertible(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError as err:
            raise ValueError(f"{value.isoformat()} is outside the representable range") from err
    return value


WireTime = Annotated[datetime, AfterValidator(_convertible)]
EpochMs = Annotated[int, Field(ge=0, le=MAX_EPOCH_MS)]
EpochNs = Annotated[int, Field(ge=0, le=MAX_EPOCH_NS)]
