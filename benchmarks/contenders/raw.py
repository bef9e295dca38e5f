"""The floor: a hand-written module-level buffer of ``(fn, args, kwargs)`` tuples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..bodies import enqueue_k, enqueue_keyed, enqueue_phased, then
from ..effects import PHASES, Effect
from .base import Contender, Frame

__all__ = ["Raw", "clear", "enqueue", "enqueue_batched", "enqueue_coalescing", "flush"]

_buffer: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
_keyed: dict[object, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {}
_batches: dict[Callable[..., Any], list[Any]] = {}
_RANK = {name: rank for rank, name in enumerate(PHASES)}


def enqueue(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    _buffer.append((fn, args, kwargs))


def flush() -> None:
    for fn, args, kwargs in _buffer:
        fn(*args, **kwargs)
    _buffer.clear()


def clear() -> None:
    _buffer.clear()


def enqueue_coalescing(fn: Callable[..., Any], *args: Any, _key: object, **kwargs: Any) -> None:
    """Last enqueue per key survives, at its own position (pop + re-insert)."""
    _keyed.pop(_key, None)
    _keyed[_key] = (fn, args, kwargs)


def flush_keyed() -> None:
    for fn, args, kwargs in _keyed.values():
        fn(*args, **kwargs)
    _keyed.clear()


def enqueue_batched(fn: Callable[[list[Any]], Any], payload: Any) -> None:
    """Hand-written batching: payloads gathered per handler, one call each at flush."""
    batch = _batches.get(fn)
    if batch is None:
        batch = _batches[fn] = []
    batch.append(payload)


def flush_batches() -> None:
    for fn, payloads in _batches.items():
        fn(payloads)
    _batches.clear()


def _phase_rank(entry: tuple[Callable[..., Any], Any, Any]) -> int:
    return _RANK[entry[0].airlock_phase]  # type: ignore[attr-defined]


def flush_ordered() -> None:
    _buffer.sort(key=_phase_rank)
    flush()


class Raw(Contender):
    name = "raw"
    note = "hand-written list buffer: append (fn, args, kwargs), loop, clear"

    def w_intents(self, k: int, effect: Effect) -> Frame:
        def frame() -> None:
            for i in range(k):
                enqueue(effect, i)
            flush()

        return frame

    def w_empty(self, k: int, effect: Effect) -> Frame:
        return flush

    def w_nested(self, depth: int, effect: Effect) -> Frame:
        """The floor for nesting: the same enqueues (depth, ..., 1) with no scopes at all."""

        def frame() -> None:
            for d in range(depth, 0, -1):
                enqueue(effect, d)
            flush()

        return frame

    def w_drop(self, k: int, effect: Effect) -> Frame:
        return then(enqueue_k(enqueue, effect, k), clear)

    w_local_drop = w_drop

    def w_coalesce(self, k: int, effect: Effect) -> Frame:
        return then(enqueue_keyed(enqueue_coalescing, effect, k), flush_keyed)

    def w_batch(self, k: int, effect: Effect) -> Frame:
        return then(enqueue_k(enqueue_batched, effect, k), flush_batches)

    def w_ordered(self, k: int, effect: Effect) -> Frame:
        return then(enqueue_phased(enqueue, effect, k), flush_ordered)

    def w_observed(self, k: int, effect: Effect) -> Frame:
        """The floor for hooks: the same frame with none."""
        return self.w_intents(k, effect)
