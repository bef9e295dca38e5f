"""AirlockApp ticks: every handler's effects land in the app's tick and run once at its end."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from textual import work
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Button

import airlock
from airlock.testing import EnqueueRecorder
from airlock_textual import AirlockApp

from .conftest import FlushLog


def record(log: list[Any], *items: Any) -> None:
    log.append(items if len(items) > 1 else items[0])


class DeepButton(Button):
    def on_click(self) -> None:
        airlock.enqueue(record, self.app.log_, "widget")  # type: ignore[attr-defined]


class BoardScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield DeepButton("go", id="go")

    def on_button_pressed(self) -> None:
        airlock.enqueue(record, self.app.log_, "screen")  # type: ignore[attr-defined]


class ClickApp(AirlockApp, App[None]):
    AIRLOCK_MAX_TICK_MS = None  # deterministic: ticks end only when the app goes idle

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_: list[Any] = []
        self.seen_during_handlers: list[list[Any]] = []

    def on_mount(self) -> None:
        self.push_screen(BoardScreen())

    def on_button_pressed(self) -> None:
        self.seen_during_handlers.append(list(self.log_))
        airlock.enqueue(record, self.log_, "app")


async def test_widget_screen_and_app_effects_flush_together_once_per_click(
    flush_log: FlushLog,
) -> None:
    app = ClickApp(airlock_observers=[flush_log])
    async with app.run_test() as pilot:
        await pilot.pause()
        flush_log.flushes.clear()
        await pilot.click("#go")
        await pilot.pause(0.3)  # let the Button's active effect end, or it ignores the click
        await pilot.click("#go")
        await pilot.pause()
    assert app.log_ == ["widget", "screen", "app"] * 2
    clicks = [f for f in flush_log.flushes if any("record" in name for name in f)]
    assert len(clicks) == 2
    assert all(len(names) == 3 for names in clicks)


async def test_an_apps_ticks_are_its_own_inside_the_pytest_plugins_test_scope(
    airlock_recorder: EnqueueRecorder, flush_log: FlushLog,
) -> None:
    """The test scope does not capture an app's ticks (docs/guides/testing.md): they release
    under the app's policy, which is how a test drops them."""
    app = ClickApp()
    async with app.run_test() as pilot:
        await pilot.click("#go")
        await pilot.pause()
    assert app.log_ == ["widget", "screen", "app"] and airlock_recorder.names() == []
    quiet = ClickApp(airlock_policy=airlock.DropAll(), airlock_observers=[flush_log])
    async with quiet.run_test() as pilot:
        await pilot.click("#go")
        await pilot.pause()
    assert quiet.log_ == [] and sum(stats.dropped for stats in flush_log.stats) == 3


async def test_nothing_from_a_tick_escapes_before_its_end() -> None:
    app = ClickApp()
    async with app.run_test() as pilot:
        await pilot.click("#go")
        await pilot.pause()
    # the App handler runs last in the burst: the widget's and screen's effects had not run
    assert app.seen_during_handlers == [[]]
    assert app.log_ == ["widget", "screen", "app"]


class FailingApp(ClickApp):
    def on_button_pressed(self) -> None:
        airlock.enqueue(record, self.log_, "lost")
        raise RuntimeError("handler bug")


async def test_a_raising_handler_loses_only_its_own_effects() -> None:
    """Rule: the raising handler's effects are discarded; the tick's others still run."""
    app = FailingApp()
    with pytest.raises(RuntimeError, match="handler bug"):
        async with app.run_test() as pilot:
            await pilot.click("#go")
            await pilot.pause()
    assert app.log_ == ["widget", "screen"]


class RedrawButton(Button):
    def on_click(self) -> None:
        airlock.enqueue(self.app.redraws.append, "click", _key="redraw")  # type: ignore[attr-defined]


class CoalesceApp(AirlockApp, App[None]):
    AIRLOCK_MAX_TICK_MS = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redraws: list[str] = []

    def compose(self) -> ComposeResult:
        yield RedrawButton("a", id="a")

    def on_button_pressed(self) -> None:
        for n in range(5):
            airlock.enqueue(self.redraws.append, f"app{n}", _key="redraw")


async def test_coalesced_refresh_effect_runs_once_per_tick(flush_log: FlushLog) -> None:
    app = CoalesceApp(airlock_observers=[flush_log])
    async with app.run_test() as pilot:
        await pilot.click("#a")
        await pilot.pause()
        assert app.redraws == ["app4"]
    # 4 coalesced inside the App handler's scope, then the widget's "click" by the tick
    assert sum(1 for n in flush_log.flushes for name in n if "append" in name) == 1
    assert flush_log.stats[-1].coalesced == 1


