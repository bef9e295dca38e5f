"""Effects asked for before a frame is open (sprites built during setup) join the next frame.

Rule: ``request_redraw``, ``play_sound``/``SoundPlayer.play`` and ``NetSender.send`` called
with no scope open hand their request to the most recently created ``GameLoop``, which
makes it again (the same call: key and options kept) first thing in its next frame: before
``run()``, that is the first frame. With no ``GameLoop`` yet, the call raises
``airlock.NoScopeError`` saying what to do; when that loop's tick is closed, with
``airlock.ScopeStateError`` (no frame would ever run it). Anything else can wait for the next
frame with ``loop.tick.post(task, *args)``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Protocol

import airlock

__all__ = ["enqueue_or_wait", "set_waiting_loop", "wait_or_refuse"]


class _Waits(Protocol):
    def wait_for_frame(self, request: Callable[[], None], helper: str) -> None:
        ...


_latest: weakref.ref[_Waits] | None = None


def set_waiting_loop(loop: _Waits | None) -> None:
    """Make ``loop`` the one that takes requests made while no frame is open (None: none)."""
    global _latest
    _latest = None if loop is None else weakref.ref(loop)


def enqueue_or_wait(helper: str, request: Callable[[], None], task: airlock.Batch, payload: Any,
                    **options: Any) -> None:
    """``airlock.enqueue(task, payload, **options)``; with no scope open, ``request()`` (the
    helper's call, made again) waits for the next GameLoop frame."""
    try:
        airlock.enqueue(task, payload, **options)
    except airlock.NoScopeError:
        wait_or_refuse(helper, request)


def wait_or_refuse(helper: str, request: Callable[[], None]) -> None:
    """No scope is open: hand the request to the latest GameLoop, or raise NoScopeError."""
    loop = _latest() if _latest is not None else None
    if loop is None:
        raise airlock.NoScopeError(
            f"{helper}() was called with no frame open and no GameLoop created yet; create "
            "the GameLoop first (requests made before run() join its first frame), or call "
            f"{helper}() inside a frame (`with loop:` or `with airlock.tick_scope():`)"
        ) from None
    loop.wait_for_frame(request, helper)
