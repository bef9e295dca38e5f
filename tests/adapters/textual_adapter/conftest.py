"""Helpers for the Textual adapter tests: an observer that records flushes per tick, and the
text of an SVG screenshot."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from typing import Any

import pytest

import airlock


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
