"""Effects held across frames: ``@airlock.debounce(seconds)`` and ``@airlock.throttle(seconds)``.

Rules (time is the tick's clock, read once per frame, at its flush):
- A held task's enqueues are grouped by ``(task, _key)``; no ``_key`` groups per task.
- debounce: each enqueue replaces the group's waiting one (that one counts ``coalesced``)
  and restarts the wait; it runs once, with the latest arguments, in the first frame that
  flushes at least ``seconds`` after the flush that took the last enqueue.
- throttle: at most one run per ``seconds`` per group. The first enqueue after a quiet
  interval runs at its own frame's end (leading); later ones in the interval collapse into
  one trailing run with the latest arguments, in the first frame that flushes once the
  interval since the last run has passed.
- A frame's flush first releases what is due (ahead of the frame's own entries: it waited
  longer), then takes the frame's enqueues of held tasks. A waiting entry is released as an
  ordinary full record of the task's function (its ``_key`` dropped: the store did the
  coalescing). ``mark_due`` makes entries due at once (``tick.release()``).
- An ordinary entry of the same function with the same key (or any ordinary entry with the
  same non-None ``_key``) supersedes a waiting one: they never both run.
- A frame's entry whose ``_key`` raises when hashed or compared with a waiting one's (either
  key may be the one at fault, as in the coalesce stage) is that entry's failure: the store is
  left as it was before it, and the stage stops there and says so (``hold_effects``); the
  tick fails its intent and goes on, or not, as its ``errors`` says (``_held``).

This module holds the task type, the store and the stage (``hold_effects``); the tick owns a
store and runs the stage in its flush (``TickScope._hold``); a scope that is not a tick
runs held tasks at once (``run_held_now``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from ._intent import qualified_task_name, task_name
from ._record import DISPATCH_OPTIONS, LOCAL_POLICIES, NAME, ORIGIN, SCOPE, key_of

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = [
    "ALL", "Cadence", "HeldEffects", "cadence_of", "check_clock", "debounce", "hold_effects",
    "run_held_now", "throttle",
]

Kind = Literal["debounce", "throttle"]

#: ``mark_due``'s "any task" / "any key"
ALL: Any = object()
#: clock slack: a time computed as a sum (a frame count times a float frame length) that
#: should equal a due time may come out a rounding error short of it
SLACK = 1e-9


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
        # dotted, as an Intent's ``qualified_name`` reports it (what BlockTasks matches)
        self.__qualname__ = qualified_task_name(func)
        self.airlock_phase = getattr(func, "airlock_phase", None)

    def __repr__(self) -> str:
        return f"<{self.kind}({self.seconds:g}s) {self.__name__}>"

    def released(self, entry: Any) -> tuple[Any, ...]:
        """The full record that runs ``func`` with ``entry``'s arguments and options (and
        this task's phase, when ``@airlock.phase`` was applied above the decorator)."""
        # a held task always arrives as a full record (a bare one or an Intent)
        args, kwargs, name, options, origin = entry[1], entry[2], entry[NAME], \
            entry[DISPATCH_OPTIONS], entry[ORIGIN]
        local_policies, scope = entry[LOCAL_POLICIES], entry[SCOPE]
        phase = self.airlock_phase
        if phase is not None and getattr(self.func, "airlock_phase", None) != phase and not (
            options and "phase" in options
        ):
            options = {**(options or {}), "phase": phase}
        return (
            self.func, args, kwargs, name or self.__name__, options, origin, None,
            local_policies, scope,
        )


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
    task = entry[0]
    return task if type(task) is Cadence else None


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
        group_key = (cadence, key_of(entry))
        group = self._groups.get(group_key)
        if group is None:
            group = self._groups[group_key] = _Group()
        superseded = group.entry
        if cadence.kind == "throttle" and superseded is None and \
                now - group.last_run >= cadence.seconds - SLACK:
            group.last_run = now
            return cadence.released(entry), None
        if superseded is None:
            self._waiting += 1
        group.entry = entry
        group.due = now + cadence.seconds if cadence.kind == "debounce" else \
            group.last_run + cadence.seconds
        return None, superseded

    def supersede(self, task: Any, key: object) -> list[Any]:
        """An ordinary entry of ``task`` with ``key`` is about to run: remove the waiting
        entries it supersedes (same function and key, or the same non-None key). A key that
        raises when compared removes none."""
        if not self._waiting:
            return []
        matched: list[_Group] = []  # every comparison first: one that raises changes nothing
        for (cadence, group_key), group in self._groups.items():
            if group.entry is not None and (
                group_key == key if key is not None  # (no key: no __eq__ of a waiting key)
                else group_key is None and cadence.func is task
            ):
                matched.append(group)
        if not matched:
            return matched
        gone = [group.entry for group in matched]
        for group in matched:
            group.entry = None
        self._waiting -= len(gone)
        return gone

    def take_due(self, now: float) -> list[tuple[Any, ...]]:
        """Release every waiting entry due at ``now``, oldest due first, as records (all
        of them, or none when something raises)."""
        self._forget_idle(now)
        if not self._waiting:
            return []
        due = sorted(
            (group.due, index, cadence, group)
            for index, ((cadence, _), group) in enumerate(self._groups.items())
            if group.entry is not None and group.due <= now + SLACK
        )
        released = [cadence.released(group.entry) for _, _, cadence, group in due]
        for _, _, _, group in due:
            group.entry = None
            group.last_run = now
        self._waiting -= len(released)
        return released

    def mark_due(self, now: float, task: Any = ALL, key: object = ALL) -> int:
        """Make the waiting entries of ``task`` (a Cadence) with ``key`` (``ALL``: any) due
        at ``now``; return how many. They go out at the next flush."""
        groups = self._matching(task, key)
        for group in groups:
            group.due = min(group.due, now)
        return len(groups)

    def count(self, task: Any = ALL, key: object = ALL) -> int:
        """How many waiting entries ``mark_due`` would make due."""
        return len(self._matching(task, key))

    def _matching(self, task: Any, key: object) -> list[_Group]:
        return [
            group for (cadence, group_key), group in list(self._groups.items())
            if group.entry is not None and (task is ALL or cadence is task)
            and (key is ALL or group_key == key)
        ]

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
        """Drop groups with nothing waiting whose throttle interval is over (bounded memory;
        a group whose key now raises when hashed or compared stays)."""
        idle = [
            group_key for group_key, group in self._groups.items()
            if group.entry is None and now - group.last_run >= group_key[0].seconds - SLACK
        ]
        for group_key in idle:
            try:
                del self._groups[group_key]
            except Exception:  # (nothing waits in it: keeping it loses nothing)
                continue


