"""Network: one datagram per frame reaches a real UDP socket on 127.0.0.1, payloads in order."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pygame
import pytest

import airlock
from airlock_pygame import (
    MAX_DATAGRAM,
    GameLoop,
    LoopbackReceiver,
    NetSender,
    play_sound,
    request_redraw,
    tone,
)


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


def test_a_payload_nested_too_deep_for_json_is_left_out_and_the_rest_still_go(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    """Review: ``json.dumps`` raises RecursionError for it, which stopped the whole frame."""
    receiver, sender = peer
    deep: list[Any] = []
    inner = deep
    for _ in range(100_000):
        inner.append([])
        inner = inner[0]
    tick = airlock.tick_scope(errors="continue")
    with tick:
        sender.send({"id": 1})
        sender.send(deep)
        sender.send({"id": 2})
    receiver.drain(timeout=2.0)
    assert receiver.payloads == [{"id": 1}, {"id": 2}]
    (_, error), = tick.stats.failures
    assert isinstance(error, RecursionError) and "left 1 of 3 payload(s) out" in str(error)


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


@pytest.mark.parametrize("limit", [200_000, MAX_DATAGRAM + 1, 0, -1, 63, 1500.0, True, "9000"])
def test_an_impossible_datagram_limit_is_refused_with_the_allowed_range(limit: Any) -> None:
    with pytest.raises(ValueError, match=r"max_datagram must be an int from 64 to 65,507 bytes"):
        NetSender(("127.0.0.1", 9), max_datagram=limit)
    sender = NetSender(("127.0.0.1", 9), max_datagram=MAX_DATAGRAM)
    with pytest.raises(ValueError, match="65,507"):
        sender.max_datagram = limit  # setting it later is checked too
    assert sender.max_datagram == MAX_DATAGRAM
    sender.close()


def test_a_payload_over_udps_limit_is_reported_and_the_frames_good_payloads_arrive(
    screen: pygame.Surface,
) -> None:
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address, max_datagram=MAX_DATAGRAM)

        def update(dt: float) -> None:
            sender.send({"id": 1})
            sender.send("x" * 100_000)  # more than any UDP datagram carries
            sender.send({"id": 3})

        loop = GameLoop(screen, update=update, fps=None)
        loop.run(frames=2)
        while len(receiver.payloads) < 4 and receiver.drain(timeout=2.0):
            pass
        sender.close()
    assert receiver.payloads == [{"id": 1}, {"id": 3}] * 2
    for record in loop.history:
        assert record.failed == 1
        (failure,) = record.failures
        assert "left 1 of 3 payload(s) out" in failure and "payload #1" in failure
        assert "at most 65,507 bytes" in failure
    assert [frame for frame, _ in loop.errors] == [0, 1]


def test_payloads_the_socket_refuses_are_reported_and_the_next_frame_still_sends() -> None:
    with LoopbackReceiver() as receiver:
        refused = NetSender(("255.255.255.255", receiver.address[1]))  # no SO_BROADCAST: EACCES
        sender = NetSender(receiver.address)
        tick = airlock.tick_scope(errors="continue")
        with tick:
            refused.send({"id": 1})
            refused.send({"id": 2})
            sender.send({"id": 3})
        assert receiver.drain(timeout=2.0)[0]["payloads"] == [{"id": 3}]
        (_, error), = tick.stats.failures
        assert isinstance(error, OSError) and "left 2 of 2 payload(s) out" in str(error)
        assert refused.totals.datagrams == 0
        refused.close()
        sender.close()


def test_a_request_to_a_closed_loop_raises_at_the_call(screen: pygame.Surface) -> None:
    loop = GameLoop(screen, fps=None)
    loop.run(frames=1)
    loop.tick.close()
    assert loop.is_closed
    sender = NetSender(("127.0.0.1", 9))
    with pytest.raises(airlock.ScopeStateError, match=r"NetSender.send\(\) .* tick is closed"):
        sender.send({"late": 1})
    with pytest.raises(airlock.ScopeStateError, match=r"request_redraw\(\) .* create a new"):
        request_redraw()
    with pytest.raises(airlock.ScopeStateError, match=r"play_sound\(\)"):
        play_sound(tone(440, 10))
    assert loop.tick.pending == 0
    sender.close()
    new_loop = GameLoop(screen, fps=None)  # a new loop takes requests again (it is held by
    request_redraw()  # weak reference: an unreferenced loop may be collected at any moment)
    assert new_loop.tick.pending == 1


def test_a_receiver_can_be_a_task_of_an_asyncio_program(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    import asyncio

    receiver, sender = peer

    async def main() -> dict[str, Any]:
        waiting = asyncio.create_task(receiver.receive())
        await asyncio.sleep(0)
        with airlock.tick_scope():
            sender.send({"hello": 1})
        return await asyncio.wait_for(waiting, timeout=5.0)

    assert asyncio.run(main())["payloads"] == [{"hello": 1}]
    assert receiver.payloads == [{"hello": 1}]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's IP_OPTIONS limit")
def test_a_datagram_the_kernel_refuses_as_too_long_is_split_and_a_lone_one_reported(
    peer: tuple[LoopbackReceiver, NetSender],
) -> None:
    import socket

    receiver, sender = peer
    sender.max_datagram = MAX_DATAGRAM
    # 40 bytes of IP options (no-ops): the kernel now refuses datagrams over 65,467 bytes
    # (EMSGSIZE), below max_datagram, as a platform with a lower UDP limit does
    sender._socket.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01" * 40)
    tick = airlock.tick_scope(errors="continue")
    with tick:
        sender.send("a" * 32_730)
        sender.send("b" * 32_730)  # together 65,4xx bytes: refused, then sent one by one
    with tick:
        sender.send({"id": 1})
        sender.send("c" * 65_470)  # alone over the kernel's limit, under max_datagram
        sender.send({"id": 3})
    while len(receiver.payloads) < 4 and receiver.drain(timeout=2.0):
        pass
    assert [p if isinstance(p, dict) else p[0] for p in receiver.payloads] == [
        "a", "b", {"id": 1}, {"id": 3}]
    (_, error), = tick.stats.failures
    assert isinstance(error, OSError) and "payload #1" in str(error)
    assert "Message too long" in str(error)
