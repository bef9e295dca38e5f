"""The effect inspector: a docked panel showing the live stream of ticks.

Per tick: how many intents were enqueued and released, dropped, coalesced, failed or
discarded, then one line per intent with its provenance (``own``, or ``captured`` from the
handler scope it was enqueued in). A ``Sparkline`` on top shows effects released per tick.
It reads an ``EffectRecorder``; ``AirlockApp`` mounts it and toggles it (F12, ctrl+backslash).

Fitting the terminal:
- From ``WIDE_COLUMNS`` columns on, the panel docks on the right and takes 40% of the width
  (``MIN_WIDTH`` to ``MAX_WIDTH`` columns); in a narrower terminal it docks at the bottom,
  full width, so that the app keeps its whole width.
- It leaves the rows of the screen's other top and bottom docked widgets (a ``Header``, a
  ``Footer``) uncovered.
- A tick's summary wraps; every other line is clipped (``…``) to the panel's width. Nothing
  scrolls sideways. When the panel's width changes, the recorded ticks are written again.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Spacing
from textual.screen import Screen
from textual.widgets import RichLog, Sparkline, Static

from ._recorder import EffectRecorder, TickRecord

__all__ = ["EffectInspector"]

_MARKS = {
    "released": ("✓", "green"),
    "dropped": ("✗", "yellow"),
    "coalesced": ("≡", "cyan"),
    "failed": ("!", "red"),
    "discarded": ("⌫", "magenta"),
}
SPARK_TICKS = 40
#: from this terminal width on the panel docks on the right; below it, at the bottom
WIDE_COLUMNS = 100
MIN_WIDTH = 40
MAX_WIDTH = 72
TITLE = "airlock · effects per tick"


def tick_summary(record: TickRecord) -> str:
    """``tick 7: 4 enqueued → 2 released, 1 coalesced · 3 waiting`` (zero counts omitted;
    ``waiting``: the backlog the tick left for the next ones)."""
    parts = [f"{record.count(o)} {o}" for o in _MARKS if record.count(o)]
    if record.batched:
        parts.append(f"{record.batched} batched")
    summary = f"tick {record.frame}: {record.enqueued} enqueued → {', '.join(parts) or 'nothing'}"
    return f"{summary} · {record.pending} waiting" if record.pending else summary


class EffectInspector(Vertical):
    """A panel listing recorded ticks, newest last, docked right (or at the bottom)."""

    DEFAULT_CSS = f"""
    EffectInspector {{
        dock: right;
        width: 40%;
        min-width: {MIN_WIDTH};
        max-width: {MAX_WIDTH};
        height: 100%;
        border-left: solid $accent;
        background: $panel;
        padding: 0 1;
    }}
    EffectInspector.-bottom {{
        dock: bottom;
        width: 100%;
        min-width: 0;
        max-width: 100%;
        height: 45%;
        border-left: none;
        border-top: solid $accent;
    }}
    EffectInspector > .inspector--title {{ text-style: bold; color: $accent; height: 1; }}
    EffectInspector > Sparkline {{ height: 2; margin-bottom: 1; }}
    EffectInspector.-bottom > Sparkline {{ height: 1; margin-bottom: 0; }}
    EffectInspector > RichLog {{
        height: 1fr;
        background: $panel;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }}
    """

    def __init__(self, recorder: EffectRecorder, *, id: str | None = "airlock-inspector") -> None:
        super().__init__(id=id)
        self.recorder = recorder
        self._text_width = 0  # the RichLog's width the lines were clipped to (0: unknown)

    def compose(self) -> ComposeResult:
        yield Static(TITLE, classes="inspector--title")
        yield Sparkline([], summary_function=max)
        yield RichLog(markup=False, wrap=False, auto_scroll=True)

    def on_mount(self) -> None:
        self.fit_screen()
        self._update_sparkline()
        self.recorder.listeners.append(self.show_tick)
        self.screen.screen_layout_refresh_signal.subscribe(self, self._on_screen_layout)

    def on_unmount(self) -> None:
        if self.show_tick in self.recorder.listeners:
            self.recorder.listeners.remove(self.show_tick)

    def fit_screen(self) -> None:
        """Dock right or at the bottom for the screen's width; leave its header and footer."""
        at_bottom = self.screen.size.width < WIDE_COLUMNS
        self.set_class(at_bottom, "-bottom")
        top = 0 if at_bottom else self._docked_rows("top")
        margin = Spacing(top, 0, self._docked_rows("bottom"), 0)
        if self.styles.margin != margin:  # each change lays the screen out again
            self.styles.margin = margin

    def _docked_rows(self, edge: str) -> int:
        return max(
            (
                widget.outer_size.height
                for widget in self.screen.children
                if widget is not self and widget.display and widget.styles.dock == edge
            ),
            default=0,
        )

    def _on_screen_layout(self, screen: Screen[object]) -> None:
        """After each layout of the screen (a resize among them): fit it, rewrite if need be."""
        if not self.is_mounted:
            return
        self.fit_screen()
        log = self.query_one(RichLog)
        width = log.scrollable_content_region.width
        if width <= 0 or width == self._text_width:
            return
        self._text_width = width
        log.clear()
        for record in self.recorder.ticks:
            self._write(log, record)

    def show_tick(self, record: TickRecord) -> None:
        """Append one tick (called by the recorder when a tick flushes)."""
        if not self.is_mounted:
            return
        if self._text_width:  # else the first layout writes every recorded tick
            self._write(self.query_one(RichLog), record)
        self._update_sparkline()

    def _write(self, log: RichLog, record: TickRecord) -> None:
        width = self._text_width
        for part in _wrap_counts(tick_summary(record), width):
            log.write(_line(width, (part, "bold")))  # the counts matter: wrapped, not cut
        for item in record.intents:
            mark, color = _MARKS[item.outcome]
            where = "own" if item.provenance == "own" else f"captured ← {item.source}"
            log.write(_line(width, " ", (mark, color), " ", item.text))
            log.write(_line(width, "   ", (where, "dim")))

    def _update_sparkline(self) -> None:
        recent = list(self.recorder.ticks)[-SPARK_TICKS:]
        self.query_one(Sparkline).data = [float(r.released) for r in recent]


def _wrap_counts(summary: str, width: int) -> list[str]:
    """``summary`` in lines of at most ``width``, broken after a comma (never inside a count);
    lines after the first are indented."""
    lines = [""]
    for part in re.split(r"(?<=,) ", summary):
        if lines[-1] and len(lines[-1]) + 1 + len(part) > width:
            lines.append("  ")
        lines[-1] += part if not lines[-1].strip() else " " + part
    return lines


def _line(width: int, *parts: str | tuple[str, str]) -> Text:
    """One line of the log, cut to ``width`` cells with ``…`` (markup in ``parts`` is text)."""
    line = Text.assemble(*parts, no_wrap=True)
    line.truncate(width, overflow="ellipsis")
    return line
