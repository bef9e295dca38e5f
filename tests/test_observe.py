"""Observers see each intent's fate: enqueued, coalesced, dropped, dispatched, failed, discarded."""

from __future__ import annotations

import pytest

import airlock
from airlock import Intent, Scope


class Log(airlock.Observer):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def enqueued(self, intent: Intent) -> None:
        self.events.append(("enqueued", str(intent)))

    def coalesced(self, intent: Intent) -> None:
        self.events.append(("coalesced", str(intent)))

    def dropped(self, intent: Intent) -> None:
        self.events.append(("dropped", str(intent)))

    def dispatched(self, intent: Intent) -> None:
        self.events.append(("dispatched", str(intent)))

    def failed(self, intent: Intent, error: BaseException) -> None:
        self.events.append(("failed", f"{intent}: {error}"))

    def discarded(self, intent: Intent) -> None:
        self.events.append(("discarded", str(intent)))

    def flushed(self, scope: Scope) -> None:
        self.events.append(("flushed", f"dispatched={scope.stats.dispatched}"))


def fx(tag: str) -> None:
    """An effect that does nothing."""


def fail(tag: str) -> None:
    raise ValueError(tag)


def test_a_frame_reports_every_fate_in_order() -> None:
    log = Log()
    tick = airlock.tick_scope(
        policy=airlock.BlockTasks(["blocked"]), errors="continue", observers=[log]
    )
    with tick:
        airlock.enqueue(fx, "k1", _key="k")
        airlock.enqueue(fx, "b", _name="blocked")
        airlock.enqueue(fail, "f")
        airlock.enqueue(fx, "k2", _key="k")
    assert log.events == [
        ("enqueued", "fx('k1')"),
        ("enqueued", "blocked('b')"),
        ("enqueued", "fail('f')"),
        ("enqueued", "fx('k2')"),
        ("coalesced", "fx('k1')"),
        ("dropped", "blocked('b')"),
        ("failed", "fail('f'): f"),
        ("dispatched", "fx('k2')"),
        ("flushed", "dispatched=1"),
    ]


def test_a_failed_frame_reports_discarded_intents() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])
    with pytest.raises(KeyError), tick:
        airlock.enqueue(fx, "a")
        raise KeyError
    assert log.events == [
        ("enqueued", "fx('a')"),
        ("discarded", "fx('a')"),
        ("flushed", "dispatched=0"),
    ]


def test_every_frame_reports_flushed_even_an_empty_one() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])
    for _ in range(3):
        with tick:
            pass
    assert log.events == [("flushed", "dispatched=0")] * 3


def test_plain_scope_observers_see_intent_fates() -> None:
    log = Log()
    with airlock.scope(policy=airlock.DropAll(), observers=[log]):
        airlock.enqueue(fx, "a")
    assert log.events[:2] == [("enqueued", "fx('a')"), ("dropped", "fx('a')")]


def test_a_raising_frame_reports_the_failure() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])
    with pytest.raises(ValueError), tick:
        airlock.enqueue(fail, "x")
        airlock.enqueue(fx, "never")
    assert ("failed", "fail('x'): x") in log.events
    assert not any(kind == "dispatched" for kind, _ in log.events)


def test_observers_see_reentrant_enqueues_when_they_happen() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])

    def spawn() -> None:
        airlock.enqueue(fx, "next")

    with tick:
        airlock.enqueue(spawn)
    assert ("enqueued", "fx('next')") in log.events
    log.events.clear()
    with tick:
        pass
    assert log.events == [("dispatched", "fx('next')"), ("flushed", "dispatched=1")]


def test_the_base_observer_does_nothing() -> None:
    base = airlock.Observer()
    tick = airlock.tick_scope(observers=[base])
    with tick:
        airlock.enqueue(fx, "a")
    assert tick.stats.dispatched == 1


def test_a_plain_scope_reports_flushed() -> None:
    log = Log()
    with airlock.scope(observers=[log]):
        airlock.enqueue(fx, "a")
    assert log.events[-1] == ("flushed", "dispatched=1")
