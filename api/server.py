"""Serving the HTTP API: uvicorn, one or more worker processes, one Temporal client each.

`serve(host, port)` is what `ddrun api` runs. With `DDRUN_API_WORKERS` > 1 uvicorn forks that
many processes sharing the listening socket (the kernel spreads connections); each builds the
app with `app_factory`, so each has exactly one Temporal client (one gRPC channel, multiplexed
by every request) and one database pool, opened by the app's lifespan, never per request. The
webhook gate (`api/admission.py`) counts per process.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.auth import check_bind
from infra.parent_death import parent_death_signal
from infra.telemetry import setup_logging, setup_tracing
from schemas.settings import Settings

#: Seconds an idle keep-alive connection stays open: a sender posting a burst reuses its
#: connections instead of paying a TCP handshake per alert (uvicorn's default is 5).
KEEP_ALIVE_S = 30


def die_with_supervisor() -> None:
    """In a uvicorn worker process: be killed when the supervising parent dies.

    uvicorn's workers outlive a SIGKILLed parent, keep its listening socket and go on serving,
    so a restarted API could not bind its port. Killed rather than terminated: what they had
    accepted is in the intake queue, which the next process takes over.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # one process: `ddrun api` itself
        return
    arm = parent_death_signal(signal.SIGKILL)
    if arm is None:
        return
    if arm() != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent.pid:  # it died before the line above
        os.kill(os.getpid(), signal.SIGKILL)


def app_factory() -> FastAPI:
    """The app one worker process serves, with its settings read from the environment."""
    die_with_supervisor()
    settings = Settings()
    setup_logging()
    setup_tracing("ddrun-api", settings.otel_exporter_otlp_endpoint)
    return create_app(settings)


def serve(host: str, port: int, workers: int | None = None) -> None:
    """Run the API until stopped; `workers` defaults to `DDRUN_API_WORKERS` (2 on two cores).

    An insecure bind (no auth, not loopback) raises `InsecureBindError` before anything
    listens.
    """
    # The worker processes read their settings from the environment: the same address.
    os.environ["DDRUN_API_HOST"], os.environ["DDRUN_API_PORT"] = host, str(port)
    settings = Settings()
    check_bind(settings)
    count = workers if workers is not None else settings.api_workers
    uvicorn.run(
        "api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=count if count > 1 else None,
        log_config=None,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
