"""A tick's held effects (``airlock._held``): the hold stage, release requests, the ledger."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock._held import count_held, request_release
from airlock._stats import FlushStats


def test_count_held_moves_the_waiting_effects_through_the_ledger() -> None:
    tick = airlock.tick_scope()
    stats = FlushStats()
    tick._held_in = 2  # two waited when the frame opened, none waits now
    count_held(tick, stats)
    assert (stats.carried_in, stats.carried, stats.held, tick._held_in) == (2, 0, 0, 0)
    tick.close()


def test_request_release_refuses_a_task_that_is_not_held() -> None:
    tick = airlock.tick_scope()
    with pytest.raises(TypeError, match=r"tick\.release\(\) takes a task made with"):
        request_release(tick, print, None)  # type: ignore[arg-type]
    tick.close()


def test_a_release_during_a_frame_runs_at_its_end() -> None:
    log: list[Any] = []
    now = [0.0]
    tick = airlock.tick_scope(clock=lambda: now[0])

    @airlock.debounce(10.0)
    def save(value: Any) -> None:
        log.append(value)

    with tick:
        airlock.enqueue(save, 1)  # type: ignore[arg-type]
    assert log == [] and tick.held == 1
    with tick:
        assert tick.release(save) == 1
        airlock.enqueue(save, 2)  # type: ignore[arg-type]  # the latest arguments win: "save and quit"
    assert log == [2] and tick.held == 0
    tick.close()
