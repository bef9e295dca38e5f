"""A tick's end: ``close()`` runs a last frame, then discards what still waits.

Rules:
- ``close()`` (``close_tick``) refuses new posts, runs one last frame with no budget and ends
  closed whatever that frame does.
- What still waits then (late enqueues, carried and held entries) is discarded into the
  last frame's stats (``discard_leftovers``), by whichever thread holds the frame claim once
  the tick is closed: ``close()`` waits for it (``CLOSE_PATIENCE``), and a general frame
  that gives the claim back on a closed tick discards them itself. ``close()`` again on a
  closed tick discards what an interrupted one left.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ._context import runs_inside
from ._errors import ScopeStateError
from ._frame import refuse_opener
from ._ledger import current_stats
from ._observe import tell_after_flush
from ._record import to_intent
from ._states import ACTIVE, GENERAL

if TYPE_CHECKING:
    from ._stats import FlushStats
    from ._tick import TickScope

__all__ = ["CLOSE_PATIENCE", "close_tick", "discard_leftovers", "discard_once_closed", "end_closed"]

logger = logging.getLogger("airlock")
#: how long ``close()`` waits (s) for a frame claim another thread holds as it ends
CLOSE_PATIENCE = 2.0


def close_tick(tick: TickScope) -> None:
    """``tick.close()``: refuse new posts, run one last frame (no budget), end closed whatever
    happens, and discard what could not run."""
    if tick._state is ACTIVE:
        raise ScopeStateError(f"cannot close {tick!r} while frame {tick.frame} is open")
    inherited = runs_inside(tick)  # (a task that inherited an effect's context, say)
    if inherited and not tick._claim:  # a frame of it runs: this is one of its effects
        raise ScopeStateError(
            f"cannot close {tick!r} from an effect of its own frame; close it after the "
            "`with tick:` block ends (an effect can set a flag that stops the loop)"
        )
    if tick._closed:  # (again: what an interrupted close() left waiting is discarded now)
        if tick.pending:
            discard_once_closed(tick)
        return
    if not tick._claim:  # another thread's frame is open or still flushing
        refuse_opener(tick)
    tick._closing = True  # the last frame has no budget
    tick._inbox.close()  # post() refuses from now on: the last frame drains them all
    try:
        with tick:  # (in a context that inherited the tick too: see ``start_frame``)
            pass
    except BaseException:
        end_closed(tick, failing=True)  # (the last frame's error goes on)
        raise
    end_closed(tick, failing=False)


def end_closed(tick: TickScope, failing: bool) -> None:
    """The end of ``close()``, whatever its last frame did: closed, then the leftovers
    discarded."""
    with tick._lock:
        tick._closed = True  # late enqueues refuse from now on
    tick._inline = GENERAL
    discard_once_closed(tick, failing)


def discard_once_closed(tick: TickScope, failing: bool = False) -> None:
    """After ``close()``'s last frame: discard what still waits, with the claim held, so that
    no frame runs meanwhile. Another thread may hold it for a moment (an opener refused as
    closed, a frame that opened before ``_closed`` was set): wait for it. A general frame's
    end discards as it gives the claim back on a closed tick (``TickScope._release_claim``);
    after ``CLOSE_PATIENCE`` the holder is left to do so, with a warning that says how many
    wait (a frame interrupted mid-way never gives the claim back)."""
    claim = tick._claim
    deadline = time.monotonic() + CLOSE_PATIENCE
    while True:
        try:
            claim.pop()
            break
        except IndexError:
            if time.monotonic() > deadline:
                logger.warning(
                    "airlock: %s closed while a frame still held it after %g s (another "
                    "thread's, or one an exception interrupted as it ended); %d intent(s) "
                    "still wait, left to that frame's end to discard", tick, CLOSE_PATIENCE,
                    tick.pending,
                )
                return
            time.sleep(0.0005)
    try:
        discard_leftovers(tick, failing)
    finally:
        claim.append(True)


def discard_leftovers(tick: TickScope, failing: bool = False) -> None:
    """After the last frame (``close()``): discard what still waits, into its stats.
    ``failing``: an error goes on from here (the last frame's): an observer's interrupt is
    logged with the rest, not raised in its place."""
    buffer, carry = tick._buffer, tick._carry
    carry.extend(tick._inbox.clear())  # none: the inbox closed before the last frame
    carry.extend(tick._held.clear())  # not due yet: ``release()`` before close() runs them
    late = len(buffer) - tick._spent
    left = late + len(carry)
    if not left:
        return
    stats: FlushStats = current_stats(tick)
    stats.enqueued += late
    stats.carried = stats.held = 0
    stats.discarded += left
    watching = tick._plan.watching
    told = [*tick._materialize()[tick._spent : tick._spent + late], *carry] if watching else []
    buffer.cut(tick._spent, late)
    carry.clear()
    stats.pending = 0
    # told once they are gone, as after a flush (its report is over: each error is logged
    # here), and before the warning, whose handlers may raise; an observer's interrupt is
    # raised once all have heard of all
    interrupt: BaseException | None = None
    for intent in told:
        try:
            tell_after_flush(tick, "discarded", to_intent(intent, tick))
        except BaseException as exc:
            interrupt = interrupt or exc
    logger.warning(
        "airlock: %s closed with %d intent(s) discarded (enqueued during its last frame, "
        "left over, or held by debounce/throttle)", tick, left,
    )
    if interrupt is not None and not failing:
        raise interrupt
