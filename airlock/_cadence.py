"""Effects held across frames: ``debounce(seconds)`` and ``throttle(seconds)`` (to become
``@airlock.debounce`` / ``@airlock.throttle`` once the tick runs this store: not wired yet).

Rules (time is the tick's clock, read when a frame closes or opens):
- A held task's enqueues are grouped by ``(task, _key)``; no ``_key`` groups per task.
- debounce: each enqueue replaces the group's waiting one (that one counts ``coalesced``)
  and restarts the wait; it runs once, with the latest arguments, in the first frame that
  opens at least ``seconds`` after the frame that took the last enqueue.
- throttle: at most one run per ``seconds`` per group. The first enqueue after a quiet
  interval runs at its own frame's end (leading); later ones in the interval collapse into
  one trailing run with the latest arguments, in the first frame that opens once the
  interval since the last run has passed.
- A waiting entry is released into a frame as an ordinary full record of the task's function
  (its ``_key`` dropped: the store did the coalescing). ``release()`` lets one go at once.
- A later ordinary enqueue of the same function with the same key (or any ordinary entry with
  the same non-None ``_key``) supersedes a waiting one: they never both run.

This module holds the task type and the store; the tick runs it (``TickScope``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Literal

from ._intent import Intent, task_name
from ._record import DISPATCH_OPTIONS, KEY, LOCAL_POLICIES, NAME, ORIGIN, PLAIN, SCOPE

__all__ = ["Cadence", "HeldEffects", "cadence_of", "debounce", "throttle"]

Kind = Literal["debounce", "throttle"]


class Cadence:
    """A task whose enqueues a tick holds across frames (see the module rules).

    Like a batch, it only runs through a tick's frames; call ``task.func(...)`` to run the
    function directly."""

    __slots__ = ("__name__", "__qualname__", "__wrapped__", "airlock_phase", "func", "kind",
                 "seconds")

    def __init__(self, func: Callable[..., Any], seconds: float, kind: Kind) -> None:
        if not callable(func):
            raise TypeError(f"@airlock.{kind} needs a callable task, got {func!r}")
        self.func = func
        self.seconds = _check_seconds(seconds, kind)
        self.kind = kind
        self.__wrapped__ = func
        self.__name__ = task_name(func)
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)
        self.airlock_phase = getattr(func, "airlock_phase", None)

    def __repr__(self) -> str:
        return f"<{self.kind}({self.seconds:g}s) {self.__name__}>"


def _check_seconds(seconds: Any, kind: str) -> float:
    if type(seconds) is bool or not isinstance(seconds, (int, float)):
        raise TypeError(f"@airlock.{kind}(seconds) takes a number of seconds, got {seconds!r}")
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise ValueError(
            f"@airlock.{kind}(seconds) takes a finite number of seconds >= 0, got {seconds!r}"
        )
    return float(seconds)


def _decorator(kind: Kind, seconds: Any) -> Callable[[Callable[..., Any]], Cadence]:
    if callable(seconds):
        raise TypeError(
            f"@airlock.{kind} takes the interval first: write @airlock.{kind}(0.3), "
            f"not @airlock.{kind}"
        )
    checked = _check_seconds(seconds, kind)
    return lambda func: Cadence(func, checked, kind)


def debounce(seconds: float) -> Callable[[Callable[..., Any]], Cadence]:
    """Hold a task's enqueues until ``seconds`` pass with no new one; run the latest once."""
    return _decorator("debounce", seconds)


def throttle(seconds: float) -> Callable[[Callable[..., Any]], Cadence]:
    """Run a task at most once per ``seconds`` (per ``_key``): the first at once, the rest
    collapsed into one trailing run with the latest arguments."""
    return _decorator("throttle", seconds)


def cadence_of(entry: Any) -> Cadence | None:
    """The entry's Cadence when its task is one."""
    task = entry[0] if type(entry) is tuple else entry.task
    return task if type(task) is Cadence else None


def _key(entry: Any) -> object:
    if type(entry) is tuple:
        return entry[KEY] if len(entry) > PLAIN else None
    return entry.key


