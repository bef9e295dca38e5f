"""Redraws: a frame's dirty rects become one display.update(merged rects), or one flip."""

from __future__ import annotations

import pygame
from pygame import Rect

import airlock
from airlock_pygame import PHASE_ORDER, Redraw, merge_rects


def test_overlapping_and_touching_rects_merge_separate_ones_stay() -> None:
    rects = [Rect(0, 0, 10, 10), Rect(5, 5, 10, 10), Rect(15, 0, 5, 5), Rect(100, 100, 4, 4)]
    assert merge_rects(rects) == [Rect(0, 0, 20, 15), Rect(100, 100, 4, 4)]


def test_merge_joins_chains_in_any_order() -> None:
    rects = [Rect(0, 0, 4, 4), Rect(40, 0, 4, 4), Rect(20, 0, 24, 4), Rect(3, 0, 18, 4)]
    assert merge_rects(rects) == [Rect(0, 0, 44, 4)]


def test_empty_rects_are_ignored_and_too_many_become_one() -> None:
    assert merge_rects([Rect(0, 0, 0, 10), Rect(1, 1, 5, 0)]) == []
    scattered = [Rect(10 * i, 10 * i, 2, 2) for i in range(5)]
    assert merge_rects(scattered, limit=4) == [Rect(0, 0, 42, 42)]


def test_a_frames_dirty_rects_are_presented_once(screen: pygame.Surface) -> None:
    redraw = Redraw()
    tick = airlock.tick_scope(order_by=PHASE_ORDER)
    with tick:
        redraw.request((10, 10, 20, 20))
        redraw.request(Rect(25, 25, 10, 10))
        redraw.request((200, 100, 8, 8))
    assert redraw.presents == 1
    assert redraw.last == [Rect(10, 10, 25, 25), Rect(200, 100, 8, 8)]
    assert (tick.stats.enqueued, tick.stats.batched, tick.stats.dispatched) == (3, 2, 1)


def test_one_full_request_makes_the_frame_a_single_flip(screen: pygame.Surface) -> None:
    redraw = Redraw()
    tick = airlock.tick_scope()
    with tick:
        redraw.request((0, 0, 5, 5))
        redraw.request()
        redraw.request((50, 50, 5, 5))
    assert (redraw.presents, redraw.last) == (1, None)
    with tick:
        pass
    assert redraw.presents == 1  # a frame with no request presents nothing


def test_a_flood_of_requests_becomes_one_flip(screen: pygame.Surface) -> None:
    redraw = Redraw(max_rects=2)
    with airlock.tick_scope():
        for i in range(9):
            redraw.request((30 * i, 0, 4, 4))
    assert (redraw.presents, redraw.last) == (1, None)
    with airlock.tick_scope():
        for i in range(8):
            redraw.request((30 * i, 0, 4, 4))
    assert redraw.last == [pygame.Rect(0, 0, 214, 4)]  # 8 rects > max_rects: one union
