"""Helpers for the Textual adapter tests: an observer that records flushes per tick, the text
of an SVG screenshot, and a pilot whose waits also wait for the app's tick to end."""

from __future__ import annotations

import asyncio
import html
import re
import time
import weakref
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import textual._wait
import textual.app
import textual.pilot
from textual.app import App

import airlock
from airlock_textual import AirlockApp

#: loop turns in a row that an app must look settled for (its tick and its queue) before a
#: pilot's wait returns: a key's next handler starts within a turn or two of the last one
SETTLED_TURNS = 3


def settled(app: App[Any]) -> bool:
    """No tick open and nothing queued for the app (handlers, then the tick's flush, ran)."""
    tick_open = isinstance(app, AirlockApp) and app.airlock_tick.is_active
    return not tick_open and app.message_queue_size == 0


@pytest.fixture(autouse=True)
def pilot_waits_for_ticks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pilot's waits (after each key, ``pause()``) end when the process looks idle: CPU
    time against wall time. A starved process (CI runs 4 test workers on 2 cores) looks idle
    before the app has handled the key, and a test read the state early or two keys shared
    a tick. Here each such wait then also waits, for at most its own ``max_sleep``, until
    every app under test is settled for a few loop turns in a row."""
    running: weakref.WeakSet[App[Any]] = weakref.WeakSet()
    run_test = App.run_test
    idle = textual._wait.wait_for_idle

    def tracked_run_test(self: App[Any], *args: Any, **kwargs: Any) -> Any:
        running.add(self)
        return run_test(self, *args, **kwargs)

    async def wait_for_idle(
        min_sleep: float = textual._wait.SLEEP_GRANULARITY, max_sleep: float = 1
    ) -> None:
        await idle(min_sleep, max_sleep)
        deadline = time.monotonic() + max_sleep
        calm = 0
        while calm < SETTLED_TURNS and time.monotonic() < deadline:
            calm = calm + 1 if all(settled(app) for app in running) else 0
            await asyncio.sleep(0 if calm else 0.001)

    monkeypatch.setattr(App, "run_test", tracked_run_test)
    for module in (textual.app, textual.pilot):
        monkeypatch.setattr(module, "wait_for_idle", wait_for_idle)
    yield


class FlushLog(airlock.Observer):
    """Records, per tick that released anything, the names of the intents it released."""

    def __init__(self) -> None:
        self.flushes: list[list[str]] = []
        self._current: list[str] = []
        self.failures: list[tuple[str, BaseException]] = []
        #: stats of every tick that had intents
        self.stats: list[airlock.FlushStats] = []

    def dispatched(self, intent: airlock.Intent) -> None:
        self._current.append(str(intent))

    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self.failures.append((str(intent), error))

    def flushed(self, scope: Any) -> None:
        if not isinstance(scope, airlock.TickScope):
            return  # a handler's scope: it hands its intents to the tick
        if scope.stats.enqueued:
            self.stats.append(scope.stats.copy())
        if self._current:
            self.flushes.append(self._current)
            self._current = []


@pytest.fixture
def flush_log() -> FlushLog:
    return FlushLog()


_TEXT = re.compile(
    r'<text[^>]* x="([\d.]+)"[^>]*clip-path="url\(#terminal-\d+-line-(\d+)\)">([^<]*)</text>'
)


def screen_lines(svg: str) -> list[str]:
    """The screen's text, one string per terminal line (the SVG keeps text runs per line)."""
    runs: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for x, line, text in _TEXT.findall(svg):
        runs[int(line)].append((float(x), html.unescape(text).replace("\xa0", " ")))
    return ["".join(text for _, text in sorted(runs[n])) for n in sorted(runs)]
