"""Ticks under threads: enqueues from threads that carry the tick's context, posts racing
frames and close(), and a threaded stress test of the ledger.

The first tests force one interleaving each: a tracer stops a thread at a chosen line and
lets the other go on, so the race happens every run instead of once in a thousand.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any

import pytest

import airlock
from airlock import Intent
from airlock._enqueue import enqueue as _enqueue_function
from airlock._inbox import Inbox
from airlock._scope import Scope
from airlock._tick import TickScope

# The enqueue races stopped at a breakpoint here are the pure core's: between the fast path's
# check of the target and its append, a bytecode boundary lets another thread run. The
# compiled kernel has no bytecode there for a breakpoint to stop at (only a garbage collection
# that its allocations start could let another thread in), so these tests drive the pure one.
WAIT = 10.0  # seconds: a safety net against a hung test, never a measurement


def record(log: list[object], tag: object) -> None:
    log.append(tag)


class Breakpoint:
    """Stops a thread at the first line of ``function`` that contains ``marker`` (or, with
    ``after=True``, at the first line executed below it); ``reached`` is set, then the thread
    runs ``when_reached`` (default: wait for ``resume``)."""

    def __init__(
        self,
        function: Callable[..., Any],
        marker: str | None = None,
        *,
        after: bool = False,
        when_reached: Callable[[], None] | None = None,
    ) -> None:
        self.code: CodeType = function.__code__
        lines, first = inspect.getsourcelines(function)
        if marker is None:
            self.line, self.after = first, True  # the first line of the body
        else:
            found = [first + n for n, text in enumerate(lines) if marker in text]
            assert found, f"{marker!r} is not in {function.__qualname__} any more: update the test"
            self.line, self.after = found[0], after
        self.reached = threading.Event()
        self.resume = threading.Event()
        self.when_reached = when_reached or (lambda: self.resume.wait(WAIT))
        self._fired = False

    def _local(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line" and not self._fired:
            line = frame.f_lineno
            if (line > self.line) if self.after else (line == self.line):
                self._fired = True
                self.reached.set()
                self.when_reached()
        return self._local

    def tracer(self, frame: FrameType, event: str, arg: object) -> Any:
        return self._local if frame.f_code is self.code else None

    @contextmanager
    def armed(self) -> Iterator[Breakpoint]:
        """Trace the calling thread while the block runs."""
        sys.settrace(self.tracer)
        try:
            yield self
        finally:
            sys.settrace(None)

    def run_armed(self, target: Callable[[], None]) -> Callable[[], None]:
        """``target`` wrapped to run traced (for a thread)."""

        def traced() -> None:
            with self.armed():
                target()

        return traced


def enqueue_while_paused(
    stop: Breakpoint, work: Callable[[], None], carried: list[contextvars.Context], *args: Any,
    **kwargs: Any,
) -> None:
    """Run ``work`` on a thread armed with ``stop``; once it stops there, enqueue ``args`` in
    the context ``work`` saved in ``carried`` (a frame's: its tick is the target), then let
    it go on and wait for it."""
    thread = threading.Thread(target=stop.run_armed(work))
    thread.start()
    assert stop.reached.wait(WAIT)
    carried[0].run(functools.partial(airlock.enqueue, *args, **kwargs))
    stop.resume.set()
    thread.join(WAIT)


def carrying_thread(target: Callable[[], None]) -> threading.Thread:
    """A thread started in a copy of the calling context (as ``asyncio.to_thread`` does)."""
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(target,), daemon=True)
    thread.start()
    return thread


# -- item 1: an enqueue that returns normally is never lost -----------------------------------


def test_a_plain_enqueue_that_lands_while_a_scope_flushes_runs_in_that_flush() -> None:
    """A scope used once has no next frame: a plain record another thread appends while the
    scope's plain loop runs (it checked that the scope was open just before) runs in it."""
    log: list[object] = []
    late = Breakpoint(_enqueue_function, "_buffer.append(")

    def worker() -> None:  # the pure core's fast path (see the import of _enqueue_function)
        _enqueue_function(record, log, "from the thread")

    def first() -> None:  # the flush is running: let the thread append now
        log.append("first")
        late.resume.set()
        thread.join(WAIT)

    with airlock.scope() as scope:
        airlock.enqueue(first)
        thread = carrying_thread(late.run_armed(worker))
        assert late.reached.wait(WAIT)
    assert log == ["first", "from the thread"]
    assert scope.stats.dispatched == 2 and scope.stats.balance_error() is None


@pytest.fixture
def pure_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ticks made from now on run every frame in Python, even where the compiled kernel runs
    the common one: the breakpoints below stop inside the pure loop (the kernel's loop takes
    the same copy of the entries; ``tests/test_kernel.py`` runs it)."""
    monkeypatch.setattr("airlock._frame.speedups", lambda: None)


@pytest.mark.parametrize("rich", [False, True], ids=["plain frame", "rich frame"])
@pytest.mark.usefixtures("pure_frames")
def test_a_fast_enqueue_that_lands_after_the_flush_took_the_frame_runs_in_the_next(
    rich: bool,
) -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    # the thread stops between the fast path's check of the open frame and its append
    late = Breakpoint(_enqueue_function, "_buffer.append(")
    appended = threading.Event()

    def let_the_thread_append() -> None:
        late.resume.set()
        assert appended.wait(WAIT)

    # the owner stops right after its flush has read the frame (the old code cleared the
    # buffer next, with the thread's append in it)
    if rich:
        flushed = Breakpoint(Scope._release, "self._state = FLUSHED  # (the entries",
                             when_reached=let_the_thread_append)
    else:
        flushed = Breakpoint(Scope._run_plain, "task(*args, **kwargs)", after=True,
                             when_reached=let_the_thread_append)

    def worker() -> None:  # the pure core's fast path (see the import of _enqueue_function)
        _enqueue_function(record, log, "from the thread")
        appended.set()

    with tick:
        airlock.enqueue(record, log, "frame", _key="k" if rich else None)
        thread = carrying_thread(late.run_armed(worker))
        assert late.reached.wait(WAIT)
        sys.settrace(flushed.tracer)
    sys.settrace(None)
    thread.join(WAIT)
    assert flushed.reached.is_set() and appended.is_set()
    assert log == ["frame"] and tick.pending == 1
    with tick:
        pass
    assert log == ["frame", "from the thread"]
    assert tick.stats.balance_error() is None


def test_an_enqueue_racing_the_next_frames_opening_keeps_the_threads_order() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        context = contextvars.copy_context()  # a worker that kept the frame's context
    # the thread decided "no frame is open" and stops before putting its intent anywhere
    between = Breakpoint(TickScope._enqueue_inactive)

    def worker() -> None:
        airlock.enqueue(record, log, 1)  # between frames, but lands after the next opened
        airlock.enqueue(record, log, 2)  # the open frame's fast path

    thread = threading.Thread(target=context.run, args=(between.run_armed(worker),))
    thread.start()
    assert between.reached.wait(WAIT)
    with tick:
        between.resume.set()
        thread.join(WAIT)
    with tick:
        pass
    assert log == [1, 2]  # the old code ran 2 in this frame and 1 in the next


@pytest.mark.parametrize(
    ("where", "marker", "accepted"),
    [
        # stopped inside the inbox, holding its lock: close() waits, the last frame runs it
        (Inbox.put, "self.items.append(entry)", True),
        # stopped before handing it over: close() goes ahead, the post is refused, loudly
        (airlock._arrivals.post_to, "inbox.put(", False),
    ],
    ids=["inside the inbox", "before the inbox"],
)
def test_a_post_racing_close_is_run_by_the_last_frame_or_refused(
    where: Any, marker: str, accepted: bool
) -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    racing = Breakpoint(where, marker)
    outcome: list[BaseException | None] = []

    def poster() -> None:
        try:
            tick.post(record, log, "posted")
        except airlock.ScopeStateError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=racing.run_armed(poster))
    thread.start()
    assert racing.reached.wait(WAIT)
    closer = threading.Thread(target=tick.close)
    closer.start()
    closer.join(0.2)  # let close() run as far as it can while the poster is stopped
    racing.resume.set()
    thread.join(WAIT)
    closer.join(WAIT)
    assert not closer.is_alive() and tick.pending == 0
    if accepted:
        assert outcome == [None] and log == ["posted"]  # it was accepted, so it ran
    else:
        assert isinstance(outcome[0], airlock.ScopeStateError) and log == []


def test_posts_racing_close_from_many_threads_all_run_or_raise() -> None:
    tick = airlock.tick_scope()
    ran: list[tuple[int, int]] = []
    refused: list[tuple[int, int]] = []
    start = threading.Barrier(5)

    def poster(unit: int) -> None:
        start.wait()
        for n in range(2000):
            try:
                tick.post(record, ran, (unit, n))
            except airlock.ScopeStateError:
                refused.append((unit, n))

    with switch_interval(1e-5):
        threads = [threading.Thread(target=poster, args=(u,)) for u in range(4)]
        for t in threads:
            t.start()
        start.wait()
        tick.close()
        for t in threads:
            t.join(WAIT)
    assert sorted(ran + refused) == [(u, n) for u in range(4) for n in range(2000)]
    assert tick.pending == 0


# -- the threaded stress test ------------------------------------------------------------------


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Make the interpreter switch threads often, so that races show up."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


class CountingObserver(airlock.Observer):
    """Counts hooks; called from several threads at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen_enqueued = 0
        self.seen_dispatched = 0

    def enqueued(self, intent: Intent) -> None:
        with self.lock:
            self.seen_enqueued += 1

    def dispatched(self, intent: Intent) -> None:
        with self.lock:
            self.seen_dispatched += 1


class CountingPolicy(airlock.Policy):
    """Allows everything, counting what it sees at enqueue and at flush."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen_enqueued = 0
        self.seen_allowed = 0

    def on_enqueue(self, intent: Intent) -> None:
        with self.lock:
            self.seen_enqueued += 1

    def allows(self, intent: Intent) -> bool:
        self.seen_allowed += 1  # the owner's thread only
        return True


class _Garbage:
    """A cycle whose finalizer runs Python code when the collector frees it."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        sum(range(20))  # (Python code: another thread may run meanwhile)


@contextmanager
def collector_busy(on: bool) -> Iterator[None]:
    """While on: a collection every few allocations, each freeing cycles with finalizers (a
    thread keeps making them)."""
    if not on:
        yield
        return
    threshold = gc.get_threshold()
    making = threading.Event()
    making.set()

    def make() -> None:
        while making.is_set():
            _Garbage()
            time.sleep(0)

    maker = threading.Thread(target=make, daemon=True)
    gc.set_threshold(20, 2, 2)
    maker.start()
    try:
        yield
    finally:
        making.clear()
        maker.join(WAIT)
        gc.set_threshold(*threshold)


CI = os.environ.get("CI", "").lower() == "true"
POSTERS, CARRIERS = 16, 2
PER_POSTER = 2000 if CI else 150
PER_CARRIER = 200_000 if CI else 4_000  # (locally ~0.2 s a configuration)

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "plain": {},  # (the rich entries close a frame through the pipeline: compiled, close_rich)
    "by_phase": {"order_by": airlock.by_phase("draw")},  # every frame through the pipeline
    "continue": {"errors": "continue"},
    "max_per_frame": {"max_per_frame": 300},
    "max_flush_ms": {"max_flush_ms": 0.5},
    "observer": {"observers": "counting"},
    "policy": {"policy": "counting"},
    "everything": {"policy": "counting", "observers": "counting", "max_per_frame": 500,
                   "max_flush_ms": 1},
    # the carriers enqueue in scopes of their own, nested in the tick: each hands its records
    # over as it exits (a compiled hand-over once failed here under heavy load)
    "nested": {"nested": True},
    # the same while the cyclic collector runs often and its finalizers run Python code, so
    # another thread may run in the middle of any allocation: the compiled hand-over's copy of
    # a scope's records once made one after reading the tick's length, and lost and repeated
    # records here
    "nested, collector": {"nested": True, "collector": True},
    # a thread reads ``tick.intents`` all along: it names the records in place while frames
    # open and remove the last frame's (by index, before SHIFT_LOCK, it lost and repeated
    # hundreds of effects a run)
    "intents read": {"reader": True},
    # the same without kept intents: a frame's end that finds the reader holding the token
    # leaves its entries to the next frame to remove
    "intents read, none kept": {"reader": True, "keep_intents": False},
}


