"""Allocation assertions (not timing): frames leave no blocks behind once warmed up."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from .cores import kernel
from .memory import frame_memory, soak
from .soak import soak_in_subprocess

FRAMES = 10_000


@pytest.mark.parametrize("core", ["compiled", "pure"])
@pytest.mark.parametrize("k", [0, 1, 10])
def test_tick_soak_has_zero_block_growth(
    benchmark: BenchmarkFixture, k: int, core: str
) -> None:
    """The Ticks issue: zero growth of getallocatedblocks across 10,000 frames, on the
    compiled kernel and on the pure core (``AIRLOCK_NO_EXTENSIONS=1``).

    Run in a fresh interpreter: the count is process-wide, and other tests' threads would
    add their own blocks to it.
    """
    benchmark.group = "soak"
    result = benchmark.pedantic(  # type: ignore[no-untyped-call]
        soak_in_subprocess, (k, FRAMES), {"core": core}, rounds=1, iterations=1
    )
    assert result.frames == FRAMES
    assert result.compiled is (core == "compiled" and kernel() is not None)
    assert result.seconds > 0
    assert result.deltas == [0] * len(result.deltas), result


def test_soak_sees_a_leak() -> None:
    """Positive control: a frame that keeps one object per frame shows up as growth.

    In-process, so threads left by other tests may add or free a few blocks meanwhile: the
    bounds only ask that the leak (600 blocks by the second half, 1,000 at the end) is seen.
    """
    kept: list[object] = []
    result = soak(lambda: kept.append(object()), 1_000)
    assert result.growth >= 400  # the lowest of the second half: 600 frames' worth kept
    assert result.deltas[-1] >= 800


def test_frame_memory_reports_transient_peak() -> None:
    def frame() -> Any:
        return [object() for _ in range(100)]

    found = frame_memory(frame, frames=200)
    assert found.peak_bytes >= 100 * 16
    assert found.gen0_per_1000 >= 0
