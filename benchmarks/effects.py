"""The effects every contender runs: no-ops for timing, recorders for the correctness tests."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import airlock

__all__ = ["PHASES", "Effect", "Recorder", "noop", "phased_tasks"]

Effect = Callable[..., Any]
PHASES = ("redraw", "sound", "network")


def noop(*args: Any) -> None:
    """The effect being timed: costs one call and nothing else."""


class Recorder:
    """An effect that remembers its calls, to check that a frame did the work it claims."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


def phased_tasks(effect: Effect) -> list[Effect]:
    """One task per phase, in reverse phase order: ``task(x)`` calls ``effect(phase, x)``.

    Each task is a ``functools.partial`` of ``effect`` (no Python frame of its own: a phased
    intent costs the effect's one call, as a plain one does) carrying ``airlock_phase`` (set by
    ``airlock.phase``), which every contender reads to order a frame.
    """
    tasks: list[Effect] = []
    for name in reversed(PHASES):
        task = functools.partial(effect, name)
        setattr(task, "__name__", name)  # noqa: B010  (a partial has no __name__ of its own)
        tasks.append(airlock.phase(name)(task))
    return tasks