@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_threads_posting_and_enqueueing_while_frames_run_lose_and_repeat_nothing(
    name: str,
) -> None:
    options: dict[str, Any] = dict(CONFIGURATIONS[name])
    nested = options.pop("nested", False)
    reads = options.pop("reader", False)
    collecting = options.pop("collector", False)
    observer = policy = None
    if options.get("observers") == "counting":
        observer = CountingObserver()
        options["observers"] = [observer]
    if options.get("policy") == "counting":
        policy = CountingPolicy()
        options["policy"] = policy
    tick = airlock.tick_scope(**options)
    ran: list[tuple[str, int]] = []  # appended by the owner's thread only (the effects)

    def poster(unit: int) -> None:
        for n in range(PER_POSTER):
            tick.post(record, ran, (f"p{unit}", n))

    def carry(unit: int, n: int) -> None:
        if n % 3 == 2:  # a rich intent now and then, racing the plain ones
            airlock.enqueue(record, ran, (f"c{unit}", n), _name="rich")
        else:
            airlock.enqueue(record, ran, (f"c{unit}", n))

    def carrier(unit: int) -> None:
        if not nested:
            for n in range(PER_CARRIER):
                carry(unit, n)
            return
        for start in range(0, PER_CARRIER, 2):  # two plain records per scope
            with airlock.scope():
                for n in range(start, min(start + 2, PER_CARRIER)):
                    airlock.enqueue(record, ran, (f"c{unit}", n))

    reading = threading.Event()
    read_errors: list[BaseException] = []

    def reader() -> None:  # as a debugging overlay in another thread would
        while reading.is_set():
            try:
                tick.intents  # noqa: B018
            except Exception as exc:  # (it goes on: the race must go on too)
                read_errors.append(exc)

    deadline = time.monotonic() + (600 if CI else 120)
    frames = 0
    unbalanced: list[str] = []
    with switch_interval(1e-5), collector_busy(collecting):
        threads = [threading.Thread(target=poster, args=(u,), daemon=True)
                   for u in range(POSTERS)]
        with tick:
            threads += [carrying_thread(functools.partial(carrier, u)) for u in range(CARRIERS)]
        for t in threads[:POSTERS]:
            t.start()
        if reads:
            reading.set()
            threading.Thread(target=reader, daemon=True).start()
        while any(t.is_alive() for t in threads) or tick.pending:
            assert time.monotonic() < deadline, f"no progress after {frames} frames"
            with tick:
                if nested:  # frames open long enough for scopes to end inside them
                    time.sleep(0.0002)
            frames += 1
            problem = tick.stats.balance_error()
            if problem:
                unbalanced.append(f"frame {frames}: {problem}")
        reading.clear()
    tick.close()
    assert unbalanced == []
    expected = {f"p{u}": PER_POSTER for u in range(POSTERS)}
    expected |= {f"c{u}": PER_CARRIER for u in range(CARRIERS)}
    assert len(ran) == sum(expected.values()), "an effect was lost or ran twice"
    for source, count in expected.items():  # each thread's effects ran in its order
        assert [n for s, n in ran if s == source] == list(range(count)), source
    total = sum(expected.values())
    if policy is not None:
        assert policy.seen_enqueued == total and policy.seen_allowed == total
    if observer is not None:
        assert observer.seen_enqueued == total and observer.seen_dispatched == total
    assert read_errors == []  # (reading from another thread never fails either)


