"""Held tasks (``@airlock.debounce``/``@airlock.throttle``) in a real ``AirlockApp``, driven
with Textual's pilot: a search-as-you-type app in the shape of Textual's dictionary example.

What is checked: one lookup per pause in typing, with the full text, run with no further
input (the adapter's timer for ``tick.next_due`` wakes the app) and shown in the results
view; Enter (``tick.release``) looks up at once; a throttled autosave runs leading plus one
trailing run; no tick runs while an effect waits (one timer, no polling); every tick's ledger
balances and ``held``/``pending`` return to 0; at exit a still-held lookup is discarded,
counted and logged, never run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

import airlock
from airlock_textual import AirlockApp

# real typing pauses and real debounce/throttle timers: seconds of waiting in all
pytestmark = pytest.mark.ci_only(
    "the Textual app's debounce/throttle timing, typed with real pauses (seconds of waits)"
)

WORDS = {
    "debounce": "run once, after the input pauses",
    "throttle": "run at most once per interval",
    "tick": "one burst of message handling",
}


class Ledger(airlock.Observer):
    """Every tick's stats (a copy, taken as it flushes) with the names of the intents it
    dispatched, and the intents discarded."""

    def __init__(self) -> None:
        self.ticks: list[airlock.FlushStats] = []
        self.ran: list[list[str]] = []  # per tick, what it dispatched
        self.discarded_names: list[str] = []
        self._running: list[str] = []

    def dispatched(self, intent: airlock.Intent) -> None:
        self._running.append(intent.name)

    def flushed(self, scope: Any) -> None:
        if isinstance(scope, airlock.TickScope):  # not a handler's scope
            self.ticks.append(scope.stats.copy())
            self.ran.append(self._running)
            self._running = []

    def tick_that_ran(self, name: str) -> airlock.FlushStats:
        """The stats of the only tick that dispatched ``name``."""
        (index,) = [i for i, names in enumerate(self.ran) if name in names]
        return self.ticks[index]

    def discarded(self, intent: airlock.Intent) -> None:
        self.discarded_names.append(intent.name)

    def unbalanced(self) -> list[str]:
        return [error for stats in self.ticks if (error := stats.balance_error()) is not None]


class Dictionary:
    """A dictionary app class with a debounced lookup and, given ``save_every``, a throttled
    autosave; and what they did: ``lookups`` (the words looked up), ``saves`` (texts saved)."""

    def __init__(self, lookup_after: float, save_every: float | None = None) -> None:
        self.lookups: list[str] = []
        self.saves: list[str] = []
        lookups, saves = self.lookups, self.saves

        @airlock.debounce(lookup_after)
        def lookup(app: App[None], word: str) -> None:
            lookups.append(word)
            meaning = WORDS.get(word, "(no such word)")
            app.query_one("#results", Static).update(f"{word}: {meaning}")

        @airlock.throttle(save_every or 0.0)
        def autosave(text: str) -> None:
            saves.append(text)

        self.lookup, self.autosave = lookup, autosave

        class DictionaryApp(AirlockApp, App[None]):
            def compose(self) -> ComposeResult:
                field = Input(placeholder="Search for a word", id="word")
                # the cursor's blink timer refreshes the Input, which opens ticks of its own:
                # they would flush a due lookup even if the app never woke itself for it
                field.cursor_blink = False
                yield field
                yield Static(id="results")

            def on_input_changed(self, message: Input.Changed) -> None:
                airlock.enqueue(lookup, self, message.value)
                if save_every is not None:
                    airlock.enqueue(autosave, message.value)

            def on_input_submitted(self, message: Input.Submitted) -> None:
                self.airlock_tick.release(lookup)  # Enter: look it up now

        self.app_class = DictionaryApp


async def wait_until(condition: Callable[[], object], timeout: float = 1.5) -> None:
    """Wait (without input) until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def results_of(app: App[None]) -> str:
    """The results view's rendered text."""
    return str(app.query_one("#results", Static).render())


