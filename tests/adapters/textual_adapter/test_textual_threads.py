"""Threads in an AirlockApp: thread workers and ``call_from_thread`` enqueue into the app's tick.

Every effect below runs on the app's thread, in one of the app's ticks (the FlushLog observer
sees it released by a tick), whatever thread asked for it; after shutdown, what still arrives
is dropped, counted and logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from contextvars import ContextVar
from typing import Any

import pytest
from textual import work
from textual.app import App
from textual.widgets import Static

import airlock
from airlock_textual import AirlockApp

from .conftest import FlushLog

ran_log: list[tuple[str, int]] = []


def ran(label: str) -> None:
    """The effect: records which thread ran it."""
    ran_log.append((label, threading.get_ident()))


async def wait_for(condition: Any, pilot: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.01)


class WorkerApp(AirlockApp, App[None]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.worker_threads: list[int] = []

    def on_mount(self) -> None:
        self.sync_worker()
        self.async_worker()

    @work(thread=True)
    def sync_worker(self) -> None:
        self.worker_threads.append(threading.get_ident())
        airlock.enqueue(ran, "enqueue in a thread worker")
        self.call_from_thread(airlock.enqueue, ran, "call_from_thread(airlock.enqueue)")
        for n in range(3):  # options work from threads too: one survives per tick
            airlock.enqueue(ran, f"keyed {n}", _key="keyed")

    @work(thread=True)
    async def async_worker(self) -> None:
        self.worker_threads.append(threading.get_ident())
        await asyncio.sleep(0)
        airlock.enqueue(ran, "enqueue in an async thread worker")


@pytest.fixture(autouse=True)
def _clear_ran() -> None:
    ran_log.clear()


async def test_thread_workers_enqueue_into_the_tick_and_effects_run_on_the_app_thread(
    flush_log: FlushLog,
) -> None:
    app = WorkerApp(airlock_observers=[flush_log])
    async with app.run_test() as pilot:
        await wait_for(lambda: len(ran_log) >= 4, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.return_code in (None, 0)  # no WorkerFailed, the app did not exit with 1
    labels = {label for label, _ in ran_log}
    assert labels >= {
        "enqueue in a thread worker",
        "call_from_thread(airlock.enqueue)",
        "enqueue in an async thread worker",
    }
    keyed = [label for label in labels if label.startswith("keyed")]
    assert keyed and len(keyed) <= 3 and "keyed 2" in keyed  # the last enqueued survives
    app_thread = threading.get_ident()
    assert all(thread == app_thread for _, thread in ran_log)
    assert all(thread != app_thread for thread in app.worker_threads)
    released = [name for flush in flush_log.flushes for name in flush]
    assert sum(1 for name in released if name.startswith("ran(")) == len(ran_log)


async def test_the_app_policy_filters_what_thread_workers_enqueue(flush_log: FlushLog) -> None:
    app = WorkerApp(airlock_policy=airlock.BlockTasks({"ran"}), airlock_observers=[flush_log])
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await wait_for(lambda: sum(s.dropped for s in flush_log.stats) >= 4, pilot)
    assert ran_log == []
    assert sum(s.dropped for s in flush_log.stats) >= 4  # 3 + the survivor of the keyed ones


class ScopedWorkerApp(AirlockApp, App[None]):
    def on_mount(self) -> None:
        self.worker()

    @work(thread=True)
    def worker(self) -> None:
        with airlock.scope():  # a nested scope in the thread: captured by the app's tick
            airlock.enqueue(ran, "scope in a thread worker")
        ran_log.append(("scope closed", threading.get_ident()))


async def test_a_scope_in_a_thread_worker_hands_its_effects_to_the_tick() -> None:
    app = ScopedWorkerApp()
    async with app.run_test() as pilot:
        await wait_for(lambda: len(ran_log) == 2, pilot)
    (closed, worker_thread), (label, ran_on) = ran_log
    assert (closed, label) == ("scope closed", "scope in a thread worker")
    assert worker_thread != threading.get_ident()
    assert ran_on == threading.get_ident()  # not on the worker thread


class PlainThreadApp(AirlockApp, App[None]):
    def on_mount(self) -> None:
        thread = threading.Thread(target=self.from_a_plain_thread, daemon=True)
        thread.start()

    def from_a_plain_thread(self) -> None:
        self.call_from_thread(airlock.enqueue, ran, "plain thread")


async def test_call_from_thread_enqueue_works_from_any_thread() -> None:
    app = PlainThreadApp()
    async with app.run_test() as pilot:
        await wait_for(lambda: ran_log, pilot)
    assert ran_log == [("plain thread", threading.get_ident())]


async def test_call_from_thread_keeps_returning_the_callbacks_result() -> None:
    app = PlainThreadApp()
    results: list[Any] = []

    async def doubled(n: int) -> int:
        await asyncio.sleep(0)
        return 2 * n

    async with app.run_test() as pilot:
        await wait_for(lambda: ran_log, pilot)
        # (Textual's own annotation of call_from_thread rejects a coroutine function)
        call = app.call_from_thread
        thread = threading.Thread(target=lambda: results.append(call(doubled, 21)))  # type: ignore[arg-type]
        thread.start()
        await wait_for(lambda: results, pilot)
        thread.join()
    assert results == [42]


class ToThreadApp(AirlockApp, App[None]):
    async def on_mount(self) -> None:
        def blocking_io() -> None:
            airlock.enqueue(ran, "asyncio.to_thread in a handler")

        await asyncio.to_thread(blocking_io)  # carries the handler's context (a copy)


async def test_asyncio_to_thread_in_a_handler_enqueues_into_the_handlers_scope() -> None:
    app = ToThreadApp()
    async with app.run_test() as pilot:
        await wait_for(lambda: ran_log, pilot)
    assert ran_log == [("asyncio.to_thread in a handler", threading.get_ident())]


marker: ContextVar[str] = ContextVar("marker", default="unset")


class ContextProbeApp(App[None]):
    """A plain Textual app: shows which context Textual gives thread workers and callbacks."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, str] = {}

    def on_mount(self) -> None:
        marker.set("handler")
        self.probe()

    @work(thread=True)
    def probe(self) -> None:
        self.seen["thread worker"] = marker.get()
        marker.set("worker thread")
        self.call_from_thread(lambda: self.seen.setdefault("call_from_thread", marker.get()))


