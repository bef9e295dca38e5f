"""Async effects in an AirlockApp run as loop tasks; their failures are reported, not lost."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from textual.app import App

import airlock
from airlock_textual import AirlockApp

from .conftest import FlushLog


class AsyncEffectsApp(AirlockApp, App[None]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_: list[str] = []
        self.notes: list[str] = []

    def notify(self, message: str, **kwargs: Any) -> None:
        self.notes.append(message)
        super().notify(message, **kwargs)

    async def save(self, what: str) -> None:
        self.log_.append(f"started {what}")
        await asyncio.sleep(0.01)
        self.log_.append(f"saved {what}")

    async def broken(self) -> None:
        await asyncio.sleep(0)
        raise ConnectionError("server gone")

    def explode(self) -> None:
        raise ValueError("sync effect bug")

    def on_mount(self) -> None:
        airlock.enqueue(self.save, "board")
        airlock.enqueue(self.log_.append, "sync after save")


async def test_coroutine_effects_run_as_tasks_after_the_flush() -> None:
    app = AsyncEffectsApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert await app.airlock_drain(timeout=2) == []
    # the flush scheduled the task and moved on: the sync effect ran before the task started
    assert app.log_ == ["sync after save", "started board", "saved board"]


async def run_one_failing_async_effect(
    app: AsyncEffectsApp,
) -> list[tuple[airlock.Intent, BaseException]]:
    """Run the app, enqueue ``broken`` from a callback, and return the drained failures."""
    async with app.run_test() as pilot:
        await pilot.pause()
        app.call_later(lambda: airlock.enqueue(app.broken))
        await pilot.pause()
        failures = await app.airlock_drain(timeout=2)
        await pilot.pause()
    return failures


async def test_async_failures_are_logged_counted_notified_and_observed(
    flush_log: FlushLog, caplog: pytest.LogCaptureFixture
) -> None:
    app = AsyncEffectsApp(airlock_observers=[flush_log])
    with caplog.at_level(logging.ERROR, logger="airlock"):
        failures = await run_one_failing_async_effect(app)
    assert [type(error) for _, error in failures] == [ConnectionError]
    assert app.airlock_executor.failures.total == 1
    assert [name for name, _ in flush_log.failures] == [str(failures[0][0])]
    assert "broken()" in str(failures[0][0])
    assert any("server gone" in note for note in app.notes)
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "airlock"  # the logger every effect failure goes to (the guide)
    assert f"async effect {failures[0][0]} failed" in record.getMessage()


class RaisingObserver(airlock.Observer):
    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        raise RuntimeError("observer bug")


async def test_an_observer_raising_on_an_async_failure_does_not_hide_it_from_the_others(
    flush_log: FlushLog, caplog: pytest.LogCaptureFixture
) -> None:
    app = AsyncEffectsApp(airlock_observers=[RaisingObserver(), flush_log])
    with caplog.at_level(logging.ERROR, logger="airlock"):
        failures = await run_one_failing_async_effect(app)
    assert [type(error) for _, error in failures] == [ConnectionError]
    assert [name for name, _ in flush_log.failures] == [str(failures[0][0])]
    assert any("server gone" in note for note in app.notes)  # the notifier comes last
    (hook_record,) = [
        r for r in caplog.records if "RaisingObserver.failed raised" in r.getMessage()
    ]
    assert hook_record.exc_info is not None and "observer bug" in str(hook_record.exc_info[1])


async def test_a_failing_sync_effect_is_reported_and_the_others_still_run(
    flush_log: FlushLog, caplog: pytest.LogCaptureFixture
) -> None:
    app = AsyncEffectsApp(airlock_observers=[flush_log])
    with caplog.at_level(logging.ERROR, logger="airlock"):
        async with app.run_test() as pilot:
            await pilot.pause()

            def two_effects() -> None:
                airlock.enqueue(app.explode)
                airlock.enqueue(app.log_.append, "x")

            app.call_later(two_effects)
            await pilot.pause()
            await pilot.pause()
    assert "x" in app.log_
    ((name, error),) = flush_log.failures
    assert "explode()" in name
    assert isinstance(error, ValueError)
    assert any("sync effect bug" in note for note in app.notes)
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "airlock"  # the same logger as async failures (the guide says so)
    assert record.exc_info is not None and record.exc_info[1] is error


# -- effects still running when the app exits ----------------------------------------------


class Told(airlock.Observer):
    def __init__(self) -> None:
        self.failed_with: list[tuple[str, str]] = []

    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self.failed_with.append((intent.name, type(error).__name__))


class SaveOnExitApp(AirlockApp, App[None]):
    """Enqueues a save that takes ``seconds`` and exits at once."""

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds
        self.saved: list[str] = []

    async def save_game(self) -> None:
        await asyncio.sleep(self.seconds)
        self.saved.append("saved")

    def on_mount(self) -> None:
        airlock.enqueue(self.save_game)
        self.exit()


def test_an_exiting_app_gives_its_async_effects_time_to_finish() -> None:
    app = SaveOnExitApp(0.05)
    app.run(headless=True)
    assert app.saved == ["saved"]
    outcomes = app.airlock_executor.outcomes
    assert (outcomes.completed, outcomes.cancelled, outcomes.pending) == (1, 0, 0)


def test_an_effect_cut_off_at_exit_is_reported_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    told = Told()

    class Impatient(SaveOnExitApp):
        AIRLOCK_EXIT_GRACE = 0.05

    app = Impatient(3600, airlock_observers=[told])
    with caplog.at_level(logging.WARNING, logger="airlock"):
        app.run(headless=True)
    assert app.saved == []
    outcomes = app.airlock_executor.outcomes
    assert (outcomes.scheduled, outcomes.cancelled, outcomes.pending) == (1, 1, 0)
    assert told.failed_with == [("save_game", "CancelledError")]
    assert any("was cancelled before it finished" in r.getMessage() for r in caplog.records)


# -- airlock_drain(timeout): a wait, never a cancellation -----------------------------------


class GatedApp(AirlockApp, App[None]):
    """Its async effect waits for ``gate``, then saves, or fails when ``fail`` is set."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.saved: list[str] = []

    async def save(self) -> None:
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("server gone")
        self.saved.append("saved")

    def on_mount(self) -> None:
        self.gate = asyncio.Event()
        airlock.enqueue(self.save)


