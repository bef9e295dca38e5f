"""Batches: N enqueues of one batch effect in a flush -> one handler call with N payloads."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock import Intent


def make_send(calls: list[list[Any]]) -> airlock.Batch:
    @airlock.batch
    def send_packets(payloads: list[Any]) -> None:
        calls.append(payloads)

    return send_packets  # type: ignore[no-any-return]


def test_one_handler_call_with_every_payload_in_order() -> None:
    calls: list[list[Any]] = []
    send = make_send(calls)
    tick = airlock.tick_scope()
    with tick:
        for n in range(5):
            airlock.enqueue(send, n)
        airlock.enqueue(send, "x", "y")  # several arguments make a tuple payload
    assert calls == [[0, 1, 2, 3, 4, ("x", "y")]]
    assert tick.stats.batched == 5 and tick.stats.dispatched == 1


def test_each_frame_gets_its_own_batch() -> None:
    calls: list[list[Any]] = []
    send = make_send(calls)
    tick = airlock.tick_scope()
    for frame in range(3):
        with tick:
            airlock.enqueue(send, frame)
            airlock.enqueue(send, frame)
    assert calls == [[0, 0], [1, 1], [2, 2]]


def test_the_merged_call_runs_where_the_last_enqueue_stood() -> None:
    log: list[Any] = []

    @airlock.batch
    def send(payloads: list[Any]) -> None:
        log.append(("send", payloads))

    with airlock.scope():
        airlock.enqueue(send, 1)
        airlock.enqueue(log.append, "between")
        airlock.enqueue(send, 2, _dispatch_options={"channel": "udp"})
        airlock.enqueue(log.append, "after")
    assert log == ["between", ("send", [1, 2]), "after"]


def test_merged_intent_keeps_the_last_dispatch_options_and_batch_name() -> None:
    seen: list[Intent] = []
    send = make_send([])
    with airlock.scope(executor=seen.append):
        airlock.enqueue(send, 1, _dispatch_options={"channel": "tcp"})
        airlock.enqueue(send, 2, _dispatch_options={"channel": "udp"})
    (merged,) = seen
    assert merged.name.endswith("send_packets") and merged.args == ([1, 2],)
    assert merged.dispatch_options == {"channel": "udp"}


def test_policies_filter_each_payload_before_merging() -> None:
    calls: list[list[Any]] = []
    send = make_send(calls)
    with airlock.scope():
        airlock.enqueue(send, "kept")
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(send, "dropped")
        airlock.enqueue(send, "kept too")
    assert calls == [["kept", "kept too"]]


def test_two_batches_stay_apart() -> None:
    a_calls: list[list[Any]] = []
    b_calls: list[list[Any]] = []
    a, b = make_send(a_calls), make_send(b_calls)
    with airlock.scope():
        airlock.enqueue(a, 1)
        airlock.enqueue(b, 2)
        airlock.enqueue(a, 3)
    assert a_calls == [[1, 3]] and b_calls == [[2]]


def test_keywords_are_refused_at_enqueue() -> None:
    send = make_send([])
    with airlock.scope() as s:
        with pytest.raises(TypeError, match=r"positional payloads only, got keywords \['size'\]"):
            airlock.enqueue(send, 1, size=3)
        assert s.intents == []


def test_captured_batch_payloads_merge_in_the_outer_flush() -> None:
    calls: list[list[Any]] = []
    send = make_send(calls)
    with airlock.scope():
        airlock.enqueue(send, "outer")
        with airlock.scope():
            airlock.enqueue(send, "inner")
        assert calls == []
    assert calls == [["outer", "inner"]]


def test_a_batch_only_runs_through_a_flush() -> None:
    calls: list[list[Any]] = []
    send = make_send(calls)
    assert not callable(send)
    send.handler([1])
    assert calls == [[1]]


@airlock.batch(phase="network")
def flush_net(payloads: list[Any]) -> None:
    """A network batch."""


def test_batch_decorator_with_a_phase_and_repr() -> None:
    assert isinstance(flush_net, airlock.Batch)
    assert flush_net.airlock_phase == "network" and repr(flush_net) == "<batch flush_net>"
    assert flush_net.__name__ == "flush_net"


def test_batch_handler_must_be_callable() -> None:
    with pytest.raises(TypeError, match="batch handler must be callable"):
        airlock.batch(3)  # type: ignore[arg-type]


def test_a_keyed_batch_coalesces_by_key_then_folds_in_a_tick_and_a_scope() -> None:
    for open_scope in (airlock.tick_scope, airlock.scope):
        sent: list[list[Any]] = []
        send = airlock.batch(sent.append)
        with open_scope() as scope:
            for value in ("a1", "b1", "a2", "c1"):
                airlock.enqueue(send, value, _key=value[0], _name="send")
            airlock.enqueue(send, "unkeyed")
        assert sent == [["b1", "a2", "c1", "unkeyed"]]
        stats = scope.stats
        assert (stats.enqueued, stats.coalesced, stats.batched, stats.dispatched) == (5, 1, 3, 1)
        with pytest.raises(TypeError, match="positional payloads only"), open_scope():
            airlock.enqueue(send, value=1, _key="k")
