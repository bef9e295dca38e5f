"""``Gate`` and ``Racer``: another thread that stops inside airlock while this one acts.

A test starts a ``Racer`` (a thread in a copy of the calling context) whose work reaches
``gate.pause()`` from code airlock runs on its way (a key's ``__hash__``, a hook); the test
waits for ``gate.reached``, ends a scope meanwhile, then ``gate.release()``s the racer.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["Gate", "Racer", "race_the_end"]


class Gate:
    """Stops the first non-main thread that reaches ``pause()`` until ``release()``."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()
        self.armed = True

    def pause(self) -> None:
        if self.armed and threading.current_thread() is not threading.main_thread():
            self.armed = False
            self.reached.set()
            assert self.released.wait(10)

    def release(self) -> None:
        self.released.set()


class Racer:
    """Runs ``work`` on a thread of its own in a copy of the calling context."""

    def __init__(self, work: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        context = contextvars.copy_context()
        self.thread = threading.Thread(target=context.run, args=(self._run, work))
        self.thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:
            self.error = exc

    def join(self) -> BaseException | None:
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.error


def race_the_end(
    scope: AbstractContextManager[Any], gate: Gate, work: Callable[[], None],
    after: Callable[[], object] = lambda: None,
) -> BaseException | None:
    """Start ``work`` on a ``Racer`` inside ``with scope:``; once it pauses at ``gate``, leave
    the block (and run ``after``: a tick's ``close()``), then let it go on. Returns what it
    raised."""
    with scope:
        racer = Racer(work)
        assert gate.reached.wait(10)
    after()
    gate.release()
    return racer.join()
