"""Effects asked for before a frame is open (sprites built during setup) join the next frame.

Rule: ``request_redraw``, ``play_sound``/``SoundPlayer.play`` and ``NetSender.send`` called
with no scope open post their request to the most recently created ``GameLoop``'s tick:
``loop.tick.post(...)`` of the same batch effect, key and options a frame would get. It waits
in the tick's own inbox (``loop.tick.pending`` counts it) and joins the next frame (before
``run()``, the first one), filtered by that frame's policies. With no ``GameLoop`` yet, the
call raises ``airlock.NoScopeError`` saying what to do; when that loop's tick is closed,
``airlock.ScopeStateError`` (no frame would ever run it). Anything else can wait for the next
frame the same way: ``loop.tick.post(task, *args)``.

The latest loop is held by weak reference: a loop nobody keeps takes no requests.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

import airlock

__all__ = ["post_to_latest", "set_waiting_loop"]


class _Loop(Protocol):
    @property
    def tick(self) -> airlock.TickScope:
        ...


_latest: weakref.ref[_Loop] | None = None


def set_waiting_loop(loop: _Loop | None) -> None:
    """Make ``loop`` the one whose tick takes requests made while no frame is open."""
    global _latest
    _latest = None if loop is None else weakref.ref(loop)


def post_to_latest(helper: str, task: airlock.Batch, *payload: Any, **options: Any) -> None:
    """No scope is open: ``tick.post(task, *payload, **options)`` to the latest GameLoop's
    tick, or raise ``NoScopeError`` (no loop) / ``ScopeStateError`` (its tick is closed)."""
    loop = _latest() if _latest is not None else None
    if loop is None:
        raise airlock.NoScopeError(
            f"{helper}() was called with no frame open and no GameLoop created yet; create "
            "the GameLoop first (requests made before run() join its first frame), or call "
            f"{helper}() inside a frame (`with loop:` or `with airlock.tick_scope():`)"
        ) from None
    tick = loop.tick
    try:
        tick.post(task, *payload, **options)
    except airlock.ScopeStateError as refused:  # the tick's close() has begun: it takes none
        raise airlock.ScopeStateError(
            f"{helper}() was called with no frame open, and the latest GameLoop's tick is "
            "closed, so no frame would ever run it; call it inside a frame before closing "
            "the loop, or create a new GameLoop for requests made from now on") from refused
