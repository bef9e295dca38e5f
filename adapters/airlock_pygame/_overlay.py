"""The debug overlay: this frame's effect counts and a rolling graph, drawn on the game surface.

Rule: the overlay shows the newest record of a ``FrameHistory`` as text and the last
``graph_frames`` records as stacked bars (dispatched, dropped, coalesced, carried, failed,
batched, from the bottom up; a discarded frame is a full-height red bar), and the backlog
(``FrameRecord.pending``: effects waiting for the next frame) as a number and a white trace
over the bars, scaled to its own peak. ``key`` toggles it (None: no key does).
It is drawn during a frame, before that frame's flush, so its counts are the last flushed
frame's, and its heading says so ("frame 299 · counts of 298 · 41 us": frame 298 flushed in 41 us).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pygame

from ._history import COUNTS, FrameHistory, FrameRecord

if TYPE_CHECKING:
    from ._sound import SoundPlayer

__all__ = ["BAR_COLORS", "Overlay"]

PANEL = (16, 20, 32, 210)
TEXT = (235, 235, 235)
GRAPH_BG = (40, 44, 60)
ERROR = (230, 40, 40)
BACKLOG = (255, 255, 255)  #: the backlog's line and trace: unlike any bar
#: bar colour per count, stacked bottom-up in this order
BAR_COLORS: dict[str, tuple[int, int, int]] = {
    "dispatched": (70, 200, 90),
    "dropped": (240, 170, 40),
    "coalesced": (70, 150, 240),
    "batched": (60, 200, 200),
    "carried": (190, 90, 220),
    "failed": ERROR,
}


class Overlay:
    """Per-frame effect counts and a bar graph; ``handle_event`` toggles it with ``key``."""

    def __init__(
        self,
        history: FrameHistory,
        *,
        visible: bool = False,
        key: int | None = pygame.K_F3,
        graph_frames: int = 60,
        bar_width: int = 2,
        graph_height: int = 40,
        position: tuple[int, int] = (8, 8),
        font_size: int = 16,
    ) -> None:
        self.history = history
        self.visible = visible
        self.key = key
        self.graph_frames = graph_frames
        self.bar_width = bar_width
        self.graph_height = graph_height
        self.position = position
        self.font_size = font_size
        self.lines: list[Callable[[], str]] = []
        self._font: pygame.font.Font | None = None

    def add_line(self, line: Callable[[], str]) -> None:
        """Show ``line()`` under the counts each frame (e.g. sound or network numbers)."""
        self.lines.append(line)

    def show_sounds(self, player: SoundPlayer) -> None:
        """Add a line with ``player``'s running totals: played, capped, starved, cooldown..."""
        self.add_line(lambda: f"sound  {player.totals.summary()}")

    def handle_event(self, event: pygame.event.Event) -> bool:
        """Toggle on ``key``; True when the event was consumed (never, with no key)."""
        if self.key is not None and event.type == pygame.KEYDOWN and event.key == self.key:
            self.visible = not self.visible
            return True
        return False

    @property
    def graph_rect(self) -> pygame.Rect:
        """Where the graph is drawn (its bars grow up from the bottom edge)."""
        x, y = self.position
        top = y + 6 + (3 + len(self.lines)) * self.font.get_linesize()
        return pygame.Rect(x + 6, top, self.graph_frames * self.bar_width, self.graph_height)

    @property
    def font(self) -> pygame.font.Font:
        if self._font is None:
            if not pygame.font.get_init():
                pygame.font.init()
            self._font = pygame.font.Font(None, self.font_size)
        return self._font

    def heading(self, frame: int | None = None) -> str:
        """The first line: the frame being drawn (if known) and whose counts are shown."""
        drawing = "" if frame is None else f"frame {frame} · "
        if not len(self.history):
            return f"{drawing}no frame flushed yet"
        newest = self.history[-1]
        error = f"  ERROR {newest.note}" if newest.note else ""
        return f"{drawing}counts of {newest.frame} · {newest.flush_us:.0f} us{error}"

    def draw(self, surface: pygame.Surface, frame: int | None = None) -> pygame.Rect | None:
        """Draw onto ``surface`` if visible; return the rect drawn (for dirty-rect presents).

        ``frame``: the number of the frame being drawn, for the heading.
        """
        if not self.visible:
            return None
        records = self.history.last(self.graph_frames)
        newest = records[-1] if records else FrameRecord(0)
        rendered = [
            self.font.render(self.heading(frame), True, TEXT),
            self._render_counts(newest),
            self.font.render(_backlog_line(newest, records), True, BACKLOG),
            *(self.font.render(line(), True, TEXT) for line in self.lines),
        ]
        graph = self.graph_rect
        width = max(graph.width, *(r.get_width() for r in rendered)) + 12
        panel = pygame.Rect(self.position, (width, graph.bottom + 6 - self.position[1]))
        backdrop = pygame.Surface(panel.size, pygame.SRCALPHA)
        backdrop.fill(PANEL)
        surface.blit(backdrop, panel)
        y = panel.y + 4
        for image in rendered:
            surface.blit(image, (panel.x + 6, y))
            y += self.font.get_linesize()
        surface.fill(GRAPH_BG, graph)
        self._draw_bars(surface, graph, records)
        self._draw_backlog(surface, graph, records)
        return panel

    def _render_counts(self, record: FrameRecord) -> pygame.Surface:
        """One line of counts, each in its bar colour (so the line is the graph's legend)."""
        pieces = [self.font.render(f"{name[:4]} {getattr(record, name)}", True,
                                   BAR_COLORS.get(name, TEXT)) for name in _OUTCOMES]
        gap = self.font.size("  ")[0]
        width = sum(p.get_width() for p in pieces) + gap * (len(pieces) - 1)
        line = pygame.Surface((width, self.font.get_linesize()), pygame.SRCALPHA)
        x = 0
        for piece in pieces:
            line.blit(piece, (x, 0))
            x += piece.get_width() + gap
        return line

    def _draw_bars(self, surface: pygame.Surface, graph: pygame.Rect,
                   records: list[FrameRecord]) -> None:
        scale = max((_stacked(r) for r in records), default=0) or 1
        x = graph.right - len(records) * self.bar_width
        for record in records:
            bottom = graph.bottom
            if record.error is not None and not _stacked(record):
                surface.fill(ERROR, (x, graph.top, self.bar_width, graph.height))
            for name, color in BAR_COLORS.items():
                height = round(getattr(record, name) * graph.height / scale)
                if height:
                    surface.fill(color, (x, bottom - height, self.bar_width, height))
                    bottom -= height
            x += self.bar_width


    def _draw_backlog(self, surface: pygame.Surface, graph: pygame.Rect,
                      records: list[FrameRecord]) -> None:
        """A 1-pixel trace of each frame's backlog over its bar, scaled to the peak shown."""
        peak = max((r.pending for r in records), default=0)
        if not peak:
            return
        x = graph.right - len(records) * self.bar_width
        for record in records:
            y = graph.bottom - 1 - round(record.pending * (graph.height - 1) / peak)
            surface.fill(BACKLOG, (x, y, self.bar_width, 1))
            x += self.bar_width


#: the counts of what a frame did (the bars' legend); the backlog has its own line
_OUTCOMES = tuple(name for name in COUNTS if name != "pending")


def _backlog_line(newest: FrameRecord, records: list[FrameRecord]) -> str:
    peak = max((r.pending for r in records), default=0)
    return f"backlog {newest.pending} waiting · peak {peak} (white line)"


def _stacked(record: FrameRecord) -> int:
    return sum(getattr(record, name) for name in BAR_COLORS)
