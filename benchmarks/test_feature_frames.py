"""One benchmark per (tick feature, K, side): airlock's frame and its hand-written equivalent.

Run once in a plain test run (no timing), grouped so that ``--benchmark-only`` compares the
two sides. After that, both sides are rebuilt around a recorder and must make the same calls,
in the same order, as the feature's documented behaviour says, frame after frame.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from .effects import PHASES, Recorder, noop
from .feature_frames import FEATURES, Feature, FrameBuilder

SIDES = ("ours", "hand")
CASES = [(f, k, side) for f in FEATURES for k in (1, 10) for side in SIDES]


def expected(feature: str, k: int) -> list[tuple[Any, ...]]:
    """The calls one frame makes to its effect."""
    order = list(reversed(PHASES))  # enqueue i is in phase order[i % 3]
    if feature == "key-one":
        return [(k - 1,)]
    if feature == "batch":
        return [(list(range(k)),)]
    if feature == "phase-task":
        return [(p, i) for p in PHASES for i in range(k) if order[i % 3] == p]
    if feature == "phase-option":
        return [(i,) for p in PHASES for i in range(k) if order[i % 3] == p]
    return [(i,) for i in range(k)]


def _builder(feature: Feature, side: str) -> FrameBuilder:
    return feature.ours if side == "ours" else feature.hand


@pytest.mark.parametrize(("feature", "k", "side"), CASES,
                         ids=[f"{f.name}-{k}-{side}" for f, k, side in CASES])
def test_feature_frame(benchmark: BenchmarkFixture, feature: Feature, k: int, side: str) -> None:
    benchmark.group = f"feature-{feature.name}-{k}"
    benchmark.extra_info["intents_per_frame"] = k
    build = _builder(feature, side)
    benchmark(build(k, noop))  # run once when timing is off

    recorder = Recorder()
    frame = build(k, recorder)
    frame()
    frame()
    assert recorder.calls == expected(feature.name, k) * 2


def test_every_feature_of_the_issue_is_measured_once() -> None:
    names = [f.name for f in FEATURES]
    assert names == ["plain", "key-distinct", "key-one", "batch", "phase-task", "phase-option",
                     "policy", "observer", "observer-hooks", "options"]
    assert all(f.title and f.hand_note for f in FEATURES)
