"""Held tasks in a Textual app: search as you type (the shape of Textual's dictionary example),
run on a real app with the pilot. One lookup per pause in typing, run with no further input
(the app wakes itself for it); Enter submits at once; a throttled autosave leads and trails;
every tick's ledger balances."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Static

import airlock
from airlock_textual import AirlockApp

WORDS = {"airlock": "a chamber between two doors", "frame": "one pass of a loop"}


class Ledger(airlock.Observer):
    """Every tick's stats, checked as it flushes."""

    def __init__(self) -> None:
        self.unbalanced: list[str] = []
        self.ticks = 0

    def flushed(self, scope: Any) -> None:
        if isinstance(scope, airlock.TickScope):
            self.ticks += 1
            error = scope.stats.balance_error()
            if error is not None:
                self.unbalanced.append(error)


def make_app(
    seconds: float, save_every: float = 0.3
) -> tuple[type[App[None]], list[str], list[str]]:
    """A dictionary app whose lookup is debounced by ``seconds`` and autosave throttled by
    ``save_every``; (class, lookups, saves)."""
    lookups: list[str] = []
    saves: list[str] = []

    @airlock.debounce(seconds)
    def lookup(app: App[None], word: str) -> None:  # an effect: runs once the typing pauses
        lookups.append(word)
        meaning = WORDS.get(word, "(no such word)")
        app.query_one("#results", Static).update(f"{word}: {meaning}")

    @airlock.throttle(save_every)
    def autosave(text: str) -> None:
        saves.append(text)

    class Dictionary(AirlockApp, App[None]):
        def compose(self) -> ComposeResult:
            yield Input(placeholder="Search for a word", id="word")
            yield Static(id="results")

        def on_input_changed(self, message: Input.Changed) -> None:
            airlock.enqueue(lookup, self, message.value)
            airlock.enqueue(autosave, message.value)

        def on_input_submitted(self, message: Input.Submitted) -> None:
            self.airlock_tick.release(lookup)  # Enter: look it up now

    return Dictionary, lookups, saves


async def wait_until(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def results_of(app: App[None]) -> str:
    return str(app.query_one("#results", Static).render())


async def test_one_lookup_per_pause_in_typing_with_no_further_input() -> None:
    cls, lookups, _ = make_app(0.2)
    ledger = Ledger()
    app = cls(airlock_observers=[ledger])
    async with app.run_test() as pilot:
        await pilot.press(*"airlock")
        assert lookups == []  # still typing
        started = time.monotonic()
        await wait_until(lambda: lookups)  # no key pressed: the app wakes for it
        assert lookups == ["airlock"] and time.monotonic() - started < 1.0
        await pilot.pause()
        assert results_of(app) == "airlock: a chamber between two doors"
        tick = app.airlock_tick
        await pilot.press("backspace", *"xx")
        await wait_until(lambda: len(lookups) == 2)
        assert lookups == ["airlock", "airlocxx"]
        await pilot.pause(0.4)
        assert len(lookups) == 2 and tick.held == 0 and tick.pending == 0
    assert ledger.unbalanced == [] and ledger.ticks > 10


async def test_enter_looks_up_at_once() -> None:
    cls, lookups, _ = make_app(5.0)  # long enough that only Enter can explain a lookup
    app = cls()
    async with app.run_test() as pilot:
        await pilot.press(*"frame")
        await pilot.pause(0.1)
        assert lookups == [] and app.airlock_tick.held >= 1
        await pilot.press("enter")
        await wait_until(lambda: lookups, timeout=1.0)
        assert lookups == ["frame"]
        await pilot.pause()
        assert results_of(app) == "frame: one pass of a loop"


async def test_a_throttled_autosave_leads_and_trails_once() -> None:
    cls, _, saves = make_app(5.0, save_every=1.0)
    app = cls()
    async with app.run_test() as pilot:
        await pilot.press(*"frame")  # five changes within the second
        assert saves == ["f"]  # the first ran at its own tick's end
        await wait_until(lambda: len(saves) == 2)
        assert saves == ["f", "frame"]  # one trailing run, the latest text
        await pilot.pause(0.2)
        assert saves == ["f", "frame"] and app.airlock_tick.held == 1  # the 5 s lookup


async def test_what_is_held_at_exit_is_discarded_counted() -> None:
    cls, lookups, _ = make_app(5.0)
    app = cls()
    async with app.run_test() as pilot:
        await pilot.press(*"air")
        await pilot.pause(0.05)
        tick = app.airlock_tick
        assert tick.held >= 1
    assert lookups == []  # never ran: the app closed its tick, discarding it
    assert tick.is_closed and tick.held == 0 and tick.stats.discarded >= 1
    assert tick.stats.balance_error() is None


async def test_a_release_in_the_quitting_handler_runs_before_exit() -> None:
    cls, lookups, _ = make_app(5.0)

    class Quitting(cls):  # type: ignore[valid-type, misc]
        BINDINGS = [("ctrl+q", "save_and_quit", "Quit")]  # noqa: RUF012 - Textual's own shape

        def action_save_and_quit(self) -> None:
            self.airlock_tick.release()
            self.exit()

    app = Quitting()
    async with app.run_test() as pilot:
        await pilot.press(*"air")
        await pilot.press("ctrl+q")
    assert lookups == ["air"]
    assert app.airlock_tick.stats.discarded == 0