async def test_a_drain_that_times_out_leaves_the_effects_running() -> None:
    app = GatedApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        with pytest.raises(asyncio.TimeoutError):
            await app.airlock_drain(timeout=0.01)  # the gate is shut: it cannot finish
        app.gate.set()
        assert await app.airlock_drain() == []
        assert app.saved == ["saved"]
        outcomes = app.airlock_executor.outcomes
        assert (outcomes.completed, outcomes.cancelled) == (1, 0)


@pytest.mark.parametrize("finished_before_the_next_drain", [False, True])
async def test_a_failure_found_after_a_drain_timed_out_is_returned_by_the_next_one(
    finished_before_the_next_drain: bool,
) -> None:
    app = GatedApp(fail=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        with pytest.raises(asyncio.TimeoutError):
            await app.airlock_drain(timeout=0.01)
        app.gate.set()
        if finished_before_the_next_drain:  # the timed-out drain ends on its own meanwhile
            while app.airlock_executor.pending or not app._airlock_draining.done():
                await asyncio.sleep(0)
        failures = await app.airlock_drain()
        assert [type(error) for _, error in failures] == [ConnectionError]
        assert await app.airlock_drain() == []


async def test_two_callers_of_one_drain_get_each_failure_once() -> None:
    """Review: two ``airlock_drain()`` awaiting one drain both returned its failure (the
    rule: failures since the last drain that returned)."""
    app = GatedApp(fail=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        first = asyncio.ensure_future(app.airlock_drain())
        second = asyncio.ensure_future(app.airlock_drain())
        await asyncio.sleep(0)
        app.gate.set()
        found = [await first, await second]
        assert sorted(len(failures) for failures in found) == [0, 1]
        assert await app.airlock_drain() == []
