"""fork(): a child process starts with none of its parent's pending effects.

Rules (``os.register_at_fork``, registered when airlock is imported):
- Every live tick forgets, in the child, what waits for its next frames (buffer, carry,
  inbox), gets fresh locks and no frame claim (``TickScope._after_fork``). The parent keeps and
  runs its own effects; the child runs only what it enqueues or posts after the fork.
- A scope open in the forking thread's context, and each scope around it, forgets its
  buffered effects in the child too: the child may leave the ``with`` block the fork was
  called in, and must not flush the parent's effects a second time.
- Scopes open in the parent's other threads never flush in the child: their threads do not
  exist there.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

from ._context import current_target, resolve

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = ["track_for_fork"]

_ticks: weakref.WeakSet[Any] = weakref.WeakSet()


def track_for_fork(tick: Any) -> None:
    """Reset ``tick`` in forked children (it must define ``_after_fork()``)."""
    _ticks.add(tick)


def _forget_in_child() -> None:
    for tick in list(_ticks):
        tick._after_fork()
    scope: Scope | None = resolve(current_target.get())[0]
    while scope is not None:
        if scope not in _ticks:
            scope._buffer.drop()
        scope = scope._parent


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_in_child)