class BackgroundApp(AirlockApp, App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.log_: list[Any] = []

    def on_mount(self) -> None:
        self.call_later(lambda: airlock.enqueue(record, self.log_, "call_later"))
        self.call_next(lambda: airlock.enqueue(record, self.log_, "call_next"))
        self.call_after_refresh(lambda: airlock.enqueue(record, self.log_, "after_refresh"))
        self.set_timer(0.01, lambda: airlock.enqueue(record, self.log_, "timer"))
        self.run_worker(self.async_worker())
        self.thread_worker()

    async def async_worker(self) -> None:
        await asyncio.sleep(0.02)
        airlock.enqueue(record, self.log_, "async worker")

    @work(thread=True)
    def thread_worker(self) -> None:
        airlock.enqueue(record, self.log_, "thread worker", threading.get_ident())
        self.enqueue_from_thread(record, self.log_, "thread", threading.get_ident())


async def test_callbacks_timers_workers_and_threads_land_in_ticks() -> None:
    app = BackgroundApp()
    async with app.run_test() as pilot:
        for _ in range(100):
            if len(app.log_) == 7:
                break
            await pilot.pause(0.01)
    names = [item if isinstance(item, str) else item[0] for item in app.log_]
    assert sorted(names) == sorted(
        ["call_later", "call_next", "after_refresh", "timer", "async worker", "thread worker",
         "thread"]
    )
    # the thread worker's ids were taken in its thread (see test_textual_threads.py)
    thread_entries = [item for item in app.log_ if isinstance(item, tuple)]
    assert all(entry[1] != threading.get_ident() for entry in thread_entries)
    assert app.airlock_tick.frame > 0


async def test_thread_handoff_runs_on_the_loop_thread() -> None:
    ran_on: list[int] = []

    class ThreadApp(AirlockApp, App[None]):
        def on_mount(self) -> None:
            def ran() -> None:
                ran_on.append(threading.get_ident())

            threading.Thread(target=self.enqueue_from_thread, args=(ran,)).start()

    app = ThreadApp()
    async with app.run_test() as pilot:
        for _ in range(100):
            if ran_on:
                break
            await pilot.pause(0.01)
    assert ran_on == [threading.get_ident()]


class NestedApp(AirlockApp, App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.log_: list[Any] = []
        self.provenance: list[str] = []

    def on_mount(self) -> None:
        with airlock.scope() as inner:
            airlock.enqueue(record, self.log_, "nested")
        self.provenance.append(repr(inner))


async def test_a_users_scope_inside_a_handler_is_captured_by_the_tick() -> None:
    app = NestedApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.log_ == ["nested"]


async def test_the_app_policy_filters_every_handler(flush_log: FlushLog) -> None:
    app = ClickApp(airlock_policy=airlock.BlockTasks({"record"}), airlock_observers=[flush_log])
    async with app.run_test() as pilot:
        await pilot.click("#go")
        await pilot.pause()
        assert app.log_ == []
    assert [s.dropped for s in flush_log.stats] == [3]


class SlowWidget(Button):
    async def on_click(self) -> None:
        log: list[Any] = self.app.log_  # type: ignore[attr-defined]
        airlock.enqueue(record, log, "slow handler")
        self.app.set_timer(0.05, lambda: airlock.enqueue(record, log, "timer"))
        await asyncio.sleep(0.3)
        self.app.ran_before_slow_ended = list(log)  # type: ignore[attr-defined]


class SlowApp(AirlockApp, App[None]):
    AIRLOCK_MAX_TICK_MS = 50

    def __init__(self) -> None:
        super().__init__()
        self.log_: list[Any] = []
        self.ran_before_slow_ended: list[Any] = []

    def compose(self) -> ComposeResult:
        yield SlowWidget("slow", id="slow")


async def test_a_slow_handler_does_not_hold_back_other_effects_past_max_tick_ms() -> None:
    """Rule: after max_tick_ms the tick closes; a handler still running keeps its own effects
    until it returns (so that it can still lose them if it raises)."""
    app = SlowApp()
    async with app.run_test() as pilot:
        await pilot.click("#slow")
        await pilot.pause(0.4)
        await pilot.pause()
    assert app.ran_before_slow_ended == ["timer"]
    assert app.log_ == ["timer", "slow handler"]


class UnmountApp(AirlockApp, App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.log_: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Button("x")

    def on_unmount(self) -> None:
        airlock.enqueue(record, self.log_, "app unmount")


async def test_shutdown_flushes_the_last_tick_then_drops_later_effects() -> None:
    """Rule (see test_textual_threads.py for workers): after shutdown nothing runs any more;
    what arrives is dropped and counted, and the caller gets no exception."""
    app = UnmountApp()
    async with app.run_test():
        pass
    assert app.log_ == ["app unmount"]
    app.airlock_tick.post(record, app.log_, "late")
    app.enqueue_from_thread(record, app.log_, "late")
    assert app.log_ == ["app unmount"]
    assert app.airlock_dropped_after_shutdown == 2


class ChainApp(AirlockApp, App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[str, int]] = []

    def first(self) -> None:
        self.frames.append(("first", self.airlock_tick.frame))
        airlock.enqueue(self.second)  # no frame is open during the flush: joins the next one

    def second(self) -> None:
        self.frames.append(("second", self.airlock_tick.frame))

    def on_mount(self) -> None:
        airlock.enqueue(self.first)


async def test_an_effect_enqueued_by_an_effect_runs_in_the_next_tick_without_new_input() -> None:
    app = ChainApp()
    async with app.run_test() as pilot:
        for _ in range(50):
            if len(app.frames) == 2:
                break
            await pilot.pause(0.01)
    (first, first_frame), (second, second_frame) = app.frames
    assert (first, second) == ("first", "second")
    assert second_frame == first_frame + 1
