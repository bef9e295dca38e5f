"""The slow enqueue path (``airlock._entry``): the entry an enqueue needs, checks and hooks."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock import Intent, Observer
from airlock._entry import check_holds, enqueue_late, make_entry, refusal
from airlock._intent import IntentOptions


def noop(*args: Any) -> None:
    return None


def test_make_entry_builds_the_smallest_entry_the_enqueue_needs() -> None:
    scope = airlock.scope()
    assert make_entry(scope, noop, (1,), {}, None, ()) == (noop, (1,), {})
    options = IntentOptions(name="n", origin=None, dispatch_options=None, key="k")
    full = make_entry(scope, noop, (1,), {}, options, ())
    assert type(full) is tuple and len(full) == 9 and full[-1] is scope


def test_make_entry_builds_an_intent_and_runs_the_hooks_when_watched() -> None:
    heard: list[Intent] = []

    class Hears(Observer):
        def enqueued(self, intent: Intent) -> None:
            heard.append(intent)

    scope = airlock.scope(observers=[Hears()])
    entry = make_entry(scope, noop, (1,), {}, None, ())
    assert type(entry) is Intent and heard == [entry] and entry.scope is scope


def test_a_held_task_needs_a_tick_around() -> None:
    @airlock.debounce(1.0)
    def save() -> None: ...

    with pytest.raises(airlock.UsageError, match="no tick encloses"):
        check_holds(airlock.scope(), save)
    tick = airlock.tick_scope()
    with tick, airlock.scope() as inner:
        check_holds(inner, save)  # the tick holds it
    tick.close()


def test_a_late_enqueue_is_refused_with_the_scopes_state() -> None:
    with airlock.scope() as scope:
        pass
    error = refusal(scope, noop, None)
    assert "has already been flushed" in str(error) and "noop" in str(error)
    with pytest.raises(airlock.ScopeStateError, match="has already been flushed"):
        enqueue_late(scope, noop)
