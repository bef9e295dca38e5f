"""Redraws: a frame's dirty rects become one display.update(merged rects), or one flip."""

from __future__ import annotations

import random
import re

import pygame
import pytest
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


def reference_merge(rects: list[Rect]) -> set[tuple[int, ...]]:
    """The groups of touching rects, by repeated pairwise merging until nothing touches."""
    groups = [Rect(r) for r in rects if r.width > 0 and r.height > 0]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if groups[i].inflate(2, 2).colliderect(groups[j]):
                    groups[i].union_ip(groups.pop(j))
                    merged = True
                    break
            if merged:
                break
    return {tuple(r) for r in groups}


def test_merging_matches_the_pairwise_reference_on_random_scenes() -> None:
    rng = random.Random(5)
    for _ in range(200):
        rects = [Rect(rng.randrange(300), rng.randrange(200), rng.randrange(0, 30),
                      rng.randrange(0, 30)) for _ in range(rng.randrange(1, 60))]
        got = merge_rects(rects, limit=1000)
        assert {tuple(r) for r in got} == reference_merge(rects)
        assert len(got) == len({tuple(r) for r in got})


def test_requests_before_any_frame_with_no_game_loop_say_what_to_do() -> None:
    with pytest.raises(airlock.NoScopeError) as caught:
        Redraw().request((0, 0, 4, 4))
    message = str(caught.value)
    assert "request_redraw() was called with no frame open" in message
    assert "create the GameLoop first" in message
    assert not re.search(r"(^|[\s.(])_[a-z]", message), message  # no private name


def test_merging_leaves_the_given_rects_and_the_requested_ones_as_they_were(
    screen: pygame.Surface,
) -> None:
    given = [Rect(0, 0, 10, 10), Rect(5, 5, 10, 10)]
    assert merge_rects(given) == [Rect(0, 0, 15, 15)]
    assert given == [Rect(0, 0, 10, 10), Rect(5, 5, 10, 10)]
    redraw = Redraw()
    sprite = Rect(0, 0, 10, 10)
    with airlock.tick_scope():
        redraw.request(sprite)
        sprite.move_ip(100, 0)  # the sprite moves on after asking: its request stays put
        redraw.request(Rect(5, 5, 10, 10))
    assert redraw.last == [Rect(0, 0, 15, 15)] and sprite == Rect(100, 0, 10, 10)
