"""Which implementation runs: the compiled kernel (``airlock._speedups``) or the pure core.

Decided once, at import (``_native`` says whether the kernel runs), and installed here: the
kernel's ``enqueue``, ``scope`` and ``policy``, the ``with`` of ``Scope`` and ``PolicyBlock``,
the per-intent stages (``_pipeline.use_stages``) and the dispatch loop
(``_dispatch.use_loop``); a tick's frame asks ``_native`` itself (``_frame.frame_methods``).
The pure core is the reference: each compiled function does the common case itself and hands
every other call to its pure twin unchanged, so both behave the same.
``benchmarks.cores.core()`` switches every binding made here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _context, _dispatch, _enqueue, _pipeline
from ._context import PolicyBlock
from ._native import speedups
from ._scope import Scope
from ._tick import TickScope

__all__ = [
    "PURE_BLOCK_LIFECYCLE", "PURE_LIFECYCLE", "builds_like_scope", "captures_plainly", "compiled",
    "enqueue", "inlines_lifecycle", "policy", "scope",
]

_native = speedups()
compiled: bool = _native is not None
"""True when ``airlock.enqueue`` is the optional compiled kernel's (``airlock._speedups``),
False when the pure-Python core runs it. Both behave the same; ``AIRLOCK_NO_EXTENSIONS=1`` in
the environment before ``import airlock`` picks the pure core."""

if TYPE_CHECKING:
    from ._context import policy
    from ._enqueue import enqueue, scope
else:
    enqueue = _enqueue.enqueue if _native is None else _native.enqueue
    scope = _enqueue.scope if _native is None else _native.scope
    policy = _context.policy if _native is None else _native.policy
_pipeline.use_stages(_native)
_dispatch.use_loop(_native)

#: ``Scope``'s own ``__enter__`` and ``__exit__`` (Python); where the kernel runs, ``Scope``
#: gets the kernel's, which do the common ``with`` and call these for everything else
PURE_LIFECYCLE = (vars(Scope)["__enter__"], vars(Scope)["__exit__"])
if _native is not None:
    Scope.__enter__, Scope.__exit__ = _native.scope_methods()  # type: ignore[method-assign]
#: ``PolicyBlock``'s own ``__enter__`` and ``__exit__``, replaced likewise (``with
#: airlock.policy(p):``)
PURE_BLOCK_LIFECYCLE = (vars(PolicyBlock)["__enter__"], vars(PolicyBlock)["__exit__"])
if _native is not None:
    PolicyBlock.__enter__, PolicyBlock.__exit__ = _native.policy_methods()  # type: ignore[method-assign]

#: the slots the kernel's ``with`` reads and writes at ``Scope``'s offsets, and the methods
#: whose work it does itself (``_release``'s plain branch, ``_run_plain``, ``nest``'s
#: ``_update_accepting``)
_LIFECYCLE_SLOTS = ("_accepting", "_ambient_policies", "_buffer", "_parent", "_plain_count",
                    "_plain_ns", "_plan", "_release", "_run_plain", "_state", "_timed", "_token",
                    "_update_accepting", "observers")


def inlines_lifecycle(cls: type[Scope]) -> bool:
    """Whether the kernel may run the common ``with`` of a ``Scope`` subclass: it keeps
    Scope's lifecycle (``_plain_lifecycle``) and redefines none of the slots it uses. Asked
    once per class, by the kernel."""
    return bool(cls._plain_lifecycle) and all(
        getattr(cls, name, None) is getattr(Scope, name, None) for name in _LIFECYCLE_SLOTS
    )


#: the slots ``Scope.__init__`` writes for the common scope, which the kernel's
#: ``airlock.scope()`` writes in place (``fresh_scope_of``: keep in sync)
_INIT_SLOTS = ("_accepting", "_ambient_policies", "_buffer", "_executor", "_parent",
               "_plain_captured", "_plain_count", "_plain_ns", "_plan", "_policy", "_state",
               "_stats", "_timed", "_token", "errors", "observers", "order_by")


def builds_like_scope(cls: type[Scope]) -> bool:
    """Whether the kernel may build ``airlock.scope(_cls=cls)`` itself (``cls`` keeps Scope's
    ``__init__``): the class hides none of the slots ``Scope.__init__`` writes (a class
    attribute ``errors = "continue"`` would win over the slot written in place). Asked once
    per class, by the kernel."""
    return all(getattr(cls, name, None) is getattr(Scope, name, None) for name in _INIT_SLOTS)


#: what the kernel's hand-over (``_release``'s for a plain scope nested in an open one:
#: ``_nesting.hand_over`` and ``Buffer.capture``) reads and does itself on the ancestor
_CAPTURE_SLOTS: tuple[str, ...] = ("_buffer", "_capture", "_captures_descendants", "_state",
                                   "before_descendant_flushes")


def captures_plainly(cls: type[Scope]) -> bool:
    """Whether the kernel may hand a nested scope's plain records to an open ancestor of class
    ``cls`` itself: it captures as ``Scope`` (or, a tick, as ``TickScope``) does, with the
    same slots. Asked once per class, by the kernel."""
    base, names = Scope, _CAPTURE_SLOTS
    if issubclass(cls, TickScope):
        base, names = TickScope, (*_CAPTURE_SLOTS, "_closed")
    return all(getattr(cls, name, None) is getattr(base, name, None) for name in names)
