"""Redraw requests: every request of a frame becomes ONE ``display.update(rects)`` or ONE flip.

Rule: a request with no rect asks for the whole screen (one ``display.flip()``), and so do more
than ``4 * max_rects`` requests in a frame (merging them would cost more); otherwise the
frame's rects are merged (overlapping or touching rects become their union) and passed to a
single ``display.update``. In a GameLoop frame a frame's requests are one effect in the
``redraw`` phase (``_collect``); elsewhere each is an ``airlock.batch`` enqueue in that phase.
A bad rect is refused at the ``request`` call (TypeError from ``pygame.Rect``), never in the
batch; the rect is copied there, so moving a sprite's rect afterwards does not move the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, cast

import pygame

import airlock

from ._collect import Collection, FrameTask, OpenCollections, current_target_of, ledger_for
from ._phases import REDRAW
from ._waiting import wait_or_refuse

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
        self._frame_task = FrameTask(self._present_collected, "present", REDRAW)
        self._open = OpenCollections(self)
        self._open_now = self._open.local  # the hot path's one lookup: .pair

    def request(self, rect: pygame.Rect | tuple[int, int, int, int] | None = None) -> None:
        """Ask for ``rect`` (or the whole screen) to be presented at the end of this frame.

        Before any frame is open (e.g. during setup) the request joins the next GameLoop frame.
        """
        if rect is None:
            self._request_full()
            return
        area = rect.copy() if type(rect) is _Rect else _Rect(rect)
        collection = self._open_now.pair.gameplay
        if current_target_of() is collection.target:
            collection.items.append(area)
        else:
            self._request_first(area)

    def _request_full(self) -> None:
        collection = self._open_now.pair.gameplay
        if current_target_of() is collection.target and isinstance(collection, _Presents):
            collection.full += 1
        else:
            self._request_first(None)

    def _request_first(self, area: pygame.Rect | None) -> None:
        """The frame's first request: begin its collection, or enqueue it on its own."""
        target = current_target_of()
        ledger = ledger_for(target)
        if ledger is not None:
            self._open.begin(ledger, _Presents(target, area), self._frame_task, False)
            return
        try:
            airlock.enqueue(self._batch, area)
        except airlock.NoScopeError:
            wait_or_refuse("request_redraw", partial(self.request, area))

    def present(self, rects: list[pygame.Rect | None]) -> None:
        """Present a frame's requests now (the batch handler): one flip or one update."""
        if None in rects:
            self._present([], True, False)
        else:
            self._present(cast("list[pygame.Rect]", rects), False, False)

    def _present_collected(self, collection: _Presents) -> None:
        self._present(collection.items, collection.full > 0, True)

    def _present(self, rects: list[pygame.Rect], full: bool, owned: bool) -> None:
        if full or len(rects) > 4 * self.max_rects:
            pygame.display.flip()
            self.last = None
        else:
            merged = (_merge_owned(rects, self.max_rects) if owned
                      else merge_rects(rects, self.max_rects))
            pygame.display.update(merged)
            self.last = merged
        self.presents += 1


class _Presents(Collection):
    """A GameLoop frame's redraw requests: its rects, and how many asked for the whole screen."""

    __slots__ = ("full",)

    def __init__(self, target: Any, area: pygame.Rect | None) -> None:
        super().__init__(target, [] if area is None else [area])
        self.full = 1 if area is None else 0

    @property
    def requests(self) -> int:
        return len(self.items) + self.full

    @property
    def survivors(self) -> int:
        return self.requests


#: the instance ``request_redraw`` and every ``GameLoop`` (unless given another) use
default_redraw = Redraw()


def request_redraw(rect: pygame.Rect | tuple[int, int, int, int] | None = None) -> None:
    """Ask for ``rect`` (or the whole screen) to be presented at the end of this frame."""
    default_redraw.request(rect)