async def test_a_word_typed_quickly_is_looked_up_once_when_typing_pauses() -> None:
    words = Dictionary(0.3)
    ledger = Ledger()
    app = words.app_class(airlock_observers=[ledger])
    async with app.run_test() as pilot:
        tick = app.airlock_tick
        await pilot.press(*"debounce")  # 8 changes, each a tick of its own
        assert words.lookups == []  # still within 0.3 s of the last key
        assert tick.held == 1 and tick.next_due is not None
        ticks_after_typing = tick.frame
        await wait_until(lambda: words.lookups)  # no key pressed: the app wakes for it
        await pilot.pause()
        assert words.lookups == ["debounce"]  # once, with the whole word
        assert results_of(app) == "debounce: run once, after the input pauses"
        assert tick.held == 0 and tick.pending == 0 and tick.next_due is None
        # the lookup ran in a later tick, which it entered as carried (held), not enqueued
        assert tick.frame > ticks_after_typing
        ran_in = ledger.tick_that_ran("lookup")
        assert ran_in.carried_in == 1 and ran_in.enqueued == 0 and ran_in.held == 0
        await pilot.pause(0.3)  # nothing more runs later
        assert words.lookups == ["debounce"]
    assert ledger.unbalanced() == []
    # the 7 superseded lookups count as coalesced, each exactly once, across the ticks
    assert sum(stats.coalesced for stats in ledger.ticks) == 7


@pytest.mark.parametrize("observed", [True, False], ids=["observed", "inline-frames"])
async def test_two_words_with_a_pause_between_are_two_lookups(observed: bool) -> None:
    # without an observer the core may open and close the app's frames on its inline paths;
    # the pause must outlast a busy machine's stall between two key presses of one word
    words = Dictionary(0.4)
    ledger = Ledger()
    app = words.app_class(airlock_observers=[ledger]) if observed else words.app_class()
    async with app.run_test() as pilot:
        tick = app.airlock_tick
        await pilot.press(*"tic")
        await wait_until(lambda: words.lookups)
        await pilot.press("k")
        await wait_until(lambda: len(words.lookups) == 2)
        await pilot.pause(0.5)
        assert words.lookups == ["tic", "tick"]
        assert results_of(app) == "tick: one burst of message handling"
        assert tick.held == 0 and tick.pending == 0 and tick.next_due is None
        assert tick.stats.balance_error() is None
    assert ledger.unbalanced() == []


async def test_enter_looks_up_at_once_not_after_the_debounce() -> None:
    words = Dictionary(5.0)  # only Enter can explain a lookup within the test
    ledger = Ledger()
    app = words.app_class(airlock_observers=[ledger])
    async with app.run_test() as pilot:
        tick = app.airlock_tick
        await pilot.press(*"tick")
        typed = time.monotonic()
        assert words.lookups == [] and tick.held == 1
        await pilot.press("enter")
        await wait_until(lambda: words.lookups)
        assert time.monotonic() - typed < 5.0  # not the debounce: the release
        assert words.lookups == ["tick"]
        await pilot.pause()
        assert results_of(app) == "tick: one burst of message handling"
        assert tick.held == 0 and tick.pending == 0 and tick.next_due is None
        await pilot.press("enter")  # nothing held: Enter again runs nothing
        await pilot.pause(0.1)
        assert words.lookups == ["tick"]
    assert ledger.unbalanced() == []


async def test_a_release_between_ticks_wakes_the_app() -> None:
    words = Dictionary(5.0)
    app = words.app_class()
    async with app.run_test() as pilot:
        await pilot.press(*"tick")
        await pilot.pause(0.05)
        tick = app.airlock_tick
        assert not tick.is_active and tick.held == 1
        assert tick.release(words.lookup) == 1  # from outside any handler or frame
        await wait_until(lambda: words.lookups)
        assert words.lookups == ["tick"] and tick.held == 0 and tick.pending == 0


