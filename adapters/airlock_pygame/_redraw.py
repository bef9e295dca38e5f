"""Redraw requests: every request of a frame becomes ONE ``display.update(rects)`` or ONE flip.

Rule: a request with no rect asks for the whole screen (one ``display.flip()``), and so do more
than ``4 * max_rects`` requests in a frame (merging them would cost more); otherwise the
frame's rects are merged (overlapping or touching rects become their union) and passed to a
single ``display.update``. Requests are an ``airlock.batch`` in the ``redraw`` phase. A bad
rect is refused at the ``request`` call (TypeError from ``pygame.Rect``), never in the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygame

import airlock

from ._phases import REDRAW
from ._waiting import wait_or_refuse

__all__ = ["Redraw", "default_redraw", "merge_rects", "request_redraw"]


def merge_rects(rects: Sequence[pygame.Rect], limit: int = 32) -> list[pygame.Rect]:
    """Union every group of overlapping/touching rects; more than ``limit`` left become one.

    Each rect is tested against the merged ones in one ``collidelistall`` call (C speed);
    a union that now touches others absorbs them too.
    """
    merged: list[pygame.Rect] = []
    for rect in rects:
        current = pygame.Rect(rect)
        if current.width <= 0 or current.height <= 0:
            continue
        hits = current.inflate(2, 2).collidelistall(merged)
        while hits:
            for index in reversed(hits):
                current.union_ip(merged.pop(index))
            hits = current.inflate(2, 2).collidelistall(merged)
        merged.append(current)
    if len(merged) > limit:
        return [merged[0].unionall(merged[1:])]
    return merged


class Redraw:
    """Dirty-rect and full-screen present requests, coalesced per frame.

    ``request()`` asks for a full flip, ``request(rect)`` for a region. After each present,
    ``last`` holds what was presented: None for a flip, else the merged rects.
    """

    def __init__(self, max_rects: int = 32) -> None:
        if max_rects < 1:
            raise ValueError(f"max_rects must be at least 1, got {max_rects!r}")
        self.max_rects = max_rects
        self.presents = 0
        self.last: list[pygame.Rect] | None = None
        self._batch = airlock.batch(self.present, phase=REDRAW)

    def request(self, rect: pygame.Rect | tuple[int, int, int, int] | None = None) -> None:
        """Ask for ``rect`` (or the whole screen) to be presented at the end of this frame.

        Before any frame is open (e.g. during setup) the request joins the next GameLoop frame.
        """
        area = None if rect is None else pygame.Rect(rect)
        try:
            airlock.enqueue(self._batch, area)
        except airlock.NoScopeError:
            wait_or_refuse("request_redraw", self._batch, area, {})

    def present(self, rects: list[pygame.Rect | None]) -> None:
        """Present a frame's requests now (the batch handler): one flip or one update."""
        if len(rects) > 4 * self.max_rects or any(rect is None for rect in rects):
            pygame.display.flip()
            self.last = None
        else:
            merged = merge_rects([r for r in rects if r is not None], self.max_rects)
            pygame.display.update(merged)
            self.last = merged
        self.presents += 1


#: the instance ``request_redraw`` and every ``GameLoop`` (unless given another) use
default_redraw = Redraw()


def request_redraw(rect: pygame.Rect | tuple[int, int, int, int] | None = None) -> None:
    """Ask for ``rect`` (or the whole screen) to be presented at the end of this frame."""
    default_redraw.request(rect)
