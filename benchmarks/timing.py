"""Interleaved timing: every contender of a cell is sampled in turn, round after round.

Noise on a shared machine (other processes, frequency changes) then hits all contenders of a
cell alike, so their ratios stay meaningful even when absolute times drift. The default clock
is this thread's CPU time, so time spent descheduled by other processes is not counted.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from time import perf_counter_ns, thread_time_ns
from typing import TypeVar

__all__ = ["CLOCKS", "Measurement", "calibrate", "interleave", "per_frame_ns", "quartiles"]

Frame = Callable[[], None]
Clock = Callable[[], int]
CLOCKS: dict[str, Clock] = {"cpu": thread_time_ns, "wall": perf_counter_ns}


@dataclass
class Measurement:
    """Per-frame nanoseconds of one contender on one cell, one entry per round."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)


def quartiles(values: list[float]) -> tuple[float, float]:
    """The first and third quartiles: the middle half of per-round ratios (one round: itself)."""
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def per_frame_ns(frame: Frame, frames: int, clock: Clock = thread_time_ns) -> float:
    """Mean time of ``frames`` consecutive frames on ``clock``, in nanoseconds."""
    loop = range(frames)
    start = clock()
    for _ in loop:
        frame()
    return (clock() - start) / frames


MIN_FRAMES = 5  # a sample of one big frame would catch a collector pause or not at all


def calibrate(frame: Frame, sample_ns: float, clock: Clock = thread_time_ns) -> int:
    """How many frames make one sample last about ``sample_ns`` (at least ``MIN_FRAMES``)."""
    frames = 1
    while True:
        elapsed = per_frame_ns(frame, frames, clock) * frames
        if elapsed >= sample_ns / 4 or frames >= 1 << 22:
            return max(MIN_FRAMES, int(frames * sample_ns / max(elapsed, 1.0)))
        frames *= 4


K = TypeVar("K", bound=Hashable)


def interleave(
    frames: dict[K, Frame], rounds: int, sample_ns: float, clock: Clock = thread_time_ns
) -> dict[K, Measurement]:
    """Sample every frame ``rounds`` times, rotating the order each round."""
    names: Sequence[K] = list(frames)
    counts = {name: calibrate(frames[name], sample_ns, clock) for name in names}
    results = {name: Measurement() for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in [*names[shift:], *names[:shift]]:
            results[name].samples.append(per_frame_ns(frames[name], counts[name], clock))
    return results