async def test_a_throttled_autosave_runs_leading_and_one_trailing_run() -> None:
    # 3 keypresses take a small part of the interval; the lookup (60 s) stays held throughout
    words = Dictionary(60.0, save_every=0.6)
    ledger = Ledger()
    app = words.app_class(airlock_observers=[ledger])
    async with app.run_test() as pilot:
        await pilot.press(*"tic")
        assert words.saves == ["t"]  # the leading run, at the end of the first key's tick
        await wait_until(lambda: len(words.saves) == 2)  # no further input
        assert words.saves == ["t", "tic"]  # one trailing run, the latest text
        await pilot.pause(0.3)
        assert words.saves == ["t", "tic"]  # no more
        assert app.airlock_tick.held == 1  # the lookup only
    assert ledger.unbalanced() == []


async def test_no_tick_runs_while_an_effect_waits_for_its_time() -> None:
    words = Dictionary(5.0)
    ledger = Ledger()
    app = words.app_class(airlock_observers=[ledger])
    async with app.run_test() as pilot:
        await pilot.press(*"tick")
        await pilot.pause(0.05)
        frames, flushed = app.airlock_tick.frame, len(ledger.ticks)
        # the lookup is due in 5 s: one timer, no polling ticks (asyncio.sleep: the pilot's
        # pause posts a message of its own, which opens a tick)
        await asyncio.sleep(0.3)
        assert app.airlock_tick.frame == frames and len(ledger.ticks) == flushed
        assert words.lookups == []


async def test_keyed_lookups_of_two_inputs_are_debounced_separately() -> None:
    looked_up: list[tuple[str, str]] = []

    @airlock.debounce(0.5)
    def lookup(field: str, text: str) -> None:
        looked_up.append((field, text))

    class TwoFields(AirlockApp, App[None]):
        def compose(self) -> ComposeResult:
            for name in ("first", "second"):
                field = Input(id=name)
                field.cursor_blink = False  # no ticks of its own (see Dictionary)
                yield field

        def on_input_changed(self, message: Input.Changed) -> None:
            field = message.input.id or ""
            airlock.enqueue(lookup, field, message.value, _key=("lookup", field))

    ledger = Ledger()
    app = TwoFields(airlock_observers=[ledger])
    async with app.run_test() as pilot:
        await pilot.press(*"ab")
        await pilot.press("tab", *"cd")
        # "ab" still waits: without the keys, "cd" (the same task) would have superseded it
        assert looked_up == [] and app.airlock_tick.held == 2
        await wait_until(lambda: len(looked_up) == 2)
        await pilot.pause(0.3)
        assert sorted(looked_up) == [("first", "ab"), ("second", "cd")]
        assert app.airlock_tick.held == 0 and app.airlock_tick.pending == 0
    assert ledger.unbalanced() == []


async def test_a_lookup_still_held_at_exit_is_discarded_counted_not_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    words = Dictionary(5.0)
    ledger = Ledger()
    app = words.app_class(airlock_observers=[ledger])
    with caplog.at_level(logging.WARNING, logger="airlock"):
        async with app.run_test() as pilot:
            await pilot.press(*"tick")
            await pilot.pause(0.05)
            assert app.airlock_tick.held == 1
    tick = app.airlock_tick
    assert words.lookups == []  # the app closed its tick: the lookup never ran
    assert tick.is_closed and tick.held == 0 and tick.pending == 0
    assert tick.stats.discarded == 1 and tick.stats.carried == 0 and tick.stats.held == 0
    assert tick.stats.balance_error() is None
    assert ledger.discarded_names == ["lookup"]
    assert ledger.unbalanced() == []
    assert any("held by debounce/throttle" in r.getMessage() for r in caplog.records)


async def test_a_release_in_the_quitting_handler_runs_before_exit() -> None:
    words = Dictionary(5.0)

    class Quitting(words.app_class):  # type: ignore[name-defined, misc]
        BINDINGS = [("ctrl+q", "save_and_quit", "Quit")]  # noqa: RUF012 - Textual's own shape

        def action_save_and_quit(self) -> None:
            self.airlock_tick.release()
            self.exit()

    app = Quitting()
    async with app.run_test() as pilot:
        await pilot.press(*"tic")
        await pilot.press("ctrl+q")
    assert words.lookups == ["tic"]  # released in the quitting tick, run before the tick closed
    assert app.airlock_tick.stats.discarded == 0
    assert app.airlock_tick.stats.balance_error() is None
