"""Both implementations of airlock's core in one process: the compiled kernel and the pure core.

``AIRLOCK_NO_EXTENSIONS=1`` picks the pure core for a whole process (``airlock._native``). To
compare the two in one process (interleaved timings, lock-step differential tests),
``core(compiled)`` switches, until its block ends, every place that holds what ``_native``
decided (``SWITCHED``): ``airlock.enqueue``, ``scope`` and ``policy`` and the ``with`` of ``Scope``
and ``PolicyBlock`` (bound by ``airlock._kernel`` at import), the per-intent stages and the
dispatch loop (installed by ``_pipeline.use_stages`` and ``_dispatch.use_loop``, which it
calls), and the ``speedups()`` that ``airlock._frame`` asks
when a tick is made, so a tick made inside the block runs its frames on that implementation
for its whole life (its flushes use whichever stages are installed when they run).
``benchmarks/test_cores.py`` fails when the core binds the kernel anywhere else.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
from collections.abc import Iterator
from types import ModuleType

import airlock
from airlock import _context, _dispatch, _enqueue, _frame, _kernel, _pipeline

__all__ = ["SWITCHED", "compiled_frames", "core", "kernel"]


@functools.cache
def kernel() -> ModuleType | None:
    """``airlock._speedups`` where it is built, whatever ``AIRLOCK_NO_EXTENSIONS`` says
    (loaded at the first call: a process on the pure core that never asks keeps it out)."""
    try:
        return importlib.import_module("airlock._speedups")
    except ImportError:
        return None


#: (module, attribute): every binding of what ``_native`` decided, set by ``core()`` and put
#: back when its block ends
SWITCHED = (
    (airlock, "enqueue"),
    (_kernel, "enqueue"),
    (airlock, "scope"),
    (_kernel, "scope"),
    (airlock, "policy"),
    (_kernel, "policy"),
    (airlock.Scope, "__enter__"),
    (airlock.Scope, "__exit__"),
    (_context.PolicyBlock, "__enter__"),
    (_context.PolicyBlock, "__exit__"),
    (_frame, "speedups"),
    (_pipeline, "coalesce"),
    (_pipeline, "order"),
    (_pipeline, "merge_batches"),
    (_pipeline, "order_and_merge"),
    (_dispatch, "call_each"),
)


def _install(native: ModuleType | None) -> None:
    """What ``_kernel`` does at import, for ``native`` (the kernel, or None: the pure core),
    and what ``_frame`` reads per tick."""
    enqueue = _enqueue.enqueue if native is None else native.enqueue
    airlock.enqueue = _kernel.enqueue = enqueue
    airlock.scope = _kernel.scope = _enqueue.scope if native is None else native.scope
    airlock.policy = _kernel.policy = _context.policy if native is None else native.policy
    lifecycle = _kernel.PURE_LIFECYCLE if native is None else native.scope_methods()
    airlock.Scope.__enter__, airlock.Scope.__exit__ = lifecycle  # type: ignore[method-assign]
    block = _kernel.PURE_BLOCK_LIFECYCLE if native is None else native.policy_methods()
    _context.PolicyBlock.__enter__, _context.PolicyBlock.__exit__ = block  # type: ignore[method-assign]
    setattr(_frame, "speedups", lambda: native)  # noqa: B010  # a function, replaced
    _pipeline.use_stages(native)
    _dispatch.use_loop(native)


@contextlib.contextmanager
def core(compiled: bool) -> Iterator[None]:
    """Run the block on the compiled kernel (True) or the pure core (False); then restore."""
    native = kernel() if compiled else None
    if compiled and native is None:
        raise RuntimeError("the compiled kernel (airlock._speedups) is not built here")
    # as stored (a class keeps the kernel's methods as instance-method descriptors)
    before = [inspect.getattr_static(module, name) for module, name in SWITCHED]
    try:
        _install(native)
        yield
    finally:
        for (module, name), value in zip(SWITCHED, before, strict=True):
            setattr(module, name, value)


def compiled_frames(tick: airlock.TickScope) -> bool:
    """Whether ``tick``'s frames open and close in the compiled kernel (``with tick:``)."""
    enter = type(tick).__dict__["__enter__"].__get__(tick)
    return all(repr(m).startswith("<compiled ") for m in (enter, tick.__exit__))