#: where ``hold_effects`` stopped: the index of the entry whose ``_key`` raised, and the error
Stop = tuple[int, BaseException]


def hold_effects(
    entries: list[Any], held: HeldEffects, now: float, *, release_due: bool = True
) -> tuple[list[Any], list[Any], Stop | None]:
    """The hold stage of a tick's flush at clock time ``now``: ``(entries to go on,
    superseded waiting entries, where it stopped)``.

    What ``held`` has due goes first (as records; none for ``release_due=False``), then
    ``entries`` without those of held tasks: each of those is held (or, a leading throttle
    run, goes on in its place). An ordinary entry supersedes the waiting ones it matches (see
    the module rules). An entry whose ``_key`` raises stops it, the store as it was before
    that entry: the third item is then its index and the error, else None. The entries after
    it are not taken; the caller fails that one and may go on with them."""
    go_on = held.take_due(now) if release_due else []
    superseded: list[Any] = []
    for index, entry in enumerate(entries):
        cadence = cadence_of(entry)
        try:
            if cadence is None:
                if len(held):
                    superseded += held.supersede(entry[0], key_of(entry))
                go_on.append(entry)
                continue
            run_now, gone = held.hold(entry, cadence, now)
        except BaseException as error:  # its _key (an interrupt too: the caller accounts)
            return go_on, superseded, (index, error)
        if gone is not None:
            superseded.append(gone)
        if run_now is not None:
            go_on.append(run_now)
    return go_on, superseded, None


def check_clock(clock: Any) -> Callable[[], float]:
    """A tick's ``clock=``: a plain function returning seconds (coroutine functions refused)."""
    if not callable(clock) or inspect.iscoroutinefunction(clock):
        raise TypeError(
            f"clock must be a function returning the time in seconds (like time.monotonic), "
            f"got {clock!r}"
        )
    return clock  # type: ignore[no-any-return]


def run_held_now(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """The hold stage of a scope that is not a tick: it holds nothing across flushes, so held
    tasks that reach its own flush (an ancestor that chose not to capture them) run now, as
    their function."""
    return [
        entry if cadence is None else cadence.released(entry)
        for entry, cadence in ((entry, cadence_of(entry)) for entry in entries)
    ]