def test_a_rich_entry_that_raced_its_flag_is_left_for_the_next_frame() -> None:
    # A thread's slow path appends an Intent, then sets the tick's "rich" flag; the owner may
    # run the plain loop in between. That loop stops at the Intent and leaves the rest.
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(record, log, "plain before")
        tick._buffer.append(Intent(record, (log, "rich"), name="raced", scope=tick))
        airlock.enqueue(record, log, "plain after")
        assert not tick._buffer.rich  # the flag has not been set yet: the race
    assert log == ["plain before"] and tick.pending == 2
    assert (tick.stats.enqueued, tick.stats.dispatched) == (1, 1)
    with tick:
        pass
    assert log == ["plain before", "rich", "plain after"]
    assert tick.stats.balance_error() is None


# -- other threads reading the ledger or changing the configuration while frames run ---------


def test_a_thread_reading_stats_while_a_frame_flushes_changes_nothing_the_frame_counts() -> None:
    """A monitor thread reads ``tick.stats`` after a plain frame (its count not expanded yet)
    and stops there; the next frame flushes meanwhile. Reading writes nothing, so the frame
    takes exactly its own entries: none runs twice, no arrival is dropped, the ledgers hold."""
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:  # plain: only its count is stored
        airlock.enqueue(record, log, "f1")
    read = Breakpoint(airlock._ledger.read_stats, "count = scope._plain_count", after=True)
    seen: list[airlock.FlushStats] = []

    def monitor() -> None:
        seen.append(tick.stats)

    thread = threading.Thread(target=read.run_armed(monitor))
    thread.start()
    assert read.reached.wait(WAIT)

    def let_the_monitor_read() -> None:
        read.resume.set()
        thread.join(WAIT)

    with tick:  # rich: the pipeline fills the stats while the monitor finishes its read
        airlock.enqueue(record, log, "f2-a", _key="a")
        airlock.enqueue(record, log, "f2-b", _key="b")
        airlock.enqueue(let_the_monitor_read, _key="c")
    assert not thread.is_alive() and len(seen) == 1
    assert (seen[0].enqueued, seen[0].dispatched) == (1, 1)  # frame 1's, as read
    assert (tick.stats.enqueued, tick.stats.dispatched) == (3, 3)
    with tick:
        airlock.enqueue(record, log, "f3")
    assert log == ["f1", "f2-a", "f2-b", "f3"]
    assert tick.stats.balance_error() is None and tick.pending == 0


