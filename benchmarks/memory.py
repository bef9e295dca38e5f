"""Memory per frame: retained blocks, transient peak, GC pressure, and the long soak.

Rule: after warm-up, a frame that enqueues and flushes must leave ``sys.getallocatedblocks()``
where it found it — across any number of frames. The count is process-wide, so blocks held for
a moment by other threads show up as transient bumps; growth is what stays (see ``Soak``).
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FrameMemory", "Soak", "frame_memory", "retained_blocks", "soak"]

Frame = Callable[[], None]


def _run(frame: Frame, frames: int) -> None:
    for _ in range(frames):
        frame()


def _blocks() -> int:
    gc.collect()
    return sys.getallocatedblocks()


def _baseline() -> int:
    """A block count that already includes the int object holding it.

    The first reading's int is allocated after it counted; the second counts the first, then
    replaces it one for one. Later readings are kept as small deltas, which Python caches.
    """
    _blocks()
    base = _blocks()
    base = _blocks()
    return base


def retained_blocks(frame: Frame, frames: int, warmup: int = 1_000) -> int:
    """Sustained growth of ``sys.getallocatedblocks()`` over ``frames`` frames after ``warmup``."""
    return soak(frame, frames, checkpoints=4, warmup=warmup).growth


@dataclass
class FrameMemory:
    retained_per_1000: float  # net blocks left behind per 1000 frames
    peak_bytes: int  # transient Python-heap peak within one frame (tracemalloc)
    gen0_per_1000: float  # generation-0 collections per 1000 frames


def frame_memory(frame: Frame, frames: int = 5_000, warmup: int = 1_000) -> FrameMemory:
    """Measure one contender's frame (C-heap allocations, e.g. SDL's, are not seen)."""
    retained = retained_blocks(frame, frames, warmup)
    collections = gc.get_stats()[0]["collections"]
    _run(frame, frames)
    gen0 = gc.get_stats()[0]["collections"] - collections
    tracemalloc.start()
    try:
        _run(frame, 3)
        tracemalloc.reset_peak()
        current = tracemalloc.get_traced_memory()[0]
        frame()
        peak = tracemalloc.get_traced_memory()[1] - current
    finally:
        tracemalloc.stop()
    return FrameMemory(retained * 1000 / frames, peak, gen0 * 1000 / frames)


@dataclass
class Soak:
    frames: int
    baseline: int  # getallocatedblocks after warm-up
    deltas: list[int]  # growth over the baseline at evenly spaced checkpoints
    seconds: float = 0.0  # the soak's frames and checkpoints (wall clock)
    compiled: bool | None = None  # which core ran it (``airlock.compiled``), where recorded

    @property
    def growth(self) -> int:
        """What stays: the lowest reading of the second half (a leak raises them all)."""
        return min(self.deltas[len(self.deltas) // 2 :])

    @property
    def peak(self) -> int:
        return max(self.deltas)


def soak(frame: Frame, frames: int, checkpoints: int = 10, warmup: int = 1_000) -> Soak:
    """Run ``frames`` frames, reading the allocated-block count at ``checkpoints`` points.

    What is alive after the warm-up is frozen (``gc.freeze``) for the soak: the full
    collections at the checkpoints then skip it, and stay cheap in a process holding many
    objects (a test run), while everything the frames allocate is still collected.
    """
    _run(frame, warmup)
    step, left = divmod(frames, checkpoints)
    deltas = [0] * checkpoints
    todo = iter(enumerate([step] * (checkpoints - 1) + [step + left]))  # allocated before base
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    try:
        base = _baseline()
        for index, size in todo:
            _run(frame, size)
            deltas[index] = _blocks() - base
    finally:
        gc.unfreeze()
    return Soak(frames, base, deltas, time.perf_counter() - started)
