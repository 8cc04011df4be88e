"""Run a stand-in ASGI app on a real socket, plus the fault plumbing the stand-ins share.

Why a real socket: the product's clients (slack_sdk on aiohttp/urllib, httpx) must be exercised
end to end, including timeouts, retries on 429/5xx and connection errors, which an in-memory
transport would skip. The server binds 127.0.0.1:0 (a free port, no clashes between parallel test
runs) and runs either inside the test's own event loop (`async with StandinServer(app)`) or in a
background thread with its own loop (`with StandinServer(app)`) so synchronous clients such as
`slack_sdk.WebClient` do not deadlock the loop serving them.

`stop()` followed by `start()` re-binds the *same* port, which gives tests a genuine "connection
refused" window (Slack or PagerDuty unreachable) rather than an HTTP error.

uvicorn normally installs SIGINT/SIGTERM handlers when started from the main thread; the subclass
below skips that so Ctrl-C still interrupts pytest.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Protocol, Self, runtime_checkable

import uvicorn
from starlette.types import ASGIApp

FaultKind = Literal["ratelimited", "http_status", "error", "timeout"]


@runtime_checkable
class UrlAware(Protocol):
    """An app that wants to know its public base URL (to mint response_url links)."""

    def bind_url(self, url: str) -> None: ...


@runtime_checkable
class Releasable(Protocol):
    """An app whose handlers may be parked in a long sleep (the `timeout` fault)."""

    def release_waiters(self) -> None: ...

    def rearm_waiters(self) -> None: ...


@dataclass
class Fault:
    """One injected failure: which method ("*" = any), what kind, how many more times.

    `times=None` keeps firing until cleared. `delay` is how long a `timeout` fault withholds the
    answer; with `process=True` the call still takes effect first (the request reached the vendor
    but the answer was lost), which is the case that exposes non-idempotent retries.
    """

    method: str
    kind: FaultKind
    times: int | None = 1
    retry_after: int = 1
    status: int = 503
    error: str = "fatal_error"
    delay: float = 10.0
    process: bool = True
    fired: int = 0

    def matches(self, method: str) -> bool:
        exhausted = self.times is not None and self.fired >= self.times
        return not exhausted and self.method in ("*", method)


@dataclass
class FaultBook:
    """Ordered injected faults; the first live match fires and is counted."""

    faults: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method):
                fault.fired += 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()


class WaitGate:
    """A sleep that ends early when the stand-in shuts down (thread-safe, loop-agnostic)."""

    def __init__(self) -> None:
        self._released = threading.Event()

    async def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._released.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(0.05, remaining))

    def release(self) -> None:
        self._released.set()

    def rearm(self) -> None:
        self._released.clear()


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class StandinServer:
    """uvicorn on 127.0.0.1 for one ASGI app; `url` is e.g. `http://127.0.0.1:40123`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        graceful_timeout: float = 2.0,
    ) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._graceful_timeout = graceful_timeout
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("server not started yet")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- in the current event loop ---------------------------------------------------------

    async def start(self) -> str:
        """Bind (the same port again after a stop) and serve until `stop()`; returns the URL."""
        if self.running:
            raise RuntimeError("already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.listen(128)
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        app: object = self.app
        if isinstance(app, UrlAware):
            app.bind_url(self.url)
        if isinstance(app, Releasable):
            app.rearm_waiters()
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            http="h11",
            timeout_graceful_shutdown=int(self._graceful_timeout) or 1,
        )
        server = _QuietServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                sock.close()
                self._task.result()
                raise RuntimeError("stand-in server exited during startup")
            await asyncio.sleep(0.005)
        return self.url

    async def stop(self) -> None:
        """Close the listener and every connection; the port then refuses connections."""
        if self._server is None or self._task is None:
            return
        app: object = self.app
        if isinstance(app, Releasable):
            app.release_waiters()
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._server = None
            self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- in a background thread ------------------------------------------------------------

    def start_in_thread(self) -> str:
        """Serve from a daemon thread with its own loop (for synchronous clients)."""
        if self._thread is not None:
            raise RuntimeError("already running in a thread")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="standin-server", daemon=True)
        thread.start()
        self._thread, self._thread_loop = thread, loop
        try:
            return asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=15)
        except BaseException:
            self.stop_thread()
            raise

    def pause(self) -> None:
        """Thread mode: stop listening (connection refused) but keep the thread for `resume()`."""
        asyncio.run_coroutine_threadsafe(self.stop(), self._require_loop()).result(timeout=15)

    def resume(self) -> None:
        """Thread mode: listen again on the same port."""
        asyncio.run_coroutine_threadsafe(self.start(), self._require_loop()).result(timeout=15)

    def stop_thread(self) -> None:
        loop, thread = self._thread_loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
            loop.close()
            self._thread, self._thread_loop = None, None

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._thread_loop is None:
            raise RuntimeError("not running in a thread; use start()/stop() from the loop")
        return self._thread_loop

    def __enter__(self) -> Self:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_thread()
