"""At interpreter exit: a tick never closed that still has effects waiting says so.

Rule: ``close()`` is how a tick's last effects run, or are discarded, counted and logged. A
tick still open at exit with effects waiting for a frame (posted, carried, held by
debounce/throttle, enqueued between frames) would lose them without a word: an ``atexit``
hook logs a warning with how many, and what to do. It runs nothing: at exit the program may
already be half torn down.
"""

from __future__ import annotations

import atexit
import logging

from ._fork import live_ticks

__all__ = ["warn_unclosed"]

logger = logging.getLogger("airlock")


def warn_unclosed() -> None:
    """Warn of each live tick that is not closed and has effects waiting."""
    for tick in live_ticks():
        waiting = 0 if tick.is_closed else tick.pending
        if waiting:
            logger.warning(
                "airlock: %r was never closed: %d intent(s) still waited for a frame at exit "
                "and never ran (posted, carried, held or enqueued between frames); call "
                "tick.close() when the loop ends: it runs them, or discards and counts them",
                tick, waiting,
            )


atexit.register(warn_unclosed)
