"""Instruction counts: the ratios, and one real callgrind measurement."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.instructions import (
    CELLS,
    CONTEXTVAR,
    RAW,
    TICK,
    Count,
    child_env,
    count_frame,
    feature_cells,
    frame_of,
    ratios,
)


def test_ratios_compare_the_tick_with_its_baselines() -> None:
    counts = [
        Count("intents", 10, RAW, 1000.0), Count("intents", 10, TICK, 1400.0),
        Count("empty", 0, CONTEXTVAR, 200.0), Count("empty", 0, TICK, 560.0),
    ]
    names, values = zip(*ratios(counts), strict=True)
    assert names == ("tick / raw, K=10", "empty tick frame / ContextVar set+reset")
    assert values == pytest.approx((1.4, 2.8))


@pytest.mark.ci_only("a frame's instructions counted under callgrind (two valgrind runs)")
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind (.ci/run installs it)")
def test_a_frame_is_counted_under_callgrind() -> None:
    counted = count_frame("intents", 1, TICK, 100)
    assert 2_000 < counted.per_frame < 100_000  # the with-protocol alone is thousands


def test_feature_ratios_compare_each_feature_with_plain_and_its_hand_written() -> None:
    k = 100
    counts = [Count(w, p, c, n) for (w, p, c), n in zip(
        feature_cells(k)[:4], (1000.0, 500.0, 3000.0, 600.0), strict=True)]
    assert ratios(counts) == [
        ("plain / its hand-written, K=100", 2.0),
        ("key-distinct / plain enqueue, K=100", 3.0),
        ("key-distinct / its hand-written, K=100", 5.0),
    ]


def test_pure_feature_cells_run_the_pure_core_and_compare_with_the_pure_plain_frame() -> None:
    cells = feature_cells(100, pure=True)
    assert cells[:6] == [("feature", 100, f"{name}:{side}") for name in ("plain", "key-distinct")
                         for side in ("ours", "hand", "pure")]
    assert child_env("plain:pure")["AIRLOCK_NO_EXTENSIONS"] == "1"
    assert "AIRLOCK_NO_EXTENSIONS" not in child_env("plain:ours")
    counts = [Count(w, p, c, n) for (w, p, c), n in zip(
        cells[:6], (1000.0, 500.0, 2000.0, 3000.0, 600.0, 5000.0), strict=True)]
    assert ("key-distinct / plain enqueue, pure core, K=100", 2.5) in ratios(counts)


def test_the_child_builds_every_frame_by_name() -> None:
    workload, _, contender = feature_cells(3)[6]
    assert (workload, contender) == ("feature", "batch:ours")
    for cell in [*feature_cells(3, pure=True), *CELLS]:
        frame_of(*cell)()
