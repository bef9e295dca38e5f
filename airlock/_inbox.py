"""A tick's inbox: effects handed over from any thread with ``post()``, bounded on request.

Rules:
- ``put`` is safe in a signal handler: the one lock is reentrant, so a handler that lands
  while its own thread is inside ``put`` or ``take_into`` goes through, and nothing holds the
  lock across a wait or a call into user code.
- ``max_pending=None`` (the default) never refuses or waits. With a bound, a full inbox does
  what ``on_full`` says: ``"block"`` waits until a frame takes posts (or the inbox closes),
  ``"raise"`` raises ``BacklogFullError``, ``"drop_oldest"``/``"drop_newest"`` shed one entry
  and return it, so that the tick counts and reports it. A thread that may not wait (the one
  that runs the frames would wait for itself) is let in past the bound instead: nothing is
  lost and nothing blocks forever.
- After ``close()`` every ``put`` is refused (``CLOSED``) and waiting putters wake.
- A forked child starts with an empty inbox and a fresh lock (``after_fork``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any, Final, Literal, cast

from ._errors import BacklogFullError

__all__ = [
    "CLOSED", "ON_FULL", "Inbox", "OnFull", "check_count_limit", "check_max_pending",
    "check_on_full",
]

OnFull = Literal["block", "raise", "drop_oldest", "drop_newest"]
ON_FULL: Final = ("block", "raise", "drop_oldest", "drop_newest")
#: what ``put`` returns when the inbox is closed (the entry was not taken)
CLOSED: Final = object()
_TAKES_PER_CLOCK_READ = 256  # a frame under a time budget reads the clock once per this many
_WAIT_SLICE_S = 0.05  # a blocked put re-checks this often (and stays interruptible)


def check_count_limit(value: Any, name: str, what: str, zero: str) -> int | None:
    """A limit option: a positive int counting ``what``, or None for no limit (``zero``: why
    0 is refused)."""
    if value is None:
        return None
    if type(value) is bool or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int ({what}) or None, got {value!r}")
    if value < 1:
        raise ValueError(
            f"{name} must be a positive int ({what}) or None (None: no limit), got {value!r}; "
            f"{zero}"
        )
    return value


def check_max_pending(value: Any) -> int | None:
    return check_count_limit(
        value, "max_pending", "posted effects waiting for a frame", "0 would refuse every post"
    )


def check_on_full(value: Any) -> OnFull:
    if value not in ON_FULL or not isinstance(value, str):
        raise ValueError(
            f"on_full must be one of {', '.join(map(repr, ON_FULL))}, got {value!r}"
        )
    return cast(OnFull, value)


class Inbox:
    """Posted entries in arrival order, oldest first; ``shed`` counts what a bound dropped."""

    __slots__ = ("_closed", "_lock", "_room", "items", "max_pending", "on_full", "shed")

    def __init__(self, max_pending: int | None = None, on_full: OnFull = "block") -> None:
        self.max_pending = check_max_pending(max_pending)
        self.on_full: OnFull = check_on_full(on_full)
        #: the entries; never replaced, so a frame may hold it and test it for emptiness
        self.items: deque[Any] = deque()
        self._lock = threading.RLock()
        self._room = threading.Condition(self._lock)  # notified when a frame takes entries
        self._closed = False
        #: entries dropped by ``drop_oldest``/``drop_newest`` and not yet counted by a frame
        self.shed = 0

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def closed(self) -> bool:
        return self._closed

    def blocks(self) -> bool:
        """True when ``put`` may wait for room (a bound with ``on_full="block"``)."""
        return self.max_pending is not None and self.on_full == "block"

    def put(self, entry: Any, may_wait: bool = True) -> Any:
        """Append ``entry``; return None, the entry shed to make room, or ``CLOSED``."""
        with self._lock:
            if self._closed:
                return CLOSED
            limit = self.max_pending
            if limit is None or len(self.items) < limit:
                self.items.append(entry)
                return None
            on_full = self.on_full
            if on_full == "block":
                if not may_wait:
                    self.items.append(entry)  # past the bound: waiting here would never end
                    return None
                while len(self.items) >= limit:
                    self._room.wait(_WAIT_SLICE_S)
                    if self._closed:
                        return CLOSED
                self.items.append(entry)
                return None
            if on_full == "raise":
                raise BacklogFullError(
                    f"{len(self.items)} posted effect(s) already wait for a frame "
                    f"(max_pending={limit}); run frames faster, raise max_pending, or choose "
                    "on_full='block' or a drop policy"
                )
            self.shed += 1
            if on_full == "drop_newest":
                return entry
            oldest = self.items.popleft()
            self.items.append(entry)
            return oldest

    def take_into(
        self, append: Callable[[Any], None], limit: int | None, budget_ns: int | None
    ) -> None:
        """Move the entries posted before now to ``append``, oldest first: at most ``limit``,
        and, under ``budget_ns``, what that time allows (at least one chunk)."""
        with self._lock:
            items = self.items
            count = len(items) if limit is None else min(len(items), limit)
            if count == 0:
                return
            take = items.popleft
            if budget_ns is None:
                for _ in range(count):
                    append(take())
            else:
                deadline = perf_counter_ns() + budget_ns
                while count > 0:
                    chunk = min(count, _TAKES_PER_CLOCK_READ)
                    for _ in range(chunk):
                        append(take())
                    count -= chunk
                    if perf_counter_ns() >= deadline:
                        break
            if self.max_pending is not None:
                self._room.notify_all()

    def take_shed(self) -> int:
        """Return and reset the count of entries shed since the last call."""
        with self._lock:
            shed, self.shed = self.shed, 0
            return shed

    def close(self) -> None:
        """Refuse every later ``put`` and wake the putters waiting for room."""
        with self._lock:
            self._closed = True
            self._room.notify_all()

    def clear(self) -> list[Any]:
        """Remove and return every entry (a closed tick discards them)."""
        with self._lock:
            items = list(self.items)
            self.items.clear()
            return items

    def after_fork(self) -> None:
        """In a forked child: the parent's entries stay the parent's; a fresh lock (the
        parent's may have been held by a thread that does not exist here)."""
        self.items.clear()
        self._lock = threading.RLock()
        self._room = threading.Condition(self._lock)
        self.shed = 0
