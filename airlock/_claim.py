"""Who holds a tick's frame: named in the refusal a second opener gets.

Rule: a tick has one frame open or flushing at a time (its claim). A frame opened through
``tick.enter()`` records its thread when it opens; one opened inline (``with tick:`` on the
plain path, see ``_frame.frame_methods``) records it only when its end starts to flush
something — ``get_ident()`` on every frame would cost the empty frame more than the claim
itself. So a refusal names the thread flushing a frame, or the thread of a frame opened with
``enter()``; while a ``with tick:`` body runs it says "another thread, greenlet or task".
Nothing here looks at other threads' stacks (reading another thread's frames can crash
CPython 3.11 when that thread pops them meanwhile). Refusals only: nothing here runs on a
frame's path.
"""

from __future__ import annotations

import threading

__all__ = ["holder_of"]


def holder_of(owner: int | None) -> str:
    """Where a tick's frame is held, given the thread ident recorded for it (or None)."""
    if owner is None:
        return "another thread, greenlet or task"
    if owner == threading.get_ident():  # the refuser's own thread: not its context
        return "another greenlet or task of this thread"
    thread = threading._active.get(owner)  # type: ignore[attr-defined]
    return f"thread {thread.name!r}" if thread is not None else f"thread {owner}"
