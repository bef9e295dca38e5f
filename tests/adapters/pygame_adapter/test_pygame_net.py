"""Network: one datagram per frame reaches a real UDP socket on 127.0.0.1, payloads in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pygame
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


def test_the_receiver_binds_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LoopbackReceiver("0.0.0.0")


def test_one_unserialisable_payload_is_left_out_and_the_rest_still_go(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    receiver, sender = peer
    tick = airlock.tick_scope(errors="continue")
    with tick:
        sender.send({"id": 1})
        sender.send({"pos": pygame.Vector2(3, 4)})  # not JSON
        sender.send({"id": 3})
    receiver.drain(timeout=2.0)
    assert receiver.payloads == [{"id": 1}, {"id": 3}]
    assert (sender.totals.datagrams, sender.totals.payloads) == (1, 2)
    assert tick.stats.failed == 1
    (intent, error), = tick.stats.failures
    assert isinstance(error, TypeError)
    assert "left 1 of 3 payload(s) out" in str(error) and "payload #1" in str(error)
    assert "Vector2" in str(error) and "_" not in intent.name.replace("NetSender.", "")


def test_an_oversized_payload_in_the_middle_does_not_stop_the_ones_after_it(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    receiver, sender = peer
    sender.max_datagram = 120
    tick = airlock.tick_scope(errors="continue")
    with tick:
        for i in range(6):
            sender.send({"n": i, "pad": "z" * (300 if i == 2 else 5)})
    receiver.drain(timeout=2.0)
    while len(receiver.payloads) < 5 and receiver.drain(timeout=1.0):
        pass
    assert [p["n"] for p in receiver.payloads] == [0, 1, 3, 4, 5]
    (_, error), = tick.stats.failures
    assert isinstance(error, ValueError) and "payload #2" in str(error)
    assert "max_datagram" in str(error)


def test_a_frames_datagram_is_encoded_once(
    peer: tuple[LoopbackReceiver, NetSender], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    receiver, sender = peer
    encodes: list[object] = []
    dumps = json.dumps

    def counted(obj: object, **kw: Any) -> str:
        encodes.append(obj)
        return dumps(obj, **kw)

    monkeypatch.setattr(json, "dumps", counted)
    with airlock.tick_scope():
        for i in range(5):
            sender.send({"i": i})
    assert len(encodes) == 1
    assert receiver.drain(timeout=2.0)[0]["payloads"] == [{"i": i} for i in range(5)]
