"""The agent worker: the only process a customer runs inside their network.

It polls its own task queue and executes commands. It holds no database, Slack or LLM
credentials; it needs only the Temporal address and its queue name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.commands import CommandRunner
from domain.audit.known_secrets import redactor_for
from infra.client import connect
from infra.telemetry import setup_logging, setup_tracing
from schemas.settings import Settings

log = logging.getLogger(__name__)


def _runner(settings: Settings) -> CommandRunner:
    """Output is redacted of the agent's own secrets too: its settings and environment are
    what a step inherits and can print (`env`), and they are read once, here."""
    return CommandRunner(
        max_output_bytes=settings.agent_max_output_bytes,
        redactor=redactor_for(settings, os.environ, settings.redact_patterns),
    )


def build_worker(client: Client, settings: Settings, runner: CommandRunner | None = None) -> Worker:
    runner = runner or _runner(settings)
    return Worker(
        client,
        task_queue=settings.agent_task_queue,
        activities=[runner.run_command],
        max_concurrent_activities=settings.agent_max_concurrent_commands,
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


async def run(settings: Settings) -> None:
    setup_logging()
    setup_tracing("ddrun-agent", settings.otel_exporter_otlp_endpoint)
    runner = _runner(settings)
    client = await connect(settings, identity=runner.identity)
    worker = build_worker(client, settings, runner)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("agent %s polling %s", runner.identity, settings.agent_task_queue)
    async with worker:
        await stop.wait()


def main() -> None:
    asyncio.run(run(Settings()))


if __name__ == "__main__":
    main()
