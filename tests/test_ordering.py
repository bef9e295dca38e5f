"""Ordering: order_by=by_phase(...) runs a flush phase by phase; ties keep enqueue order."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock import Intent


@airlock.phase("sound")
def play(log: list[str], name: str) -> None:
    log.append("sound:" + name)


@airlock.phase("redraw")
def redraw(log: list[str], name: str) -> None:
    log.append("redraw:" + name)


def plain(log: list[str], name: str) -> None:
    log.append("plain:" + name)


def test_phases_run_in_order_with_stable_ties() -> None:
    log: list[str] = []
    tick = airlock.tick_scope(order_by=airlock.by_phase("redraw", "sound", "network"))
    with tick:
        airlock.enqueue(plain, log, "1")
        airlock.enqueue(play, log, "hit")
        airlock.enqueue(redraw, log, "a")
        airlock.enqueue(plain, log, "2", _dispatch_options={"phase": "network"})
        airlock.enqueue(play, log, "boom")
        airlock.enqueue(redraw, log, "b")
    assert log == [
        "redraw:a", "redraw:b", "sound:hit", "sound:boom", "plain:2", "plain:1",
    ]


def test_dispatch_option_overrides_the_task_phase() -> None:
    log: list[str] = []
    with airlock.scope(order_by=airlock.by_phase("redraw", "sound")):
        airlock.enqueue(play, log, "late")
        airlock.enqueue(play, log, "early", _dispatch_options={"phase": "redraw"})
    assert log == ["sound:early", "sound:late"]


def test_default_phase_places_unmarked_intents() -> None:
    log: list[str] = []
    with airlock.scope(order_by=airlock.by_phase("redraw", "sound", default="redraw")):
        airlock.enqueue(play, log, "s")
        airlock.enqueue(plain, log, "p")
        airlock.enqueue(redraw, log, "r")
    assert log == ["plain:p", "redraw:r", "sound:s"]


def test_batch_phase_orders_the_merged_call() -> None:
    log: list[Any] = []

    @airlock.batch(phase="network")
    def send(payloads: list[Any]) -> None:
        log.append(payloads)

    with airlock.scope(order_by=airlock.by_phase("sound", "network")):
        airlock.enqueue(send, 1)
        airlock.enqueue(play, log, "x")
        airlock.enqueue(send, 2)
    assert log == ["sound:x", [1, 2]]


def test_unknown_phase_fails_the_flush_and_names_it() -> None:
    log: list[str] = []
    scope = airlock.scope(order_by=airlock.by_phase("redraw"))
    with pytest.raises(airlock.UsageError, match=r"phase 'sound'.*not one of") as info, scope:
        airlock.enqueue(play, log, "x")
    assert log == []
    assert len(info.value.undispatched_intents) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "distinct phase names"),
        (("a", "a"), {}, "distinct phase names"),
        (("a",), {"default": "b"}, "default phase 'b' is not one of"),
    ],
)
def test_by_phase_validation(args: tuple[str, ...], kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        airlock.by_phase(*args, **kwargs)


def test_any_key_function_orders_a_flush() -> None:
    log: list[str] = []

    def by_name_length(intent: Intent) -> int:
        return len(intent.args[1])

    with airlock.scope(order_by=by_name_length):
        for name in ("ccc", "a", "bb", "d"):
            airlock.enqueue(plain, log, name)
    assert log == ["plain:a", "plain:d", "plain:bb", "plain:ccc"]


def test_phase_marks_the_task() -> None:
    assert play.airlock_phase == "sound"  # type: ignore[attr-defined]


def by_number(intent: airlock.Intent) -> object:
    """Orders by the last argument; "x" does not compare with the numbers."""
    return intent.args[-1]


def test_keys_that_do_not_compare_name_the_function_and_the_intents() -> None:
    """Issue 13.9: used to abort with Python's bare "'<' not supported"."""
    log: list[object] = []
    scope = airlock.scope(order_by=by_number)
    expected = (
        r"order_by by_number returned keys that do not compare: 2 for play\(\[\], 2\) and 'x' "
        r"for play\(\[\], 'x'\)"
    )
    with pytest.raises(airlock.UsageError, match=expected) as info, scope:
        for value in (2, "x", 1):
            airlock.enqueue(play, log, value)
    assert log == []
    assert len(info.value.undispatched_intents) == 3  # type: ignore[attr-defined]
    assert isinstance(info.value.__cause__, TypeError)
    assert (scope.stats.undispatched, scope.stats.balance_error()) == (3, None)


def test_a_raising_order_by_is_named_with_its_intent() -> None:
    def picky(intent: airlock.Intent) -> int:
        if intent.args[1] == "bad":
            raise LookupError("no rank")
        return 0

    with pytest.raises(airlock.UsageError, match=r"order_by .*picky raised LookupError for "
                       r"play\(\[\], 'bad'\): no rank"), airlock.scope(order_by=picky):
        airlock.enqueue(play, [], "ok")
        airlock.enqueue(play, [], "bad")


def test_under_continue_a_failed_ordering_dispatches_in_enqueue_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[object] = []
    for scope in (
        airlock.scope(order_by=by_number, errors="continue"),
        airlock.tick_scope(order_by=by_number, errors="continue"),
    ):
        caplog.clear()
        with caplog.at_level("ERROR", logger="airlock"), scope:
            for value in (2, "x", 1):
                airlock.enqueue(log.append, value)
        assert log == [2, "x", 1]
        assert (scope.stats.dispatched, scope.stats.hook_errors) == (3, 1)
        assert scope.stats.balance_error() is None
        assert "order_by by_number returned keys that do not compare" in caplog.text
        log.clear()
