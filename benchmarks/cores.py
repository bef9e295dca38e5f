"""Both implementations of airlock's core in one process: the compiled kernel and the pure core.

``AIRLOCK_NO_EXTENSIONS=1`` picks the pure core for a whole process (``airlock._native``). To
compare the two in one process (interleaved timings, lock-step differential tests),
``core(compiled)`` switches, until its block ends, every place that holds what ``_native``
decided (``SWITCHED``): ``airlock.enqueue`` (bound by ``airlock._kernel`` at import) and the
``speedups()`` that ``airlock._frame`` asks when a tick is made, so a tick made inside the block
runs its frames on that implementation for its whole life. ``benchmarks/test_cores.py`` fails
when the core binds the kernel anywhere else.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator
from types import ModuleType

import airlock
from airlock import _enqueue, _frame, _kernel

__all__ = ["SWITCHED", "compiled_frames", "core", "kernel"]


@functools.cache
def kernel() -> ModuleType | None:
    """``airlock._speedups`` where it is built, whatever ``AIRLOCK_NO_EXTENSIONS`` says
    (loaded at the first call: a process on the pure core that never asks keeps it out)."""
    try:
        return importlib.import_module("airlock._speedups")
    except ImportError:
        return None


#: (module, attribute): every binding that ``core()`` switches
SWITCHED = (
    (airlock, "enqueue"),
    (_kernel, "enqueue"),
    (_frame, "speedups"),
)


def _values(compiled: bool) -> tuple[object, object, Callable[[], ModuleType | None]]:
    if not compiled:
        return _enqueue.enqueue, _enqueue.enqueue, lambda: None
    built = kernel()
    if built is None:
        raise RuntimeError("the compiled kernel (airlock._speedups) is not built here")
    return built.enqueue, built.enqueue, lambda: built


@contextlib.contextmanager
def core(compiled: bool) -> Iterator[None]:
    """Run the block on the compiled kernel (True) or the pure core (False); then restore."""
    before = [getattr(module, name) for module, name in SWITCHED]
    for (module, name), value in zip(SWITCHED, _values(compiled), strict=True):
        setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name), value in zip(SWITCHED, before, strict=True):
            setattr(module, name, value)


def compiled_frames(tick: airlock.TickScope) -> bool:
    """Whether ``tick``'s frames open and close in the compiled kernel (``with tick:``)."""
    enter = type(tick).__dict__["__enter__"].__get__(tick)
    return all(repr(m).startswith("<compiled ") for m in (enter, tick.__exit__))