async def test_what_context_textual_gives_threads() -> None:
    """Why the adapter hooks thread workers: their thread does not carry the handler's context
    (Textual runs them with ``run_in_executor``); a ``call_from_thread`` callback carries a
    copy of the calling thread's context. If this changes, ``_threads.py`` must follow."""
    app = ContextProbeApp()
    async with app.run_test() as pilot:
        await wait_for(lambda: len(app.seen) == 2, pilot)
    assert app.seen == {"thread worker": "unset", "call_from_thread": "worker thread"}


class LateWorkerApp(AirlockApp, App[None]):
    """A thread worker that outlives the app: it enqueues after the app has shut down."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.done = threading.Event()
        self.errors: list[BaseException] = []

    def on_mount(self) -> None:
        self.late()

    @work(thread=True, exit_on_error=False)
    def late(self) -> None:
        self.go.wait(5)
        try:
            airlock.enqueue(ran, "late enqueue")
            self.enqueue_from_thread(ran, "late enqueue_from_thread")
            airlock.enqueue(ran, "late keyed", _key="k")
        except BaseException as error:  # the rule: no exception reaches the worker
            self.errors.append(error)
        finally:
            self.done.set()


async def test_effects_after_shutdown_are_dropped_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = LateWorkerApp()
    async with app.run_test():
        pass
    with caplog.at_level(logging.WARNING, logger="airlock.textual"):
        app.go.set()
        assert await asyncio.to_thread(app.done.wait, 5)
    assert app.errors == []
    assert ran_log == []
    assert app.airlock_dropped_after_shutdown == 3
    warnings = [r for r in caplog.records if r.name == "airlock.textual"]
    assert len(warnings) == 1
    assert "LateWorkerApp has shut down" in warnings[0].getMessage()
    assert "app.airlock_dropped_after_shutdown" in warnings[0].getMessage()


class LateTaskApp(AirlockApp, App[None]):
    """A task started by a handler that enqueues after the app has shut down."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()
        self.late_task: asyncio.Task[None] | None = None

    def on_mount(self) -> None:
        self.late_task = asyncio.create_task(self.later())

    async def later(self) -> None:
        await self.go.wait()
        airlock.enqueue(ran, "late task")


async def test_a_task_that_outlives_the_app_is_dropped_too() -> None:
    app = LateTaskApp()
    async with app.run_test():
        pass
    assert app.late_task is not None
    app.go.set()
    await app.late_task  # no exception
    assert ran_log == []
    assert app.airlock_dropped_after_shutdown == 1


class BusyApp(AirlockApp, App[None]):
    """Two thread workers enqueue while the app keeps ticking (a timer enqueues too)."""

    AIRLOCK_MAX_TICK_MS = None
    PER_WORKER = 2000

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, list[int]] = {"a": [], "b": [], "timer": []}
        self.threads: set[int] = set()
        self.workers_done = 0

    def on_mount(self) -> None:
        self.set_interval(0.001, self.tick_work)
        self.producer("a")
        self.producer("b")

    def tick_work(self) -> None:
        airlock.enqueue(self.record, "timer", len(self.seen["timer"]))

    def record(self, source: str, n: int) -> None:
        self.seen[source].append(n)
        self.threads.add(threading.get_ident())

    @work(thread=True)
    def producer(self, source: str) -> None:
        for n in range(self.PER_WORKER):
            airlock.enqueue(self.record, source, n)
            if n % 500 == 0:
                self.call_from_thread(airlock.enqueue, self.record, source, -1)
        self.call_from_thread(self.finished)

    def finished(self) -> None:
        self.workers_done += 1


