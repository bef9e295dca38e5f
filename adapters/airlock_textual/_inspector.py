"""The effect inspector: a docked panel showing the live stream of ticks.

Per tick: how many intents were enqueued and released, dropped, coalesced, failed or
discarded, then one line per intent with its provenance (``own``, or ``captured`` from the
handler scope it was enqueued in). A ``Sparkline`` on top shows effects released per tick.
It reads an ``EffectRecorder``; ``AirlockApp`` mounts it and toggles it (F12, ctrl+backslash).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
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
TEXT_WIDTH = 48


def tick_summary(record: TickRecord) -> str:
    """``tick 7: 4 enqueued → 2 released, 1 coalesced`` (zero counts omitted)."""
    parts = [f"{record.count(o)} {o}" for o in _MARKS if record.count(o)]
    if record.batched:
        parts.append(f"{record.batched} batched")
    return f"tick {record.frame}: {record.enqueued} enqueued → {', '.join(parts) or 'nothing'}"


class EffectInspector(Vertical):
    """A right-docked panel listing recorded ticks, newest last."""

    DEFAULT_CSS = """
    EffectInspector {
        dock: right;
        width: 56;
        height: 100%;
        border-left: solid $accent;
        background: $panel;
        padding: 0 1;
    }
    EffectInspector > .inspector--title { text-style: bold; color: $accent; }
    EffectInspector > Sparkline { height: 2; margin-bottom: 1; }
    EffectInspector > RichLog { height: 1fr; background: $panel; }
    """

    def __init__(self, recorder: EffectRecorder, *, id: str | None = "airlock-inspector") -> None:
        super().__init__(id=id)
        self.recorder = recorder

    def compose(self) -> ComposeResult:
        yield Static("airlock · effects per tick", classes="inspector--title")
        yield Sparkline([], summary_function=max)
        yield RichLog(markup=True, wrap=False, auto_scroll=True)

    def on_mount(self) -> None:
        for record in self.recorder.ticks:
            self._write(record)
        self._update_sparkline()
        self.recorder.listeners.append(self.show_tick)

    def on_unmount(self) -> None:
        if self.show_tick in self.recorder.listeners:
            self.recorder.listeners.remove(self.show_tick)

    def show_tick(self, record: TickRecord) -> None:
        """Append one tick (called by the recorder when a tick flushes)."""
        if not self.is_mounted:
            return
        self._write(record)
        self._update_sparkline()

    def _write(self, record: TickRecord) -> None:
        log = self.query_one(RichLog)
        log.write(f"[b]{tick_summary(record)}[/b]")
        for item in record.intents:
            mark, color = _MARKS[item.outcome]
            where = "own" if item.provenance == "own" else f"captured ← {item.source}"
            log.write(f" [{color}]{mark}[/] {_escape(_clip(item.text))}")
            log.write(f"   [dim]{_escape(where)}[/]")

    def _update_sparkline(self) -> None:
        recent = list(self.recorder.ticks)[-SPARK_TICKS:]
        self.query_one(Sparkline).data = [float(r.released) for r in recent]


def _clip(text: str, width: int = TEXT_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
