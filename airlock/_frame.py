"""A tick's frames: how one opens and closes, inlined for the common frame or in general.

Rules:
- ``with tick:`` calls two closures over the tick (``frame_methods``) that the tick keeps in
  its ``__enter__``/``__exit__`` slots: ``with`` finds a slot's value as it is, where a method
  would be bound anew (two objects per frame). They inline the general frame below
  (``TickScope.enter()``/``exit()``) for the common frame and must stay equivalent to it (keep
  the two in sync); ``tick._inline`` (``update_inline``) says which applies. ``TickType``
  answers ``type(tick).__enter__`` for callers that read it on the class
  (``contextlib.ExitStack``).
- The general frame: ``enter_claimed`` (once the claim is held, see ``_claim``) opens it
  (``start_frame``: the last frame's entries removed, the posts taken, the budget read);
  ``finish_frame`` flushes or discards it and ``end_frame`` settles its ledger.
- ``tick.discard()`` drops the open frame's entries (``discard_open_frame``); a tick's end
  (``close()``) is ``_closing``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import get_ident
from time import perf_counter_ns
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

from ._budget import NO_BUDGET
from ._buffer import wait_until_movable
from ._claim import holder_of
from ._context import NO_SCOPE, current_target, runs_inside
from ._errors import ScopeStateError
from ._held import count_held
from ._ledger import current_stats
from ._native import speedups
from ._plain import record_failure
from ._settle import drop_buffer
from ._states import ACTIVE, DECIDING, FLUSHED, GENERAL, IDLE, KEPT, OPEN
from ._stats import attach_undispatched

if TYPE_CHECKING:
    from ._intent import Intent
    from ._stats import FlushStats
    from ._tick import TickScope

__all__ = [
    "GENERAL",
    "IDLE",
    "KEPT",
    "OPEN",
    "TickType",
    "discard_open_frame",
    "end_frame",
    "enter_claimed",
    "finish_frame",
    "frame_methods",
    "keep_or_drop",
    "refuse_opener",
    "start_frame",
    "update_inline",
]

_get_target = current_target.get
_set_target = current_target.set
_reset_target = current_target.reset


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

    The common frame has nothing posted, no outer scope, default policy/executor and no
    policy hook or ``flushed`` listener (observers of each intent may watch: the close runs
    the pipeline); every other frame goes through enter()/exit(), to which these must stay
    equivalent. ``_inline`` says which applies (see update_inline): IDLE: no
    frame is open and the next may open inline; KEPT: the same, after removing the last
    frame's entries; OPEN: the open frame was opened inline and may close inline unless
    something rich was enqueued; GENERAL: neither (what a configuration change writes, from
    any thread); DECIDING: a general frame's end is working the next mode out.
    """
    buffer = tick._buffer  # none of these is ever replaced
    inbox = tick._inbox.items
    keep = tick._keep
    claim = tick._claim
    take_claim, put_claim = claim.pop, claim.append
    opens_inline = (IDLE, KEPT)  # the modes a frame opens inline from

    def open_frame() -> TickScope:
        try:  # TickScope._claim_frame(), inlined
            take_claim()
        except IndexError:
            refuse_opener(tick)
        try:  # (an interrupt, or no shift token, before the frame opens: the claim back)
            mode = tick._inline
            if mode in opens_inline and not inbox and _get_target() is NO_SCOPE:
                if mode == KEPT:
                    buffer.take(tick._spent)  # (the token never came: see take_for_removal)
                    tick._spent = 0
                tick._owner = None  # recorded inline only when the frame flushes (see _claim)
                tick._token = _set_target(tick)
                # Another thread may have changed the configuration since ``mode`` was read
                # (it writes GENERAL, then the accepting flag: TickScope._configure_paths).
                # Between this test and the writes nothing lets another thread run (no call;
                # the taken path falls through): a change before it sends the frame the
                # general way, one after it comes after the writes and holds
                if tick._inline == mode:
                    tick._inline = OPEN
                    tick._state = ACTIVE
                    # (False when observers watch each intent: enqueues take the hooked path)
                    tick._accepting = not tick._plan.enqueue_hooked
                    return tick
                _reset_target(tick._token)
        except BaseException:
            put_claim(True)
            raise
        return enter_claimed(tick)

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
            try:  # (``finally``: an interrupt here still gives the claim back)
                _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
                tick.frame += 1
                tick._plain_count = 0
                if tick._inline != GENERAL:  # (a configuration changed meanwhile: it stays)
                    tick._inline = IDLE
                if tick._plan.watching:  # (a post's hook may have failed in the frame)
                    tick._notify_flushed(failing=False)
            finally:
                put_claim(True)
            return
        tick._owner = get_ident()  # named to a second opener while this flush runs (see _claim)
        rich = buffer.rich or not tick._plan.plain_loop
        taken = None if rich else len(buffer)  # what run_plain takes (a copy of as many)
        stats: FlushStats | None = None  # (rich: the flush's)
        try:
            if rich:  # records with keys, batches, phases..., or a configuration that orders,
                # continues past errors or is watched: the pipeline, on records (or the
                # watched Intents; a frame opened inline has no policy hook, ``flushed``
                # listener, budget, carry, parent or held effect: see update_inline).
                # The compiled kernel's close_rich runs this branch with _release, run_flush
                # and run_pipeline inlined: keep them in sync
                tick._release()
                stats = current_stats(tick)
                taken = stats.enqueued
                if len(tick._held):  # the flush held some: the next frames must look
                    rich_frame_held(tick, stats)
            else:
                # later arrivals are the next frame's; a failure removes the ``taken``
                taken = tick._run_plain(buffer, False, 0, 0, taken)
        except BaseException:
            abort_frame(tick, taken)
            raise
        try:  # (``finally``: an interrupt here still gives the claim back)
            try:
                # keep_or_drop(tick, taken), inlined, first: whatever fails after, they never
                # run again; GENERAL: the flush (a policy change) says the next frame is not
                # plain
                try:
                    if keep or not buffer.take_now(taken):
                        tick._spent = taken
                        if tick._inline != GENERAL:
                            tick._inline = KEPT
                    elif tick._inline != GENERAL:
                        tick._inline = IDLE
                finally:
                    _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
                tick.frame += 1
                if stats is not None:  # rich: what arrived during the flush decides the next
                    buffer.rescan(tick._spent)  # frame
                    if stats.failures:
                        tick._inline = GENERAL  # the next frame releases them (see end_frame)
                    stats.pending = tick.pending  # (a plain frame's is read with its count)
            except BaseException:
                tick._inline = GENERAL  # (the next frame re-reads the buffer: see enter())
                raise
            if tick._plan.watching:
                tick._notify_flushed(failing=False)  # (the observers' errors, reported)
        finally:
            put_claim(True)  # the frame has completely ended: the next may open

    native = speedups()
    if native is None:
        return open_frame, close_frame
    # the compiled kernel runs the common frame (opening from IDLE/KEPT, closing an OPEN
    # frame of plain records under the plain loop) and hands every other call to these
    # closures: keep it in sync with them
    return native.inline_frame(  # type: ignore[no-any-return]
        tick, inbox, claim, open_frame, close_frame, plain_frame_failed, rich_frame_failed,
        rich_frame_held,
    )


