"""A tick that ends unclosed with effects still waiting says so: when it is collected, and,
for the ticks still alive, at interpreter exit.

Rules:
- ``close()`` is how a tick's last effects run, or are discarded, counted and logged. A tick
  dropped, or still open at exit, with effects waiting for a frame (posted, carried, held by
  debounce/throttle, enqueued between frames) would lose them without a word: a warning says
  how many, and what to do. Nothing runs: the program may be half torn down.
- A collection may run anywhere, in any thread, with any lock held (a logging handler's
  among them): ``TickScope.__del__`` only notes what waited, in a queue whose ``put`` is
  safe there (``SimpleQueue``), and the warning is logged at a safe point: the next
  ``tick_scope()``, and at exit. Once the exit check ran, collections say nothing more (it
  named the live ones; the rest were reported).
"""

from __future__ import annotations

import atexit
import logging
import threading
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING

from ._fork import live_ticks

if TYPE_CHECKING:
    from ._tick import TickScope

__all__ = ["note_collected", "report_collected", "warn_unclosed"]

logger = logging.getLogger("airlock")
_exited = False
#: (repr, how many waited) of ticks collected unclosed, not reported yet
_collected: SimpleQueue[tuple[str, int]] = SimpleQueue()


def _waiting(tick: TickScope) -> int:
    return 0 if tick.is_closed else tick.pending


def _name(tick: TickScope) -> str:
    try:
        return repr(tick)
    except Exception:  # (a subclass's repr that raises)
        return f"<{type(tick).__name__} at {id(tick):#x}>"


def _warn(name: str, waiting: int, when: str) -> None:
    logger.warning(
        "airlock: %s was never closed: %d intent(s) still waited for a frame %s, and never "
        "ran (posted, carried, held or enqueued between frames); call tick.close() when the "
        "loop ends: it runs them, or discards and counts them", name, waiting, when,
    )


def note_collected(tick: TickScope) -> None:
    """``TickScope.__del__``: note a tick collected with effects waiting (no log, no lock
    here; ``report_collected`` says it); never raise."""
    if _exited:
        return
    try:
        waiting = _waiting(tick)
        if waiting:
            _collected.put((_name(tick), waiting))
    except Exception:  # (a half torn-down interpreter)
        return


_reporting = threading.local()


def report_collected() -> None:
    """Log the ticks noted as collected with effects waiting (at a safe point); never raise.
    Not again while it logs (a logging handler that makes a tick would recurse)."""
    if getattr(_reporting, "on", False):
        return
    _reporting.on = True
    try:
        noted = []
        while True:
            try:
                noted.append(_collected.get_nowait())
            except Empty:
                break
        for name, waiting in noted:
            try:
                _warn(name, waiting, "when it was collected")
            except Exception:  # (a logging filter or handler that raises)
                continue
    finally:
        _reporting.on = False


def warn_unclosed() -> None:
    """At exit: report the collected ticks, then each live tick that is not closed and has
    effects waiting."""
    global _exited
    _exited = True
    report_collected()
    for tick in live_ticks():
        try:
            waiting = _waiting(tick)
            if waiting:
                _warn(_name(tick), waiting, "at exit")
        except Exception:
            continue


atexit.register(warn_unclosed)
