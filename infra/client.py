"""The one way every process (workers, API, CLI, tests) connects to Temporal.

Same data converter (pydantic) and the same tracing interceptor everywhere, so payloads decode
identically and a trace runs from the webhook through the workflow to each step on the agent.
"""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RetryConfig

from infra.codec import EncryptionCodec
from schemas.settings import Settings

#: Webhook senders want an answer within seconds (PagerDuty: 5 s): give up on an unreachable
#: server after ~3 s and answer 503, so the source retries instead of timing out.
FAIL_FAST = RetryConfig(
    initial_interval_millis=100, max_interval_millis=1000, max_elapsed_time_millis=3000
)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic JSON payloads, encrypted when DDRUN_PAYLOAD_KEY is set."""
    if settings.payload_key is None:
        return pydantic_data_converter
    codec = EncryptionCodec.from_setting(settings.payload_key.get_secret_value())
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


async def connect(
    settings: Settings, identity: str | None = None, retry_config: RetryConfig | None = None
) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        interceptors=[TracingInterceptor()],
        identity=identity,
        retry_config=retry_config,
    )