class HookedPolicy(airlock.AllowAll):
    """Hears every enqueue (``on_enqueue``): enqueues take the hooked path while it is set."""

    def __init__(self) -> None:
        self.heard: list[tuple[Any, ...]] = []

    def on_enqueue(self, intent: Intent) -> None:
        self.heard.append(intent.args)


def test_a_policy_set_by_another_thread_as_a_frame_ends_runs_nothing_twice() -> None:
    """A UI thread sets the policy while a frame flushes and stops before its last write; the
    frame ends (keeping its entries for ``intents``) meanwhile. The next frame still removes
    them first: nothing runs twice, and the new policy hears the next frames' enqueues."""
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        pass
    policy = HookedPolicy()
    change = Breakpoint(TickScope._configure_paths, "self._inline = GENERAL")

    def set_policy() -> None:
        tick.policy = policy

    thread = threading.Thread(target=change.run_armed(set_policy))

    def start_the_change() -> None:
        log.append("flushing")
        thread.start()
        assert change.reached.wait(WAIT)

    with tick:
        airlock.enqueue(start_the_change)
    change.resume.set()  # the frame has ended: the change goes on
    thread.join(WAIT)
    for n in range(3):
        with tick:
            airlock.enqueue(record, log, n)
    assert log == ["flushing", 0, 1, 2]
    assert policy.heard == [(log, 0), (log, 1), (log, 2)]
    assert tick.stats.balance_error() is None


