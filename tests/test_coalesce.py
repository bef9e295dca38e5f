"""The coalesce stage: of the intents sharing a ``_key`` the last one goes on; a key that
cannot be hashed or compared at flush fails its own intent only (issue 21.7)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from keys import HashRaisesLater

import airlock


class EqRaises:
    """A key that hashes (so ``enqueue`` takes it) but cannot be compared."""

    def __hash__(self) -> int:
        return 1

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("EqRaises cannot be compared")


class FailureLog(airlock.Observer):
    def __init__(self) -> None:
        self.failed_args: list[tuple[Any, ...]] = []
        self.coalesced_args: list[tuple[Any, ...]] = []

    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self.failed_args.append(intent.args)

    def coalesced(self, intent: airlock.Intent) -> None:
        self.coalesced_args.append(intent.args)


@pytest.fixture(autouse=True)
def _disarmed() -> Any:
    HashRaisesLater.armed = False
    yield
    HashRaisesLater.armed = False


def enqueue_frame(log: list[str]) -> None:
    airlock.enqueue(log.append, "plain")
    airlock.enqueue(log.append, "first k", _key="k")
    airlock.enqueue(log.append, "eq raises", _key=EqRaises())
    airlock.enqueue(log.append, "hash raises", _key=HashRaisesLater())
    airlock.enqueue(log.append, "last k", _key="k")
    airlock.enqueue(log.append, "plain again")
    HashRaisesLater.armed = True


def test_keys_coalesce_to_the_last_enqueued() -> None:
    log: list[str] = []
    with airlock.scope() as s:
        for n in range(3):
            airlock.enqueue(log.append, f"save {n}", _key="save")
            airlock.enqueue(log.append, f"log {n}")
    assert log == ["log 0", "log 1", "save 2", "log 2"]
    assert s.stats.coalesced == 2 and s.stats.balance_error() is None


@pytest.mark.parametrize("watched", [False, True], ids=["records", "intents"])
def test_under_continue_a_raising_key_fails_its_intent_and_the_rest_run(watched: bool) -> None:
    log: list[str] = []
    observer = FailureLog()
    observers = [observer] if watched else []
    with airlock.scope(errors="continue", observers=observers) as s:
        enqueue_frame(log)
    assert log == ["plain", "last k", "plain again"]
    stats = s.stats
    assert (stats.dispatched, stats.coalesced, stats.failed) == (3, 1, 2)
    assert stats.balance_error() is None
    assert sorted(type(error).__name__ for _, error in stats.failures) == [
        "RuntimeError", "ValueError"
    ]
    if watched:
        assert observer.failed_args == [("eq raises",), ("hash raises",)]
        assert observer.coalesced_args == [("first k",)]


def test_under_continue_a_tick_frame_isolates_a_raising_key() -> None:
    log: list[str] = []
    observer = FailureLog()
    tick = airlock.tick_scope(errors="continue", observers=[observer])
    with tick:
        enqueue_frame(log)
    assert log == ["plain", "last k", "plain again"]
    assert observer.failed_args == [("eq raises",), ("hash raises",)]
    assert tick.stats.balance_error() is None
    HashRaisesLater.armed = False
    with tick:  # the next frame is a plain one again
        airlock.enqueue(log.append, "next frame")
    assert log[-1] == "next frame"
    tick.close()


def test_under_raise_the_error_escapes_naming_the_key_and_the_ledger_balances() -> None:
    log: list[str] = []
    observer = FailureLog()
    with pytest.raises(RuntimeError, match="cannot be compared") as info, airlock.scope(
        observers=[observer]
    ) as s:
        enqueue_frame(log)
    assert log == []  # the flush aborts, as for any error under errors="raise"
    error = info.value
    assert error.failed_intent.args == ("eq raises",)  # type: ignore[attr-defined]
    assert len(error.undispatched_intents) == 5  # type: ignore[attr-defined]
    assert (s.stats.failed, s.stats.undispatched, s.stats.balance_error()) == (1, 5, None)
    assert observer.failed_args == [("eq raises",)]
    if sys.version_info >= (3, 11):
        assert any("the _key <" in note and "EqRaises" in note for note in error.__notes__)


def test_a_key_that_cannot_be_compared_but_never_collides_coalesces_normally() -> None:
    class Distinct(EqRaises):
        def __init__(self, n: int) -> None:
            self.n = n

        def __hash__(self) -> int:
            return 100 + self.n

    log: list[str] = []
    with airlock.scope() as s:
        airlock.enqueue(log.append, "plain")
        airlock.enqueue(log.append, "a", _key=Distinct(1))
        airlock.enqueue(log.append, "first k", _key="k")
        airlock.enqueue(log.append, "last k", _key="k")
    assert log == ["plain", "a", "last k"] and s.stats.coalesced == 1
