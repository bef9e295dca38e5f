"""The plain loop (``airlock._plain``): a flush that calls each ``(task, args, kwargs)`` in order.

The failure accounting is a function of plain data (``plain_failure``); the loops are tested
through the scopes that run them, and on a scope's buffer directly.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

import airlock
from airlock import Intent
from airlock._plain import plain_failure, run_plain
from airlock._stats import FlushStats


def record(log: list[Any], value: Any) -> None:
    log.append(value)


def boom(log: list[Any], value: Any) -> None:
    raise RuntimeError(value)


def test_plain_failure_counts_and_attaches_on_plain_data() -> None:
    stats, exc = FlushStats(), RuntimeError("x")
    intents = [Intent(print, (n,)) for n in range(4)]
    plain_failure(stats, exc, intents, 1, 123)
    assert (stats.enqueued, stats.dispatched, stats.failed, stats.undispatched) == (4, 1, 1, 2)
    assert stats.flush_ns == 123 and stats.balance_error() is None
    assert exc.failed_intent is intents[1]  # type: ignore[attr-defined]
    assert exc.undispatched_intents == intents[2:]  # type: ignore[attr-defined]


def appending(log: list[Any], buffer: list[Any]) -> tuple[Any, ...]:
    """A plain record whose task logs its value and appends another record while it runs."""

    def task(value: Any) -> None:
        log.append(value)
        buffer.append((record, (log, "meanwhile"), {}))

    return (task, ("appends",), {})


def test_run_plain_takes_the_entries_present_when_it_starts() -> None:
    log: list[Any] = []
    tick = airlock.tick_scope()
    tick._buffer.extend([(record, (log, 1), {}), appending(log, tick._buffer)])
    assert run_plain(tick, tick._buffer) == 2
    assert log == [1, "appends"] and len(tick._buffer) == 3  # the arrival is not taken
    assert tick.stats.dispatched == 2
    tick.close()


def test_run_plain_stops_before_an_entry_that_is_not_a_plain_record() -> None:
    log: list[Any] = []
    tick = airlock.tick_scope()
    buffer = tick._buffer
    full: tuple[Any, ...] = (record, (log, 2), {}, None, None, None, "k", (), tick)
    buffer.extend([(record, (log, 1), {}), full, (record, (log, 3), {})])
    assert run_plain(tick, buffer) == 1
    assert log == [1] and buffer.rich  # the rest waits for a general flush
    buffer.take(1)  # (the caller removes what the run took)
    with tick:
        pass
    assert log == [1, 2, 3]
    tick.close()


def test_run_plain_runs_the_entries_intents_named_as_their_records() -> None:
    log: list[Any] = []
    scope = airlock.scope()
    scope._buffer.extend([(record, (log, 1), {}), (record, (log, 2), {})])
    named = scope.intents  # names the records in place
    assert [type(i) for i in scope._buffer] == [Intent, Intent]
    assert run_plain(scope, scope._buffer) == 2
    assert log == [1, 2] and scope._buffer == named


def test_reading_intents_from_another_thread_during_a_plain_flush_loses_nothing() -> None:
    """Another thread names the records while the flush runs its first one: the flush runs
    every entry once (it used to fail with "too many values to unpack" and drop the rest)."""
    log: list[Any] = []
    running, read = threading.Event(), threading.Event()

    def first() -> None:
        running.set()
        assert read.wait(5)
        log.append("first")

    scope = airlock.scope()

    def reader() -> None:
        assert running.wait(5)
        log.append([i.name for i in scope.intents])
        read.set()

    thread = threading.Thread(target=reader)
    thread.start()
    with scope:
        airlock.enqueue(first)
        airlock.enqueue(record, log, "second")
    thread.join()
    assert log == [["first", "record"], "first", "second"]
    assert (scope.stats.dispatched, scope.stats.failed) == (2, 0)


def test_a_failing_entry_that_intents_named_is_counted_like_a_record() -> None:
    log: list[Any] = []
    scope = airlock.scope()
    scope._buffer.extend([(record, (log, 1), {}), (boom, (log, 2), {}), (record, (log, 3), {})])
    scope.intents  # noqa: B018  (names the records in place)
    with pytest.raises(RuntimeError) as info:
        run_plain(scope, scope._buffer)
    assert log == [1]
    stats = scope.stats
    assert (stats.dispatched, stats.failed, stats.undispatched) == (1, 1, 1)
    assert info.value.failed_intent is scope.intents[1]  # type: ignore[attr-defined]


def test_a_scope_used_once_fails_a_racing_entry_with_options_and_says_why() -> None:
    """An entry with options that another thread appends to the buffer itself lands while the
    plain flush runs (simulated by the first task; airlock's own enqueues and captures no
    longer land once the scope closed). A scope used once has no later flush, so that entry is
    reported as failed, with an error that says what happened (it used to be Python's "too
    many values to unpack"); the effect before it ran, and the ledger balances."""
    log: list[Any] = []

    def first() -> None:
        log.append("first")
        scope._buffer.add((record, (log, "late"), {}, None, None, None, "k", (), scope), False)

    said = r"record\(.*\) reached .* while it ran its plain flush: another thread appended it"
    with pytest.raises(airlock.ScopeStateError, match=said) as info, airlock.scope() as scope:
        airlock.enqueue(first)
        airlock.enqueue(record, log, "second")
    assert log == ["first", "second"]
    stats = scope.stats
    assert (stats.enqueued, stats.dispatched, stats.failed, stats.undispatched) == (3, 2, 1, 0)
    assert stats.balance_error() is None
    assert info.value.failed_intent is scope.intents[2]  # type: ignore[attr-defined]
    assert "run_plain" not in str(info.value) and info.value.__cause__ is None


def test_a_failing_plain_task_is_counted_and_the_rest_is_undispatched() -> None:
    log: list[Any] = []
    with pytest.raises(RuntimeError) as info, airlock.scope() as scope:
        airlock.enqueue(record, log, 1)
        airlock.enqueue(boom, log, 2)
        airlock.enqueue(record, log, 3)
    assert log == [1]
    stats = scope.stats
    assert (stats.dispatched, stats.failed, stats.undispatched) == (1, 1, 1)
    assert [i.args[1] for i in info.value.undispatched_intents] == [3]  # type: ignore[attr-defined]
