"""A tick that ends unclosed with effects still waiting says so: when it is collected, and,
for the ticks still alive, at interpreter exit.

Rule: ``close()`` is how a tick's last effects run, or are discarded, counted and logged. A
tick dropped, or still open at exit, with effects waiting for a frame (posted, carried, held
by debounce/throttle, enqueued between frames) would lose them without a word: a warning says
how many, and what to do. It runs nothing: at exit, or in a collection, the program may be
half torn down. Once the exit check ran, collections say nothing more (it named them all).
"""

from __future__ import annotations

import atexit
import logging
from typing import TYPE_CHECKING

from ._fork import live_ticks

if TYPE_CHECKING:
    from ._tick import TickScope

__all__ = ["warn_collected", "warn_if_waiting", "warn_unclosed"]

logger = logging.getLogger("airlock")
_exited = False


def warn_if_waiting(tick: TickScope, when: str) -> None:
    """Warn if ``tick`` is not closed and has effects waiting (``when``: "when it was
    collected", "at exit"); never raise."""
    try:
        waiting = 0 if tick.is_closed else tick.pending
        if waiting:
            logger.warning(
                "airlock: %r was never closed: %d intent(s) still waited for a frame %s, and "
                "never ran (posted, carried, held or enqueued between frames); "
                "call tick.close() when the loop ends: it runs them, or discards and counts "
                "them", tick, waiting, when,
            )
    except Exception:  # (a half torn-down interpreter)
        return


def warn_collected(tick: TickScope) -> None:
    """``TickScope.__del__``: warn as a tick is collected (quiet once the exit check ran)."""
    if not _exited:
        warn_if_waiting(tick, "when it was collected")


def warn_unclosed() -> None:
    """At exit: warn of each live tick that is not closed and has effects waiting."""
    global _exited
    _exited = True
    for tick in live_ticks():
        warn_if_waiting(tick, "at exit")


atexit.register(warn_unclosed)