def _released(entry: Any, cadence: Cadence) -> tuple[Any, ...]:
    """The full record that runs ``cadence.func`` with ``entry``'s arguments and options."""
    if type(entry) is tuple:  # a held task always arrives as a full record
        return (
            cadence.func, entry[1], entry[2], entry[NAME] or cadence.__name__,
            entry[DISPATCH_OPTIONS], entry[ORIGIN], None, entry[LOCAL_POLICIES], entry[SCOPE],
        )
    intent: Intent = entry
    return (
        cadence.func, intent.args, intent.kwargs, intent.name, intent.dispatch_options,
        intent.origin, None, intent.local_policies, intent.scope,
    )


class _Group:
    __slots__ = ("due", "entry", "last_run")

    def __init__(self) -> None:
        self.entry: Any = None  # the waiting entry (None: nothing waits)
        self.due = 0.0
        self.last_run = -math.inf  # throttle: when the group last ran


class HeldEffects:
    """The waiting entries of one tick, by group, with their due times."""

    __slots__ = ("_groups", "_waiting")

    def __init__(self) -> None:
        self._groups: dict[tuple[Cadence, object], _Group] = {}
        self._waiting = 0

    def __len__(self) -> int:
        """Entries waiting."""
        return self._waiting

    def hold(self, entry: Any, cadence: Cadence, now: float) -> tuple[Any, Any]:
        """Take a held task's entry from a closing frame at ``now``.

        Returns ``(run_now, superseded)``: the record to run in this frame (a leading
        throttle run) or None, and the waiting entry it replaced (coalesced) or None."""
        group_key = (cadence, _key(entry))
        group = self._groups.get(group_key)
        if group is None:
            group = self._groups[group_key] = _Group()
        superseded = group.entry
        if cadence.kind == "throttle" and superseded is None and \
                now - group.last_run >= cadence.seconds:
            group.last_run = now
            return _released(entry, cadence), None
        if superseded is None:
            self._waiting += 1
        group.entry = entry
        group.due = now + cadence.seconds if cadence.kind == "debounce" else \
            group.last_run + cadence.seconds
        return None, superseded

    def supersede(self, task: Any, key: object) -> list[Any]:
        """An ordinary entry of ``task`` with ``key`` is about to run: remove the waiting
        entries it supersedes (same function and key, or the same non-None key)."""
        if not self._waiting:
            return []
        gone: list[Any] = []
        for (cadence, group_key), group in self._groups.items():
            if group.entry is not None and group_key == key and (
                key is not None or cadence.func is task
            ):
                gone.append(group.entry)
                group.entry = None
        self._waiting -= len(gone)
        return gone

    def take_due(self, now: float) -> list[tuple[Any, ...]]:
        """Release every waiting entry due at ``now``, oldest due first, as records."""
        if not self._waiting:
            self._forget_idle(now)
            return []
        due = sorted(
            (group.due, index, cadence, group)
            for index, ((cadence, _), group) in enumerate(self._groups.items())
            if group.entry is not None and group.due <= now
        )
        released = []
        for _, _, cadence, group in due:
            released.append(_released(group.entry, cadence))
            group.entry = None
            group.last_run = now
        self._waiting -= len(released)
        self._forget_idle(now)
        return released

    def release(self, task: Cadence, key: object = None) -> list[tuple[Any, ...]]:
        """Release the waiting entry of ``(task, key)`` now (empty if none waits)."""
        group = self._groups.get((task, key))
        if group is None or group.entry is None:
            return []
        entry, group.entry = group.entry, None
        self._waiting -= 1
        return [_released(entry, task)]

    def next_due(self) -> float | None:
        """The clock time at which the next waiting entry is due (None: nothing waits)."""
        dues = [group.due for group in self._groups.values() if group.entry is not None]
        return min(dues) if dues else None

    def clear(self) -> list[Any]:
        """Remove and return every waiting entry (a closing tick discards them)."""
        gone = list(self.waiting())
        self._groups.clear()
        self._waiting = 0
        return gone

    def waiting(self) -> Iterator[Any]:
        """The waiting entries, as enqueued."""
        return (group.entry for group in self._groups.values() if group.entry is not None)

    def _forget_idle(self, now: float) -> None:
        """Drop groups with nothing waiting whose throttle interval is over (bounded memory)."""
        idle = [
            group_key for group_key, group in self._groups.items()
            if group.entry is None and now - group.last_run >= group_key[0].seconds
        ]
        for group_key in idle:
            del self._groups[group_key]
