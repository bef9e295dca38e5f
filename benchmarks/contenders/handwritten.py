"""The floor for any context-local scope: raw's buffer behind one ContextVar, no features.

``enqueue`` pays one ``ContextVar.get`` and the check every conforming scope makes (a task
that is not callable fails where it is enqueued, not at flush); a frame pays one ``set`` +
``reset``. A featureful scope whose unused features cost nothing should land within noise of
this.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from ..effects import Effect
from .base import Contender, Frame

__all__ = ["HandWrittenScope", "enqueue"]

Entry = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_current: ContextVar[list[Entry] | None] = ContextVar("bench_handwritten_scope", default=None)
_get = _current.get


def enqueue(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    buffer = _get()
    if buffer is None:
        raise RuntimeError("enqueue() outside a hand-written scope")
    if not callable(fn):
        raise TypeError(f"enqueue() needs a callable, got {fn!r}")
    buffer.append((fn, args, kwargs))


class HandWrittenScope(Contender):
    name = "hand-written scope"
    note = ("raw's buffer behind a ContextVar: get and a callable check per enqueue, set+reset "
            "per frame, no features")

    def w_intents(self, k: int, effect: Effect) -> Frame:
        buffer: list[Entry] = []
        set_, reset = _current.set, _current.reset

        def frame() -> None:
            token = set_(buffer)
            try:
                for i in range(k):
                    enqueue(effect, i)
            finally:
                reset(token)
            for fn, args, kwargs in buffer:
                fn(*args, **kwargs)
            buffer.clear()

        return frame

    def w_empty(self, k: int, effect: Effect) -> Frame:
        buffer: list[Entry] = []
        set_, reset = _current.set, _current.reset

        def frame() -> None:
            reset(set_(buffer))
            for fn, args, kwargs in buffer:
                fn(*args, **kwargs)
            buffer.clear()

        return frame
