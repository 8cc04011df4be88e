"""Which failures of a delivery the intake retries (services/intake.passing): an outage is
waited out, a request that would fail again is kept as failed with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from temporalio.service import RPCError, RPCStatusCode

from services.intake import PERMANENT, passing


@pytest.mark.parametrize(
    "status",
    [
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.INTERNAL,
    ],
)
def test_temporal_away_or_overloaded_is_retried(status: RPCStatusCode) -> None:
    assert passing(RPCError("away", status, b""))


@pytest.mark.parametrize("status", sorted(PERMANENT, key=int))
def test_temporal_refusing_the_request_is_not(status: RPCStatusCode) -> None:
    assert not passing(RPCError("refused", status, b""))


def test_the_network_and_the_database_pass_a_bug_does_not() -> None:
    assert passing(ConnectionRefusedError())
    assert passing(TimeoutError())
    assert passing(OperationalError("INSERT", {}, Exception("database is locked")))
    assert not passing(ValueError("cannot encode"))
    assert not passing(TypeError("not serialisable"))