@pytest.mark.usefixtures("pure_frames")
def test_a_policy_set_by_another_thread_while_a_frame_opens_is_heard_in_it() -> None:
    """The loop's thread stops inside the opening of an inline frame, after it read how the
    frame may open; another thread sets a policy with an ``on_enqueue`` meanwhile. The frame
    opens the general way, and the policy hears the frame's enqueues."""
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        pass
    opening = Breakpoint(tick.__enter__, "token = _set_target(tick)")
    policy = HookedPolicy()

    def frame() -> None:
        with tick:
            airlock.enqueue(record, log, "in the frame")

    thread = carrying_thread(opening.run_armed(frame))
    assert opening.reached.wait(WAIT)
    tick.policy = policy
    opening.resume.set()
    thread.join(WAIT)
    assert log == ["in the frame"] and policy.heard == [(log, "in the frame")]
    with tick:
        airlock.enqueue(record, log, "next")
    assert policy.heard[-1] == (log, "next")


class InjectingOuter(Scope):
    """An outer scope whose capture lets another thread enqueue into the tick first
    (``before``) or after taking the frame's entries."""

    def __init__(self, inject: Callable[[], None], before: bool) -> None:
        super().__init__()
        self.inject, self.before = inject, before

    def _capture(self, entries: list[Any], child: Scope, plain: bool = False) -> bool:
        if self.before:
            self.inject()
        taken = super()._capture(entries, child, plain)
        if not self.before:
            self.inject()
        return taken


