"""Allocation assertions (not timing): frames leave no blocks behind once warmed up."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import airlock

from .contenders import TICK, Contender
from .effects import noop
from .memory import frame_memory, retained_blocks, soak

FRAMES = 10_000


@pytest.mark.parametrize("k", [0, 1, 10])
def test_tick_soak_has_zero_block_growth(
    benchmark: BenchmarkFixture, opened: dict[str, Contender], k: int
) -> None:
    """The Ticks issue: zero growth of getallocatedblocks across 10,000 one-intent frames."""
    benchmark.group = "soak"
    frame = opened[TICK].build("intents", k, noop)
    result = benchmark.pedantic(  # type: ignore[no-untyped-call]
        soak, (frame, FRAMES), rounds=1, iterations=1
    )
    assert result.deltas == [0] * len(result.deltas), result


def test_soak_sees_a_leak() -> None:
    """Positive control: a frame that keeps one object per frame shows up as growth."""
    kept: list[object] = []
    result = soak(lambda: kept.append(object()), 1_000)
    assert 1_000 <= result.growth <= 1_100
    assert result.deltas == sorted(result.deltas)


def test_retained_blocks_is_zero_for_a_clean_frame() -> None:
    tick = airlock.tick_scope()

    def frame() -> None:
        with tick:
            airlock.enqueue(noop, 1)

    assert retained_blocks(frame, 2_000) == 0


def test_frame_memory_reports_transient_peak() -> None:
    def frame() -> Any:
        return [object() for _ in range(100)]

    found = frame_memory(frame, frames=200)
    assert found.retained_per_1000 == 0
    assert found.peak_bytes >= 100 * 16
