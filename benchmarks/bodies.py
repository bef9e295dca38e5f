"""Frame bodies written once over an ``enqueue`` function, so contenders do identical work.

A body is the domain code of one frame: it only enqueues. Opening and flushing the frame is
the contender's business.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from .effects import Effect, phased_tasks

__all__ = [
    "Body", "enqueue_k", "enqueue_keyed", "enqueue_phased", "nested_levels", "then", "under",
]

Body = Callable[[], None]
Enqueue = Callable[..., Any]


def enqueue_k(enqueue: Enqueue, effect: Effect, k: int) -> Body:
    """K enqueues of ``effect(i)``."""

    def body() -> None:
        for i in range(k):
            enqueue(effect, i)

    return body


def enqueue_keyed(enqueue: Enqueue, effect: Effect, k: int) -> Body:
    """K enqueues over K/10 coalescing keys (10% unique)."""
    unique = max(k // 10, 1)

    def body() -> None:
        for i in range(k):
            enqueue(effect, i, _key=i % unique)

    return body


def enqueue_phased(enqueue: Enqueue, effect: Effect, k: int) -> Body:
    """K enqueues cycling over the phase tasks, in reverse phase order."""
    tasks = phased_tasks(effect)
    n = len(tasks)

    def body() -> None:
        for i in range(k):
            enqueue(tasks[i % n], i)

    return body


def nested_levels(
    scope: Callable[[], AbstractContextManager[Any]], enqueue: Enqueue, effect: Effect, depth: int
) -> Body:
    """One enqueue at this level, then ``depth - 1`` more levels in nested scopes."""

    def level(d: int) -> None:
        enqueue(effect, d)
        if d > 1:
            with scope():
                level(d - 1)

    def body() -> None:
        level(depth)

    return body


def under(context: Callable[[], AbstractContextManager[Any]], body: Body) -> Body:
    """Run ``body`` inside ``with context():`` (a local policy, for instance)."""

    def wrapped() -> None:
        with context():
            body()

    return wrapped


def then(body: Body, finish: Body) -> Body:
    """Run ``body``, then ``finish`` (a hand-written frame: the enqueues, then its flush)."""

    def frame() -> None:
        body()
        finish()

    return frame