def abort_frame(tick: TickScope, taken: int | None = None) -> None:
    """The end of an inline frame whose flush raised: counted, the claim back (close_frame's
    ``except`` branch). ``taken``: the entries a plain loop took (they leave the buffer even
    when recording the failure failed too); None: the pipeline's, as its stats say. Whatever
    raises here (the frame's error goes on, in its context), the tick is not left stuck: the
    entries taken go first, and the claim comes back."""
    try:
        try:
            stats = current_stats(tick)
            keep_or_drop(tick, stats.enqueued if taken is None else taken)
        finally:
            _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
        tick.frame += 1
        count_held(tick, stats)
        stats.pending = tick.pending
        if tick._plan.watching:  # (as finish_frame: the observers' errors, logged)
            tick._notify_flushed(failing=True)
    finally:
        tick._inline = GENERAL  # the next frame re-reads the buffer (see enter())
        tick._claim.append(True)


def plain_frame_failed(
    tick: TickScope, exc: BaseException, count: int, failed_at: int, started: int
) -> None:
    """The compiled plain loop's failure: a task of the ``count`` taken raised ``exc`` at
    ``failed_at``. As ``run_plain``'s and then close_frame's ``except`` branches; the kernel
    raises ``exc`` again."""
    try:
        record_failure(tick, exc, count, failed_at, started)
    finally:
        abort_frame(tick, count)