@pytest.mark.parametrize("before", [False, True], ids=["after the capture", "before it"])
def test_a_tick_frame_handed_to_an_outer_scope_counts_what_it_handed_and_loses_no_arrival(
    before: bool,
) -> None:
    """A tick's frame nested in a scope hands its plain records over; another thread (with the
    tick as its target) enqueues meanwhile. The frame counts what it handed over; the arrival
    is the outer scope's (it came before the frame's entries were taken) or the next frame's."""
    log: list[object] = []
    tick = airlock.tick_scope()
    carried: list[contextvars.Context] = []

    def enqueue_from_a_thread() -> None:
        thread = threading.Thread(target=carried[0].run,
                                  args=(airlock.enqueue, record, log, "late"))
        thread.start()
        thread.join(WAIT)

    with InjectingOuter(enqueue_from_a_thread, before) as outer:
        with tick:
            airlock.enqueue(record, log, "frame")
            carried.append(contextvars.copy_context())
        handed = (tick.stats.enqueued, tick.stats.captured)
    for _ in range(2):
        with tick:
            pass
    assert sorted(map(str, log)) == ["frame", "late"]
    assert handed == (1, 1)
    assert outer.stats.balance_error() is None and tick.stats.balance_error() is None
    assert tick.pending == 0


def test_a_keyed_entry_that_raced_a_plain_hand_over_is_flushed_not_failed() -> None:
    """Another thread's keyed enqueue lands after a nested tick frame decided its records were
    plain, before it copied them: the frame takes the general way, and the keyed effect runs
    once, with no error."""
    log: list[object] = []
    tick = airlock.tick_scope()
    copy = Breakpoint(airlock._nesting.hand_over, "entries = scope._buffer[:]")
    carried: list[contextvars.Context] = []
    errors: list[BaseException] = []

    def frame() -> None:
        try:
            with airlock.scope(), tick:
                airlock.enqueue(record, log, "frame")
                carried.append(contextvars.copy_context())
        except BaseException as exc:  # pragma: no cover - the failure this test guards
            errors.append(exc)

    enqueue_while_paused(copy, frame, carried, record, log, "keyed", _key="k")
    with tick:
        pass
    assert errors == [] and sorted(map(str, log)) == ["frame", "keyed"]
    assert tick.stats.balance_error() is None and tick.pending == 0


@pytest.mark.skipif(airlock.compiled, reason="the compiled kernel hands a scope's records "
                    "over in C, with no Python code between its checks and its writes")
