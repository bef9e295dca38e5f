"""fork(): a child process starts with none of its parent's pending effects.

Rules (``os.register_at_fork``, registered when airlock is imported):
- Every live tick forgets, in the child, what waits for its next frames (buffer, carry,
  inbox), gets fresh locks and no frame claim (``_reset_tick``). The parent keeps and
  runs its own effects; the child runs only what it enqueues or posts after the fork.
- A scope open in the forking thread's context, and each scope around it, forgets its
  buffered effects in the child too: the child may leave the ``with`` block the fork was
  called in, and must not flush the parent's effects a second time.
- Scopes open in the parent's other threads never flush in the child: their threads do not
  exist there.
- The buffers' shift token is free in the child: a thread that held it at the fork does not
  exist there (the forking thread holds it only for a few list operations of its own).
- Not covered: an effect that forks. The flush running it already holds the frame's entries,
  so a child that returns from the effect runs the rest of them: it must exec or
  ``os._exit()`` first (docs/concepts/invariants.md, 11).
"""

from __future__ import annotations

import os
import threading
import weakref
from _thread import get_ident
from typing import TYPE_CHECKING, Any

from ._buffer import SHIFT_TOKEN
from ._context import current_target, resolve, runs_inside
from ._states import FLUSHED, GENERAL

if TYPE_CHECKING:
    from ._scope import Scope
    from ._tick import TickScope

__all__ = ["live_ticks", "track_for_fork"]

_ticks: weakref.WeakSet[Any] = weakref.WeakSet()


def track_for_fork(tick: TickScope) -> None:
    """Reset ``tick`` in forked children (and see it in ``live_ticks``)."""
    _ticks.add(tick)


def live_ticks() -> list[TickScope]:
    """The ticks not yet collected."""
    return list(_ticks)


def _reset_tick(tick: TickScope) -> None:
    """In a forked child: none of the parent's waiting effects (buffer, carry, inbox) stays,
    locks are fresh. A frame the forking thread had open stays open (the child leaves it as
    the parent does), empty; one open in another thread of the parent is gone with that
    thread: the child may open frames."""
    tick._buffer.drop()  # never rebound: the frame closures hold it
    tick._spent = 0
    tick._carry.clear()
    tick._held.clear()
    tick._carried_in = tick._shed_in = tick._held_in = 0
    tick._inbox.after_fork()
    tick._lock = threading.RLock()
    if not tick._claim and not (  # a frame this thread (the child's only one) has open
        runs_inside(tick) if tick._owner is None else tick._owner == get_ident()
    ):
        tick._state = FLUSHED
        tick._accepting = False
        tick._token = None
        tick._parent = None
        tick._inline = GENERAL
        tick._claim.append(True)


def _forget_in_child() -> None:
    SHIFT_TOKEN[:] = [True]
    for tick in list(_ticks):
        _reset_tick(tick)
    scope: Scope | None = resolve(current_target.get())[0]
    while scope is not None:
        if scope not in _ticks:
            scope._buffer.drop()
        scope = scope._parent


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_in_child)
