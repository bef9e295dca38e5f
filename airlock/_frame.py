"""A tick's frame, inlined: the ``__enter__``/``__exit__`` of the common frame.

Rule: ``with tick:`` calls two closures over the tick (``frame_methods``) that the tick keeps in
its ``__enter__``/``__exit__`` slots: ``with`` finds a slot's value as it is, where a method
would be bound anew (two objects per frame). They inline ``TickScope.enter()``/``exit()`` for
the common frame and must stay equivalent to them (keep the two in sync); ``TickScope._inline``
says which applies. ``TickType`` answers ``type(tick).__enter__`` for callers that read it on
the class (``contextlib.ExitStack``).
"""

from __future__ import annotations

from collections.abc import Callable
from threading import get_ident
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._context import NO_SCOPE, current_target
from ._scope import ACTIVE, FLUSHED, _reset_target, _set_target

if TYPE_CHECKING:
    from ._tick import TickScope

__all__ = ["GENERAL", "IDLE", "KEPT", "OPEN", "TickType", "frame_methods"]

_get_target = current_target.get

# values of TickScope._inline: how the next __enter__/__exit__ may run
GENERAL, OPEN, IDLE, KEPT = 0, 1, 2, 3


class TickType(type):
    """TickScope's metaclass: ``__enter__``/``__exit__`` read on the class.

    A tick keeps its ``__enter__``/``__exit__`` in slots (see ``frame_methods``). Read on the
    class, a slot is a member descriptor, not a function of the tick; callers that do
    ``type(cm).__enter__(cm)`` (``contextlib.ExitStack``, ``unittest``) get these instead.
    """

    @property
    def __enter__(cls) -> Callable[[TickScope], TickScope]:
        return _enter_tick

    @property
    def __exit__(cls) -> Callable[..., None]:
        return _exit_tick


def _enter_tick(tick: TickScope) -> TickScope:
    return tick.__enter__()


def _exit_tick(tick: TickScope, *exc_info: Any) -> None:
    tick.__exit__(*exc_info)


def frame_methods(tick: TickScope) -> tuple[Callable[[], TickScope], Callable[..., None]]:
    """The tick's ``__enter__`` and ``__exit__``: enter()/exit() inlined for the common frame.

    The common frame has nothing posted, no outer scope, default policy/executor, no hooks
    and nothing rich enqueued; every other frame goes through enter()/exit(), to which these
    must stay equivalent. ``_inline`` says which applies (see _update_inline): IDLE: no
    frame is open and the next may open inline; KEPT: the same, after removing the last
    frame's entries; OPEN: the open frame was opened inline and may close inline unless
    something rich was enqueued; GENERAL: neither.
    """
    buffer = tick._buffer  # none of these is ever replaced
    inbox = tick._inbox.items
    keep = tick._keep
    claim = tick._claim
    take_claim, put_claim = claim.pop, claim.append

    def open_frame() -> TickScope:
        try:  # tick._claim_frame(), inlined
            take_claim()
        except IndexError:
            tick._refuse_opener()
        if tick._inline != IDLE:
            if tick._inline != KEPT or inbox or _get_target() is not NO_SCOPE:
                return tick._enter_claimed()
            del buffer[: tick._spent]  # buffer.take(tick._spent), inlined: keep in sync
            buffer.origins = None
            tick._spent = 0
        elif inbox or _get_target() is not NO_SCOPE:
            return tick._enter_claimed()
        tick._owner = None  # recorded inline only when the frame flushes (see _claim)
        tick._token = _set_target(tick)
        tick._inline = OPEN
        tick._state = ACTIVE
        tick._accepting = True
        return tick

    def close_frame(
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if tick._inline != OPEN or exc is not None:
            tick._inline = GENERAL
            tick.exit(exc)  # puts the claim back
            return
        tick._accepting = False
        tick._state = FLUSHED  # the tick stays current: its effects' enqueues wait in order
        if not buffer:  # (``rich`` may be on for an empty buffer: ``intents`` was read)
            _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
            tick.frame += 1
            tick._plain_count = 0
            tick._inline = IDLE
            put_claim(True)
            return
        tick._owner = get_ident()  # named to a second opener while this flush runs (see _claim)
        rich = buffer.rich or not tick._plan.plain_loop
        try:
            if rich:  # records with keys, batches, phases..., or a configuration that orders or
                # continues past errors: the pipeline, on records (a frame opened inline has
                # no hook, observer, budget, carry, parent or held effect: see _update_inline)
                tick._release()
                stats = tick._current_stats()
                taken = stats.enqueued
                if len(tick._held):  # the flush held some: the next frames must look
                    tick._count_held(stats)
                    stats.pending = tick.pending
                    tick._inline = GENERAL
            else:
                taken = tick._run_plain(buffer)  # later arrivals are the next frame's
        except BaseException:
            _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
            tick.frame += 1
            stats = tick._current_stats()
            tick._count_held(stats)
            tick._keep_or_drop(stats.enqueued)
            tick._inline = GENERAL  # the next frame re-reads the buffer (see enter())
            put_claim(True)
            raise
        _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
        tick.frame += 1
        if rich:  # what arrived during the flush decides how the next frame runs
            buffer.rescan(taken)
            if tick._current_stats().failures:
                tick._inline = GENERAL  # the next frame releases them (see _end_frame)
        # tick._keep_or_drop(taken), inlined; GENERAL: the flush (a policy change) says the
        # next frame is not plain
        if keep:
            tick._spent = taken
            if tick._inline != GENERAL:
                tick._inline = KEPT
        else:
            buffer.take(taken)
            if tick._inline != GENERAL:
                tick._inline = IDLE
        put_claim(True)  # the frame has completely ended: the next may open

    return open_frame, close_frame
