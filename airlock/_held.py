"""A tick's held effects (``@airlock.debounce``/``@airlock.throttle``): its part of ``_cadence``.

Rules:
- The tick keeps a store (``HeldEffects``, under its lock: ``release()`` may run on another
  thread) timed by its ``clock``, read once per flush, at the hold stage (``hold_stage``).
- A frame's entry whose ``_key`` raises at the hold stage fails its own intent (as in the
  coalesce stage): under ``errors="continue"`` the stage goes on without it; otherwise the
  error escapes naming the key, and what the stage released or kept, with the entries it had
  not reached, is recorded as undispatched (what it held stays held). Whatever raises in the
  stage, each entry it took has one fate, and superseded ones count as coalesced.
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
from ._stats import annotate, attach_undispatched

if TYPE_CHECKING:
    from ._flush import FlushContext
    from ._stats import FlushStats
    from ._tick import TickScope

__all__ = ["count_held", "hold_stage", "request_release"]


def hold_stage(tick: TickScope, entries: list[Any], ctx: FlushContext) -> list[Any]:
    """The hold stage of a tick's flush (``TickScope._hold``): release what is due, hold the
    frame's held tasks (see ``hold_effects``); superseded waiting entries count as coalesced.
    An entry whose ``_key`` raises fails (see the module rules)."""
    go_on: list[Any] = []  # what goes on to the next stage
    superseded: list[Any] = []
    unseen = entries  # what the stage has not taken yet: undispatched if something raises
    try:
        with tick._lock:  # release() may run on another thread
            now = tick._clock()
            go_on, superseded, stop = hold_effects(entries, tick._held, now)
        while stop is not None:  # a _key raised (the observers hear it outside the lock)
            index, error = stop
            failed, unseen = unseen[index], unseen[index + 1:]
            fail_or_raise(failed, error, go_on + unseen, ctx)
            with tick._lock:
                more, gone, stop = hold_effects(unseen, tick._held, now, release_due=False)
            go_on += more
            superseded += gone
        unseen = []
        with tick._lock:
            requests, tick._release_requests = tick._release_requests, []
            for frame, task, key in requests:  # (a failed frame's releases are stale)
                if frame == tick.frame:
                    tick._held.mark_due(now, task, key)
            if requests:
                go_on += tick._held.take_due(now)
        if go_on and needs_intents(tick):  # released records join a flush of Intents
            go_on = [to_intent(entry, tick) for entry in go_on]
    except BaseException as exc:
        if getattr(exc, "undispatched_intents", None) is None:
            attach_undispatched(exc, None, ctx.intents_for(go_on + unseen))
        raise
    finally:
        if superseded:
            ctx.stats.coalesced += len(superseded)
            if tick._plan.watching:
                for entry in superseded:
                    tick._tell("coalesced", to_intent(entry, tick))
    return go_on


def fail_or_raise(entry: Any, error: BaseException, rest: list[Any], ctx: FlushContext) -> None:
    """Fail ``entry``, whose ``_key`` raised ``error`` at the hold stage; under
    ``errors="raise"`` (or for an interrupt) raise ``error``, naming the key, with ``rest``
    undispatched."""
    intent = ctx.intent_of(entry)
    if ctx.fail(intent, error):
        return
    annotate(error, intent, ctx.intents_for(rest), (
        f"airlock: flush aborted at {intent}: its _key {safe_repr(intent.key)} raised when "
        f"held or compared with a held effect's key (give the key an __eq__ and __hash__ that "
        f"do not raise); {len(rest)} intent(s) not dispatched (see .undispatched_intents)"
    ))
    raise error


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
            count = tick._held.count(which, key)  # (a key that raises here: no request)
            tick._release_requests.append((tick.frame, which, key))
            tick._buffer.force_general(True)  # the close runs the hold stage
            return count
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
