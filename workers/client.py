"""The one way every process (workers, API, CLI, tests) connects to Temporal.

Same data converter (pydantic) and the same tracing interceptor everywhere, so payloads decode
identically and a trace runs from the webhook through the workflow to each step on the agent.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from schemas.settings import Settings


async def connect(settings: Settings, identity: str | None = None) -> Client:
    kwargs = {"identity": identity} if identity else {}
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor()],
        **kwargs,  # type: ignore[arg-type]
    )
