"""Who holds a tick's frame: named in the refusal a second opener gets.

Rule: a tick has one frame open or flushing at a time (its claim). A frame opened through
``tick.enter()`` records its thread; one opened inline (``with tick:`` on the plain path, see
``_frame.frame_methods``) does not — ``get_ident()`` there would cost that path more than the
claim itself — so a refusal looks for the thread whose stack is ending the tick's frame. A frame
whose ``with`` body runs in another thread, or one held by another greenlet or task, is named
as such. Refusals only: nothing here runs on a frame's path.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType

__all__ = ["holder_of"]


def holder_of(tick: object, owner: int | None, frame_end: frozenset[tuple[str, str]]) -> str:
    """Where ``tick``'s frame is held: ``owner`` (a thread ident) if recorded, else the thread
    running one of the functions ``frame_end`` names (``(file, name)`` pairs) for that tick."""
    if owner is None:
        owner = _thread_ending_frame(tick, frame_end)
    if owner is None:
        return "another thread, greenlet or task"
    thread = threading._active.get(owner)  # type: ignore[attr-defined]
    return f"thread {thread.name!r}" if thread is not None else f"thread {owner}"


def _thread_ending_frame(tick: object, frame_end: frozenset[tuple[str, str]]) -> int | None:
    here = threading.get_ident()
    for ident, top in sys._current_frames().items():
        if ident == here:
            continue
        frame: FrameType | None = top
        while frame is not None:
            code = frame.f_code
            if (code.co_filename, code.co_name) in frame_end:
                names = frame.f_locals
                if names.get("tick") is tick or names.get("self") is tick:
                    return ident
            frame = frame.f_back
    return None
