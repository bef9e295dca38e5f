"""Redraw requests: every request of a frame becomes ONE ``display.update(rects)`` or ONE flip.

Rule: a request with no rect asks for the whole screen (one ``display.flip()``), and so do more
than ``4 * max_rects`` requests in a frame (merging them would cost more); otherwise the
frame's rects are merged (overlapping or touching rects become their union) and passed to a
single ``display.update``. Each request is one ``airlock.enqueue`` of the ``Redraw``'s
``airlock.batch`` (``present``, in the ``redraw`` phase): the core folds a flush's requests
into one ``present`` call and counts each request in ``tick.stats`` (all but one ``batched``).
With no frame open, a request waits for the next GameLoop frame (``_waiting``). A bad rect is
refused at the ``request`` call (TypeError from ``pygame.Rect``), never in the batch; the rect
is copied there, so moving a sprite's rect afterwards does not move the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import is_
from typing import cast

import pygame

import airlock

from ._phases import REDRAW
from ._waiting import post_to_latest

_Rect = pygame.Rect

__all__ = ["Redraw", "default_redraw", "merge_rects", "request_redraw"]


def merge_rects(rects: Sequence[pygame.Rect], limit: int = 32) -> list[pygame.Rect]:
    """Union every group of overlapping/touching rects; more than ``limit`` left become one.

    Each rect is tested against the merged ones in one ``collidelist`` call (C speed); a
    union that now touches another absorbs it too. The given rects are not changed.
    """
    return _merge_owned([_Rect(rect) for rect in rects], limit)


def _merge_owned(rects: list[pygame.Rect], limit: int) -> list[pygame.Rect]:
    """``merge_rects`` of rects nobody else holds: they are grown in place into the unions."""
    merged: list[pygame.Rect] = []
    append = merged.append
    for current in rects:
        if current.width <= 0 or current.height <= 0:
            continue
        index = current.inflate(2, 2).collidelist(merged)
        while index != -1:
            current.union_ip(merged.pop(index))
            index = current.inflate(2, 2).collidelist(merged)
        append(current)
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
        area = None if rect is None else rect.copy() if type(rect) is _Rect else _Rect(rect)
        try:
            airlock.enqueue(self._batch, area)
        except airlock.NoScopeError:
            post_to_latest("request_redraw", self._batch, area)

    def present(self, rects: list[pygame.Rect | None]) -> None:
        """Present a frame's requests now (the batch handler): one flip or one update.

        ``None`` asks for the whole screen; the given rects are not changed."""
        # ``None in rects`` would compare each Rect with None: 100x slower than identity
        if len(rects) > 4 * self.max_rects or any(map(is_, rects, repeat(None))):
            pygame.display.flip()
            self.last = None
        else:
            merged = merge_rects(cast("list[pygame.Rect]", rects), self.max_rects)
            pygame.display.update(merged)
            self.last = merged
        self.presents += 1


#: the instance ``request_redraw`` and every ``GameLoop`` (unless given another) use
default_redraw = Redraw()


def request_redraw(rect: pygame.Rect | tuple[int, int, int, int] | None = None) -> None:
    """Ask for ``rect`` (or the whole screen) to be presented at the end of this frame."""
    default_redraw.request(rect)
