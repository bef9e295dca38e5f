"""Settling a scope (``airlock._settle``): the pipeline flush, the discard and their ledger."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock import Intent, Scope
from airlock._settle import drop_all, drop_buffer, needs_intents, run_flush, settle
from airlock._stats import FlushStats


def record(log: list[Any], value: Any) -> None:
    log.append(value)


def test_drop_buffer_counts_every_entry_as_discarded() -> None:
    log: list[Any] = []
    scope = airlock.scope()
    scope._buffer.extend([(record, (log, 1), {}), (record, (log, 2), {})])
    drop_buffer(scope)
    stats = scope.stats
    assert (stats.enqueued, stats.discarded) == (2, 2) and stats.balance_error() is None
    assert scope.is_discarded and log == []


def test_drop_all_counts_plain_records_as_dropped() -> None:
    scope = airlock.scope(airlock.DropAll())
    scope._buffer.append((print, (1,), {}))
    drop_all(scope)
    assert scope.is_flushed and (scope.stats.enqueued, scope.stats.dropped) == (1, 1)


def test_needs_intents_follows_the_plan_and_a_choosing_ancestor() -> None:
    class Judges(airlock.Policy):
        def allows(self, intent: Intent) -> bool:
            return True

    class Keeps(Scope):
        def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[
            Intent
        ]:
            return intents

    assert not needs_intents(airlock.scope())
    assert needs_intents(airlock.scope(Judges()))
    with Keeps(), airlock.scope() as inner:
        assert needs_intents(inner)


def test_run_flush_leaves_the_failed_entries_out_of_what_it_returns() -> None:
    def boom() -> None:
        raise RuntimeError("no")

    scope = airlock.scope(errors="continue")
    scope._buffer.extend([(print, (), {}), (boom, (), {})])
    stats = FlushStats()
    intents = scope._materialize()  # (``flush()``'s entries: failed ones are told by identity)
    kept = run_flush(scope, intents, stats, 0)
    assert kept == intents[:1] and (stats.dispatched, stats.failed) == (1, 1)
    assert scope._buffer.rich  # the next flush of a reused buffer takes the general path


def test_settle_discards_when_should_flush_fails() -> None:
    log: list[Any] = []

    class Fails(Scope):
        def should_flush(self, error: BaseException | None) -> bool:
            raise KeyError("judge")

    scope = Fails()
    scope.enter()
    airlock.enqueue(record, log, 1)
    scope.exit()
    with pytest.raises(KeyError):
        settle(scope, None, True, True)
    assert scope.is_discarded and log == [] and scope.stats.discarded == 1
