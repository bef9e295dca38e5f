"""``benchmarks.pygame_frames`` runs once, untimed: every contender does the claimed work.

Only the work and the form of the report are checked; the verdicts belong to a timed run
(``python -m benchmarks.pygame_frames`` or ``python -m benchmarks.report``), never to a test.
"""

from __future__ import annotations

from benchmarks import pygame_frames
from benchmarks.compare import Results
from benchmarks.pygame_frames import DISTINCT_SOUNDS, SENDS, TARGETS, WORKLOADS, Counts
from benchmarks.sections import RunOptions


def test_every_contender_does_the_same_work_per_frame() -> None:
    done = pygame_frames.smoke(frames=3)
    mixed = Counts(3, 3, 3 * DISTINCT_SOUNDS, 3, 3 * SENDS)
    assert done["mixed"] == dict.fromkeys(WORKLOADS["mixed"], mixed)
    assert done["empty"] == dict.fromkeys(WORKLOADS["empty"], Counts(3, 3))
    for name, counts in done["sprites"].items():
        assert (counts.frames, counts.presents) == (3, 3), name
        assert counts.sounds in (0, 1), name  # a shot (and its sound) every 6 frames


def test_a_short_run_reports_every_workload_and_judges_every_target() -> None:
    options = RunOptions(quick=True, rounds=2, sample_ms=0.05)
    result = pygame_frames.SECTION.run(options, Results())
    for title in pygame_frames.TITLES.values():
        assert f"### {title}" in result.markdown
    assert "Dirty over flip on the same sprite frames" in result.markdown
    assert [c.name for c in result.checks] == [
        f"pygame {workload} frame: {ours} / {baseline}" for workload, ours, baseline, _ in TARGETS
    ]
    assert all(c.passed is not None and c.value.endswith("x") for c in result.checks)
