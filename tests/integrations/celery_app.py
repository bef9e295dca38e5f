"""A Celery app for the integration tests; its tasks log to RAN and release DONE."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import celery
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import setup_logging
from celery.worker import state

RAN: list[tuple[str, Any]] = []
#: Sums of ``airlock_add`` calls that ran in the calling process instead of on a worker.
INLINE: list[int] = []
DONE = threading.Semaphore(0)


def make_app(broker: str, backend: str) -> Any:
    """An app on ``broker`` with ``airlock_add`` (logs a+b and whether it had an eta)."""
    app = celery.Celery("airlock_tests", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        broker_transport_options={"polling_interval": 0.05},
    )

    @app.task(name="airlock_tests.add", bind=True, shared=False)
    def add(self: Any, a: int, b: int) -> int:
        RAN.append(("add", (a + b, self.request.eta is not None)))
        if self.request.called_directly:
            INLINE.append(a + b)
        DONE.release()
        return a + b

    @app.task(name="airlock_tests.check_committed", shared=False)
    def check_committed(name: str) -> None:
        from airlock_djangoapp.effects import record_committed

        record_committed(name)
        DONE.release()

    @app.task(name="airlock_tests.wake", shared=False, ignore_result=True)
    def wake() -> None:
        """Does nothing: its message wakes a worker polling an empty queue (see stop_soon)."""

    app.airlock_add = add
    app.airlock_wake = wake
    app.airlock_check_committed = check_committed
    return app


@setup_logging.connect
def _keep_logging_config(**kwargs: Any) -> None:
    """A receiver here stops Celery's worker from reconfiguring the root logger (level ERROR)."""


@contextmanager
def running_worker(app: Any) -> Iterator[Any]:
    """Celery's embedded test worker (a thread), leaving the process's logging as it was."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=5):
        logging.captureWarnings(False)  # start_worker turned it on; pytest reports warnings
        yield app


def stop_soon(app: Any, worker: Any) -> None:
    """Ask ``app``'s embedded ``worker`` to stop, and wake it so it stops now.

    On a polling broker (``memory://``) the worker's loop waits up to 2 s for a message, and
    runs one more such wait after it sees the stop request: two no-op messages end both waits
    at once. Its timer thread, idle, waits 1 s between looks at its stop flag: a no-op entry
    every 50 ms makes that 50 ms. (About 4 s saved at the end of a test run; start_worker
    still joins the thread.)
    """
    state.should_terminate = 0
    for _ in range(2):
        app.airlock_wake.delay()
    timer = worker.timer
    if timer.is_alive():  # a stopped timer would try to start its thread again and raise
        with contextlib.suppress(RuntimeError):  # (it may stop between the look and the call)
            timer.call_repeatedly(0.05, lambda: None)


def reset() -> None:
    RAN.clear()
    INLINE.clear()
    while DONE.acquire(blocking=False):
        pass


def wait_for(count: int, timeout: float = 10) -> None:
    for _ in range(count):
        assert DONE.acquire(timeout=timeout), f"the worker ran only {RAN}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server of our own on 127.0.0.1 (no persistence), its URL once it accepts
    connections (a client that connects earlier waits out kombu's 2 s retry interval); it is
    stopped at the end of the block. Skipped where redis-server is not installed (CI fails)."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install -y redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must install it")
        pytest.skip(message)
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