def test_a_capture_whose_marks_store_runs_a_finalizer_never_lands_in_an_ended_scope() -> None:
    """A thread's nested scope hands its record to the outer scope; another capture published
    marks of its own meanwhile, so this capture's store of its marks frees them, and a
    finalizer runs there while the outer scope ends. The capture reads whether the outer
    scope still captures after that store: refused, the nested scope runs its effect itself."""
    log: list[object] = []
    owner_ended, in_finalizer = threading.Event(), threading.Event()

    class Finalized:  # what only the other capture's marks held (a finished child scope...)
        def __del__(self) -> None:
            in_finalizer.set()
            owner_ended.wait(WAIT)  # (lets the owner's thread run)

    publish = Breakpoint(airlock._buffer.Buffer.capture, "self.origins = origins")

    def nested() -> None:
        with airlock.scope():
            airlock.enqueue(record, log, "nested")

    owner = airlock.scope()
    with owner:
        thread = carrying_thread(publish.run_armed(nested))
        assert publish.reached.wait(WAIT)
        owner._buffer.origins = [(0, Finalized()), (0, None)]  # another capture's marks
        publish.resume.set()
        assert in_finalizer.wait(WAIT)
    owner_ended.set()
    thread.join(WAIT)
    assert log == ["nested"]


@pytest.mark.usefixtures("pure_frames")
def test_an_arrival_as_a_plain_frame_starts_its_loop_is_the_next_frames_even_if_it_fails() -> None:
    """An inline frame counts its plain records, then its loop copies them; another thread's
    enqueue lands in between, and the frame's task raises. The arrival is not the failed
    frame's (not listed as undispatched): it stays, and runs once, in the next frame."""
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        pass
    loop = Breakpoint(airlock._plain.run_plain)
    carried: list[contextvars.Context] = []
    errors: list[BaseException] = []

    def boom() -> None:
        raise RuntimeError("boom")

    def frame() -> None:
        try:
            with tick:
                airlock.enqueue(boom)
                carried.append(contextvars.copy_context())
        except RuntimeError as exc:
            errors.append(exc)

    enqueue_while_paused(loop, frame, carried, record, log, "late")
    assert len(errors) == 1
    assert errors[0].undispatched_intents == []  # type: ignore[attr-defined]
    assert (tick.stats.enqueued, tick.stats.failed) == (1, 1) and tick.pending == 1
    with tick:
        pass
    assert log == ["late"] and (tick.stats.enqueued, tick.stats.dispatched) == (1, 1)


