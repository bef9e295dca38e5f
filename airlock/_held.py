"""A tick's held effects (``@airlock.debounce``/``@airlock.throttle``): its part of ``_cadence``.

Rules:
- The tick keeps a store (``HeldEffects``, under its lock: ``release()`` may run on another
  thread) timed by its ``clock``, read once per flush, at the hold stage (``hold_stage``).
- ``tick.release()`` during a frame is a request applied at that frame's hold stage (after
  the frame's own enqueues: "save and quit"); a failed frame's requests are stale. Between
  frames it marks the held effects due at once (``request_release``).
- In a frame's ledger held effects are carried (``count_held``): those waiting when it opened
  came in, those waiting as it ends go out (``carried``, and ``held``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._cadence import ALL, Cadence, hold_effects
from ._intent import safe_repr
from ._record import to_intent
from ._settle import needs_intents
from ._states import ACTIVE

if TYPE_CHECKING:
    from ._flush import FlushContext
    from ._stats import FlushStats
    from ._tick import TickScope

__all__ = ["count_held", "hold_stage", "request_release"]


def hold_stage(tick: TickScope, entries: list[Any], ctx: FlushContext) -> list[Any]:
    """The hold stage of a tick's flush (``TickScope._hold``): release what is due, hold the
    frame's held tasks (see ``hold_effects``); superseded waiting entries count as coalesced."""
    with tick._lock:  # release() may run on another thread
        now = tick._clock()
        entries, superseded = hold_effects(entries, tick._held, now)
        requests, tick._release_requests = tick._release_requests, []
        for frame, task, key in requests:  # (a failed frame's releases are stale)
            if frame == tick.frame:
                tick._held.mark_due(now, task, key)
        if requests:
            entries += tick._held.take_due(now)
    if superseded:
        ctx.stats.coalesced += len(superseded)
        if tick._plan.watching:
            for entry in superseded:
                tick._tell("coalesced", to_intent(entry, tick))
    if entries and needs_intents(tick):  # released records join a flush of Intents
        entries = [to_intent(entry, tick) for entry in entries]
    return entries


def request_release(tick: TickScope, task: Cadence | None, key: object) -> int:
    """``tick.release(task, key=key)``: return how many were waiting."""
    if task is not None and type(task) is not Cadence:
        raise TypeError(
            f"tick.release() takes a task made with @airlock.debounce or "
            f"@airlock.throttle (or nothing, for all), got {safe_repr(task)}"
        )
    which = ALL if task is None else task
    with tick._lock:
        if tick._state is ACTIVE:  # at this frame's hold stage, after its own enqueues
            tick._release_requests.append((tick.frame, which, key))
            tick._buffer.force_general(True)  # the close runs the hold stage
            return tick._held.count(which, key)
        count = tick._held.mark_due(tick._clock(), which, key)
    if count:
        tick.on_waiting()
    return count


def count_held(tick: TickScope, stats: FlushStats) -> None:
    """The held effects in a frame's ledger: those waiting when it opened came in
    (``carried_in``), those waiting as it ends go out (``carried``, and ``held``)."""
    held_in, held = tick._held_in, len(tick._held)
    if held_in or held:
        tick._held_in = 0
        stats.carried_in += held_in
        stats.carried += held
        stats.held = held