def rich_frame_failed(
    tick: TickScope, exc: BaseException, stats: FlushStats, started: int | None,
    entries: list[Any] | None, taken: int | None,
) -> NoReturn:
    """The compiled rich close's failure: ``exc`` raised before the flush (``started`` None),
    in it (``entries``: the input of the stage that raised; None: outside the stages, the
    dispatch loop included) or after it (``taken``: the entries it took). As the ``except``
    branches of ``_pipeline.run_pipeline``, ``_settle.run_flush`` and close_frame, nested as
    they are: keep in sync with them."""
    flushing = started is not None and taken is None
    try:
        try:
            try:
                raise exc
            except BaseException as error:  # run_pipeline's
                if entries is not None and getattr(error, "undispatched_intents", None) is None:
                    assert tick._ctx is not None  # (a stage ran in it)
                    attach_undispatched(error, None, tick._ctx.intents_for(entries))
                raise
        except BaseException as error:  # run_flush's
            if flushing:
                stats.undispatched = len(getattr(error, "undispatched_intents", ()))
            raise
        finally:
            if flushing:
                stats.flush_ns = perf_counter_ns() - started  # type: ignore[operator]
                if stats.failures:
                    tick._buffer.force_general(False)
    except BaseException:  # close_frame's
        abort_frame(tick, taken)
        raise


def rich_frame_held(tick: TickScope, stats: FlushStats) -> None:
    """After an inline frame's flush that held some effects (close_frame's, and the compiled
    kernel's): count them, and the next frames take the general path that looks at them."""
    count_held(tick, stats)
    tick._inline = GENERAL


# -- the general frame: TickScope.enter() and exit() ---------------------------------------


def update_inline(tick: TickScope) -> None:
    """At a general frame's end (the claim held): how the next frame may run.

    A configuration change on another thread meanwhile writes GENERAL after its new plan
    (``TickScope._configure_paths``); ``DECIDING`` lets it win: the mode worked out here is
    written only if ``_inline`` is still DECIDING (the test and the write with nothing
    between them that lets another thread run), and was worked out from the new plan when
    the change came first.
    """
    tick._inline = DECIDING
    plan = tick._plan
    if (
        tick._plain_lifecycle
        and plan.inline_frames
        and not plan.policy_hooked
        # the inline close calls no observer's ``flushed`` (it reports the errors of those
        # that watch each intent)
        and not (tick.observers and tick._observing.listeners["flushed"])
        and not (tick._carry or tick._closed or tick._buffer.rich or len(tick._held))
    ):
        mode = KEPT if tick._spent else IDLE
    else:
        mode = GENERAL
    if tick._inline == DECIDING:
        tick._inline = mode


def refuse_opener(tick: TickScope) -> NoReturn:
    """Refuse to open a frame: another one is open or flushing (the claim is taken)."""
    if runs_inside(tick):
        raise ScopeStateError(
            f"{tick!r} is open or flushing here; a tick cannot be nested in itself"
        ) from None  # (not the claim's IndexError)
    where = holder_of(tick._owner)
    raise ScopeStateError(
        f"frame {tick.frame + 1} of {tick!r} is open or still flushing in {where}; a tick "
        "runs one frame at a time: give each thread its own tick_scope(), or hand effects "
        "to this one with tick.post()"
    ) from None


def enter_claimed(tick: TickScope) -> TickScope:
    """``enter()`` once the claim is held: put it back if the frame does not open."""
    tick._owner = get_ident()
    try:
        start_frame(tick)
    except BaseException:
        tick._release_claim()
        raise
    return tick