async def test_thread_workers_racing_the_ticks_lose_nothing_and_keep_their_order() -> None:
    """Every effect a worker enqueued runs exactly once, in the worker's order, on the app's
    thread, while the app's frames open and close around it."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # make the worker threads and the loop interleave finely
    try:
        app = BusyApp()
        async with app.run_test() as pilot:
            await wait_for(lambda: app.workers_done == 2, pilot)
            await pilot.pause(0.05)
    finally:
        sys.setswitchinterval(previous)
    assert app.workers_done == 2
    for source in ("a", "b"):
        numbered = [n for n in app.seen[source] if n >= 0]
        assert numbered == list(range(BusyApp.PER_WORKER)), f"{source}: lost or reordered"
        assert app.seen[source].count(-1) == BusyApp.PER_WORKER // 500
    assert app.threads == {threading.get_ident()}
    assert app.airlock_tick.frame > 2  # the workers' effects spread over several ticks


class BrokenUnmount(Static):
    def on_unmount(self) -> None:
        raise RuntimeError("widget unmount bug")


class SavesOnUnmount(Static):
    def on_unmount(self) -> None:
        airlock.enqueue(RAN.append, "save on unmount")


RAN: list[str] = []


class ShutdownCutShort(AirlockApp, App[None]):
    """A widget's Unmount handler raises: Textual ends the shutdown there, and the App's own
    Unmount handler (which closes the tick) never runs."""

    AIRLOCK_EXIT_GRACE = 0

    def compose(self) -> Any:
        yield SavesOnUnmount("saver")
        yield BrokenUnmount("broken")

    def on_key(self, event: Any) -> None:
        airlock.enqueue(RAN.append, f"key {event.key}")


async def test_a_shutdown_cut_short_still_closes_the_tick_when_run_test_ends() -> None:
    """Review: the tick stayed open, and an effect posted after the app exited ran."""
    RAN.clear()
    app = ShutdownCutShort()
    with pytest.raises(RuntimeError, match="widget unmount bug"):
        async with app.run_test() as pilot:
            await pilot.press("x")
            await pilot.pause()
    assert app.airlock_tick.is_closed and RAN == ["key x", "save on unmount"]
    app.enqueue_from_thread(RAN.append, "after exit")
    await asyncio.sleep(0.01)
    assert RAN == ["key x", "save on unmount"] and app.airlock_dropped_after_shutdown == 1


def test_after_run_a_thread_that_enqueues_gets_no_error_and_the_effect_is_counted() -> None:
    """Review: under ``app.run()``, with the shutdown cut short, ``enqueue_from_thread``
    after the loop closed raised ``RuntimeError('Event loop is closed')`` in the caller."""
    RAN.clear()

    class Exits(ShutdownCutShort):
        def on_mount(self) -> None:
            self.set_timer(0.05, self.exit)

    app = Exits()
    with contextlib.suppress(RuntimeError):  # (Textual reports the widget's error)
        app.run(headless=True)
    assert app.airlock_tick.is_closed and RAN == ["save on unmount"]
    errors: list[BaseException] = []

    def late() -> None:
        try:
            app.enqueue_from_thread(RAN.append, "posted by a thread after exit")
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=late)
    thread.start()
    thread.join()
    assert errors == [] and app.airlock_dropped_after_shutdown == 1


class RaisesAtUnmountsEnd(airlock.Observer):
    def flushed(self, scope: Any) -> None:
        if getattr(scope, "handler_name", None) == "on_unmount" and isinstance(scope.pump, App):
            raise RuntimeError("observer bug")


class SavesAtUnmount(AirlockApp, App[None]):
    def on_unmount(self) -> None:
        airlock.enqueue(RAN.append, "unmount save")


async def test_an_observer_raising_at_the_apps_unmount_still_closes_the_tick() -> None:
    """Review: the App's Unmount handler closes the tick as it ends; an observer that raised
    at that end skipped the close (its effect ran later, outside any shutdown). Textual's own
    ``run_test`` here: AirlockApp's closes the tick at its end anyway."""
    RAN.clear()
    app = SavesAtUnmount(airlock_observers=[RaisesAtUnmountsEnd()])
    with contextlib.suppress(RuntimeError):
        async with App.run_test(app) as pilot:
            await pilot.pause()
    assert app.airlock_tick.is_closed and RAN == ["unmount save"]