class Fates(airlock.Observer):
    """What it hears of each intent: ``enqueued``, then one fate."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, object]] = []

    def enqueued(self, intent: Intent) -> None:
        self.heard.append(("enqueued", intent.args[1]))

    def discarded(self, intent: Intent) -> None:
        self.heard.append(("discarded", intent.args[1]))

    def dispatched(self, intent: Intent) -> None:
        self.heard.append(("dispatched", intent.args[1]))


def test_an_arrival_while_a_failed_frame_is_discarded_is_not_told_discarded() -> None:
    """A frame's body raises: its entries are discarded and its observers told so. Another
    thread's enqueue lands after the discard counted them: it is the next frame's, which
    dispatches it, and the observers hear one fate for it."""
    log: list[object] = []
    fates = Fates()
    tick = airlock.tick_scope(observers=[fates])
    telling = Breakpoint(airlock._settle.drop_buffer, "if scope._plan.watching")
    carried: list[contextvars.Context] = []

    def frame() -> None:
        with contextlib.suppress(RuntimeError), tick:
            airlock.enqueue(record, log, "discarded")
            carried.append(contextvars.copy_context())
            raise RuntimeError("the frame fails")

    enqueue_while_paused(telling, frame, carried, record, log, "late")
    with tick:
        pass
    assert log == ["late"]
    assert fates.heard == [("enqueued", "discarded"), ("enqueued", "late"),
                           ("discarded", "discarded"), ("dispatched", "late")]
    assert tick.stats.balance_error() is None


@pytest.mark.parametrize("holds_for", [0.05, 0.5], ids=["briefly", "past close's patience"])
def test_close_discards_the_leftovers_even_while_a_refused_opener_holds_the_claim(
    holds_for: float, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """``close()`` runs a last frame, marks the tick closed, then discards what still waits.
    Another thread tries to open a frame right then: it holds the claim until it is refused
    as closed. The leftovers are still discarded and counted: close() waits for the claim or,
    past its patience, says so in a warning and the refused opener discards as it gives the
    claim back."""
    monkeypatch.setattr(airlock._closing, "CLOSE_PATIENCE", 0.2)
    log: list[object] = []
    tick = airlock.tick_scope()
    opening = Breakpoint(airlock._frame.start_frame)
    refused: list[BaseException] = []

    def opener() -> None:
        try:
            with airlock.scope(), tick:  # (a scope around it: the general opening)
                pass
        except airlock.ScopeStateError as exc:
            refused.append(exc)

    class StartingAnOpener:
        """The tick's lock: as close() leaves it (closed now), another thread opens."""

        def __init__(self, lock: Any) -> None:
            self.lock = lock

        def __enter__(self) -> Any:
            return self.lock.__enter__()

        def __exit__(self, *exc_info: Any) -> Any:
            done = self.lock.__exit__(*exc_info)
            if tick.is_closed and not opening.reached.is_set():
                threading.Thread(target=opening.run_armed(opener)).start()
                assert opening.reached.wait(WAIT)  # it holds the claim now
                threading.Timer(holds_for, opening.resume.set).start()
            return done

    def effect() -> None:
        log.append("last frame")
        airlock.enqueue(record, log, "leftover")  # waits for a frame that never comes

    with tick:
        carried = contextvars.copy_context()
    carried.run(airlock.enqueue, effect)
    tick._lock = StartingAnOpener(tick._lock)  # type: ignore[assignment]
    tick.close()
    deadline = time.monotonic() + WAIT
    while not refused and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(refused) == 1 and "closed" in str(refused[0])
    assert log == ["last frame"] and tick.pending == 0
    assert tick.stats.discarded == 1 and tick.stats.balance_error() is None
    waited_past = [r.getMessage() for r in caplog.records if "still held it" in r.getMessage()]
    if holds_for > 0.2:
        assert len(waited_past) == 1 and "1 intent(s) still wait" in waited_past[0]
    else:
        assert waited_past == []


@pytest.mark.parametrize("rich", [False, True], ids=["plain frame", "rich frame"])
def test_a_policy_set_while_a_frames_entries_are_freed_is_heard_by_the_next_frames(
    rich: bool,
) -> None:
    """With ``keep_intents=False`` a frame's end frees its entries; an argument's finalizer
    lets another thread set a policy with an ``on_enqueue`` right then. The frame's end keeps
    the general mode that change wrote (both cores), and the policy hears the next frames."""
    heard: list[object] = []
    go, done = threading.Event(), threading.Event()

    class Hooked(airlock.AllowAll):
        def on_enqueue(self, intent: Intent) -> None:
            heard.append(intent.args[0])

    tick = airlock.tick_scope(keep_intents=False)

    def configure() -> None:
        assert go.wait(WAIT)
        tick.policy = Hooked()
        done.set()

    class FreedWithTheFrame:
        def __del__(self) -> None:  # runs as the frame's end removes its entries
            go.set()
            done.wait(WAIT)

    def task(arg: object) -> None:
        pass

    thread = threading.Thread(target=configure)
    thread.start()
    for _ in range(3):  # the frames open and close inline from now on
        with tick:
            pass
    with tick:
        airlock.enqueue(task, FreedWithTheFrame(), _key="k" if rich else None)
    thread.join(WAIT)
    assert done.is_set()
    for n in (1, 2):
        with tick:
            airlock.enqueue(task, n)
    assert heard == [1, 2]