def start_frame(tick: TickScope) -> None:
    """Open a frame: remove the last frame's entries, take the posts that arrived before now
    (see ``Inbox.take_into``), read the budget, open the context."""
    if tick._closed:
        raise ScopeStateError(f"{tick!r} is closed; create a new tick_scope()")
    budget = NO_BUDGET if tick._closing else (tick._max_per_frame, tick.max_flush_ns)
    if budget != tick._frame_budget:
        tick._frame_budget = NO_BUDGET if budget == NO_BUDGET else budget
        tick._configure_paths()
    buffer = tick._buffer
    buffer.take(tick._spent)  # the last frame's entries (the marks belong to it)
    tick._spent = 0
    # posts, oldest first: only those posted before now and, under a budget, about what one
    # frame may dispatch, less the carry (posts wait in the inbox, where ``max_pending``
    # bounds them, while the carry holds a frame's work); posts a bound shed count here
    inbox = tick._inbox
    limit, budget_ns = tick._frame_budget
    if tick._carry:
        if limit is not None:
            limit = max(limit - len(tick._carry), 0)
        elif budget_ns is not None:
            limit = 0
    inbox.take_into(buffer.append, limit, budget_ns)
    if inbox.shed:
        tick._shed_in = inbox.take_shed()
    tick._held_in = len(tick._held)
    buffer.rescan(0)  # posts came in without ``add``
    if tick._carry or tick._held_in:
        buffer.force_general(False)
    tick._carried_in = len(tick._carry)
    tick._inline = GENERAL
    tick._open()
    ancestor = tick._parent
    while ancestor is not None:  # a context that inherited the tick (a task one of its
        if ancestor is tick:  # effects started): the frame is the tick's own, not nested
            tick._parent, tick._ambient_policies = None, ()  # in itself (it would capture
            tick._update_accepting()  # its own intents)
            break
        ancestor = ancestor._parent


def finish_frame(tick: TickScope, error: BaseException | None) -> None:
    """``exit()`` of a frame: flush it (discard it on an error), then settle its ledger."""
    tick._state = FLUSHED
    tick._accepting = False
    try:
        flushing = tick.should_flush(error)
    except BaseException:
        drop_buffer(tick)  # a subclass's should_flush failed: nothing of the frame escapes
        end_frame(tick, False)
        raise
    try:
        if flushing:
            tick._release()
        else:
            drop_buffer(tick)
    except BaseException:
        end_frame(tick, flushing)
        if tick.observers:
            tick._notify_flushed(failing=True)
        raise
    end_frame(tick, flushing)
    if tick.observers:  # (discarded for the body's error: that error goes on)
        tick._notify_flushed(failing=error is not None)


def end_frame(tick: TickScope, flushed: bool) -> None:
    """After a general frame: leave the context, settle the ledger, keep or drop what the
    frame took, and see what the next frame needs."""
    tick._close_context()
    stats = current_stats(tick)
    if not flushed:
        stats.enqueued = stats.discarded
    taken = stats.enqueued  # the entries at the buffer's head that this frame took
    # first: an interrupt (KeyboardInterrupt) in what follows must not leave them for the
    # next frame to run again
    keep_or_drop(tick, taken)
    tick._parent = None
    tick._ambient_policies = ()
    tick.frame += 1
    early = tick._discarded_early
    if early:
        tick._discarded_early = 0
        stats.enqueued += early
        stats.discarded += early
    if tick._carried_in or tick._carry:
        stats.carried_in = tick._carried_in
        stats.carried = len(tick._carry)
        tick._carried_in = 0  # a frame opened inline starts with no carry
    count_held(tick, stats)
    shed = tick._shed_in
    if shed:  # posts the max_pending bound dropped before this frame took the rest
        tick._shed_in = 0
        stats.enqueued += shed
        stats.dropped += shed
        stats.shed = shed
    buffer = tick._buffer
    stats.pending = tick.pending
    buffer.rescan(tick._spent)
    if stats.failures:
        buffer.force_general(False)  # the next frame takes the path that releases them
    update_inline(tick)
    if len(buffer) > tick._spent:
        tick.on_waiting()  # arrivals during the flush (another thread may not have said)


def keep_or_drop(tick: TickScope, taken: int) -> None:
    """A frame took the first ``taken`` buffer entries: keep them for ``intents`` until the
    next frame opens, or (``keep_intents=False``) remove them now if the shift token is free
    (else the next frame removes them, unseen: see ``Buffer.take_now``)."""
    if tick._keep or not tick._buffer.take_now(taken):
        tick._spent = taken


def discard_open_frame(tick: TickScope) -> list[Intent]:
    """``tick.discard()``: drop the open frame's intents now and return them; the frame stays
    open and closes through ``exit()``, which counts the discard."""
    wait_until_movable()  # (nothing discarded if the removal below could not happen)
    drop_buffer(tick)
    count = current_stats(tick).discarded  # (later arrivals stay, for the frame's flush)
    dropped = tick._materialize()[:count]
    tick._buffer.take(count)
    tick._discarded_early += count
    tick._buffer.rescan(0)
    tick._state = ACTIVE
    tick._update_accepting()
    tick._inline = GENERAL
    return dropped
