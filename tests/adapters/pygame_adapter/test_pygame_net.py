"""Network: one datagram per frame reaches a real UDP socket on 127.0.0.1, payloads in order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import airlock
from airlock_pygame import LoopbackReceiver, NetSender


@pytest.fixture
def peer() -> Iterator[tuple[LoopbackReceiver, NetSender]]:
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        yield receiver, sender
        sender.close()


class Enemy:
    def __init__(self, sender: NetSender, name: str) -> None:
        self.sender, self.name = sender, name

    def moved(self, frame: int) -> None:
        self.sender.send({"who": self.name, "frame": frame})


def test_one_datagram_per_frame_with_every_payload_in_order(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    receiver, sender = peer
    enemies = [Enemy(sender, f"e{i}") for i in range(4)]
    tick = airlock.tick_scope()
    for frame in range(3):
        with tick:
            for enemy in enemies:
                enemy.moved(frame)
            sender.send(["score", frame * 10])
        assert tick.stats.dispatched == 1
        got = receiver.drain(timeout=2.0)
        assert len(got) == 1, f"frame {frame} sent {len(got)} datagrams"
    assert [m["seq"] for m in receiver.messages] == [0, 1, 2]
    for frame, message in enumerate(receiver.messages):
        assert message["payloads"] == [
            *({"who": f"e{i}", "frame": frame} for i in range(4)), ["score", frame * 10]
        ]
    assert (sender.totals.datagrams, sender.totals.payloads) == (3, 15)
    assert receiver.drain(timeout=0.05) == []  # nothing else arrived


def test_keyed_sends_keep_only_the_last_per_key(peer: tuple[LoopbackReceiver, NetSender]) -> None:
    receiver, sender = peer
    tick = airlock.tick_scope()
    with tick:
        for step in range(3):  # a frame that ran three fixed updates
            sender.send({"pos": step}, key="ship")
            sender.send({"shot": step})
    receiver.drain(timeout=2.0)
    assert receiver.payloads == [{"shot": 0}, {"shot": 1}, {"pos": 2}, {"shot": 2}]
    assert tick.stats.coalesced == 2


def test_a_frame_without_sends_sends_nothing(peer: tuple[LoopbackReceiver, NetSender]) -> None:
    receiver, sender = peer
    with airlock.tick_scope():
        pass
    assert receiver.drain(timeout=0.05) == []
    assert sender.take_report().datagrams == 0


def test_an_oversized_frame_splits_into_ordered_datagrams(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    receiver, sender = peer
    sender.max_datagram = 200
    with airlock.tick_scope():
        for i in range(20):
            sender.send({"n": i, "pad": "x" * 20})
    receiver.drain(timeout=2.0)
    while len(receiver.payloads) < 20 and receiver.drain(timeout=1.0):
        pass
    assert [p["n"] for p in receiver.payloads] == list(range(20))
    assert len(receiver.messages) == sender.totals.datagrams > 1
    assert all(m["seq"] == i for i, m in enumerate(receiver.messages))


def test_a_payload_too_big_for_one_datagram_fails_that_effect(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    _, sender = peer
    sender.max_datagram = 50
    tick = airlock.tick_scope(errors="continue")
    with tick:
        sender.send("y" * 100)
    assert tick.stats.failed == 1
    (_, error), = tick.stats.failures
    assert isinstance(error, ValueError) and "max_datagram" in str(error)


def test_the_receiver_binds_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LoopbackReceiver("0.0.0.0")
