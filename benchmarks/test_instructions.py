"""Instruction counts: the ratios, and one real callgrind measurement."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.instructions import CONTEXTVAR, RAW, TICK, Count, count_frame, ratios


def test_ratios_compare_the_tick_with_its_baselines() -> None:
    counts = [
        Count("intents", 10, RAW, 1000.0), Count("intents", 10, TICK, 1400.0),
        Count("empty", 0, CONTEXTVAR, 200.0), Count("empty", 0, TICK, 560.0),
    ]
    names, values = zip(*ratios(counts), strict=True)
    assert names == ("tick / raw, K=10", "empty tick frame / ContextVar set+reset")
    assert values == pytest.approx((1.4, 2.8))


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind (.ci/run installs it)")
def test_a_frame_is_counted_under_callgrind() -> None:
    counted = count_frame("intents", 1, TICK, 100)
    assert 2_000 < counted.per_frame < 100_000  # the with-protocol alone is thousands
