"""A GameLoop frame collects each helper's requests into ONE effect (issue 15).

Every test here runs the same frames twice where it matters: in a collecting GameLoop, and in
one whose tick cannot collect (a budget makes every request its own keyed/batched enqueue);
what the game sees — sounds, presents, datagrams, policies, frame records — must be the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pygame
import pytest

import airlock
from airlock_pygame import (
    FrameRecord,
    GameLoop,
    LoopbackReceiver,
    Mute,
    NetSender,
    Pause,
    Redraw,
    SoundPlayer,
    tone,
)
from airlock_pygame._collect import ledger_for


@dataclass
class Kit:
    """The helpers a game uses, and what each frame sent."""

    redraw: Redraw
    sounds: SoundPlayer
    net: NetSender
    receiver: LoopbackReceiver
    beeps: list[pygame.mixer.Sound]
    presents: list[list[pygame.Rect] | None] = field(default_factory=list)

    def loop(self, update: Callable[[float], None], *, collect: bool = True) -> GameLoop:
        options: dict[str, Any] = {} if collect else {"max_per_frame": 100_000}  # one by one
        return GameLoop(pygame.display.get_surface(), update=update, fps=None,
                        present="dirty", redraw=self.redraw, **options)

    def datagrams(self, count: int) -> list[list[object]]:
        """The payloads of the next ``count`` datagrams (fewer if no more arrive)."""
        got: list[dict[str, list[object]]] = []
        while len(got) < count:
            arrived = self.receiver.drain(timeout=2.0)
            if not arrived:
                break
            got += arrived
        return [message["payloads"] for message in got]


@pytest.fixture
def kit(screen: pygame.Surface) -> Iterator[Kit]:
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        yield Kit(Redraw(), SoundPlayer(frame_ms=1000 / 60), sender, receiver,
                  [tone(300 + 100 * i, 20) for i in range(3)])
        sender.close()


def _busy_frame(kit: Kit) -> Callable[[float], None]:
    """Many requests of every kind, repeated and keyed, in the reverse of phase order."""

    def update(dt: float) -> None:
        for i in range(10):
            kit.sounds.play(kit.beeps[i % 3], priority=i % 2)
            kit.net.send({"shot": i})
            kit.net.send({"pos": i}, key="ship")
        for i in range(5):
            kit.redraw.request((10 * i, 10, 10, 10))  # touching: one union
        kit.redraw.request(pygame.Rect(300, 200, 4, 4))

    return update


def _records(loop: GameLoop) -> list[FrameRecord]:
    return [replace(record, flush_us=0.0) for record in loop.history]


def test_a_frame_is_one_effect_per_helper_and_its_record_counts_requests(kit: Kit) -> None:
    loop = kit.loop(_busy_frame(kit))
    loop.run(frames=3)
    assert loop.tick.stats.enqueued == 3  # the frame's sounds, its sends and its present
    record = loop.history[-1]
    # 10 plays (3 sounds), 20 sends (1 key sent 10 times), 6 rects
    assert (record.enqueued, record.coalesced, record.dispatched) == (36, 7 + 9, 3)
    assert record.batched == (3 - 1) + (11 - 1) + (6 - 1)
    assert kit.sounds.totals.requested == 9 and kit.redraw.presents == 3
    assert kit.redraw.last == [pygame.Rect(0, 10, 50, 10), pygame.Rect(300, 200, 4, 4)]
    payloads = kit.datagrams(3)[-1]
    assert payloads == [*({"shot": i} for i in range(10)), {"pos": 9}]


def test_collected_frames_send_and_record_what_one_by_one_frames_do(kit: Kit) -> None:
    collected = kit.loop(_busy_frame(kit))
    collected.run(frames=2)
    first = (kit.datagrams(2), kit.sounds.totals.played, kit.redraw.last)
    one_by_one = kit.loop(_busy_frame(kit), collect=False)
    one_by_one.run(frames=2)
    assert (kit.datagrams(2), kit.sounds.totals.played - first[1], kit.redraw.last) == first
    assert _records(collected) == _records(one_by_one)
    assert one_by_one.tick.stats.enqueued == 36  # there, the tick itself saw every request


def test_mute_drops_every_request_of_the_frame_and_counts_them(kit: Kit) -> None:
    def update(dt: float) -> None:
        for beep in kit.beeps * 4:
            kit.sounds.play(beep)

    for collect in (True, False):
        loop = kit.loop(update, collect=collect)
        loop.policies.switch(Mute, True)
        loop.run(frames=1)
        record = loop.history[-1]
        assert (record.enqueued, record.coalesced, record.dropped) == (13, 9, 3), collect
        assert kit.sounds.take_report().requested == 0
        loop.policies.switch(Mute, False)
        loop.run(frames=1)  # the dropped collection is gone: the next frame plays again
        assert kit.sounds.take_report().requested == 3


@pytest.mark.parametrize("collect", [True, False])
def test_pause_keeps_ui_requests_and_a_sounds_last_request_decides(kit: Kit,
                                                                   collect: bool) -> None:
    a, b, c = kit.beeps

    def update(dt: float) -> None:
        kit.sounds.play(a)
        kit.sounds.play(a, ui=True)  # a: the last request is ui -> kept
        kit.sounds.play(b, ui=True)
        kit.sounds.play(b)  # b: the last request is gameplay -> dropped
        kit.sounds.play(c)
        kit.net.send({"menu": 1}, ui=True)
        kit.net.send({"telemetry": 1})

    loop = kit.loop(update, collect=collect)
    loop.policies.switch(Pause, True)
    loop.run(frames=1)
    assert kit.sounds.take_report().requested == 1  # a
    assert kit.datagrams(1) == [[{"menu": 1}]]
    record = loop.history[-1]
    assert (record.enqueued, record.coalesced, record.dropped) == (8, 2, 3)  # b, c, telemetry


def test_the_cap_counts_ui_and_gameplay_sounds_of_a_frame_together(kit: Kit) -> None:
    sounds = SoundPlayer(cap=2, frame_ms=1000 / 60)

    def update(dt: float) -> None:
        for beep in kit.beeps:
            sounds.play(beep)
        sounds.play(tone(1000, 20), ui=True)

    kit.loop(update).run(frames=1)
    report = sounds.take_report()
    assert (report.requested, report.played, report.capped) == (4, 2, 2)


def test_effects_run_in_phase_order_whatever_order_they_were_requested_in(
    kit: Kit, monkeypatch: pytest.MonkeyPatch,
) -> None:
    order: list[str] = []
    flip, transmit = pygame.display.flip, kit.net.transmit

    def flipped() -> None:
        order.append(f"present, {kit.sounds.totals.requested} sound")
        flip()

    def sent(payloads: list[Any]) -> None:
        order.append(f"send, {kit.sounds.totals.requested} sound")
        transmit(payloads)

    monkeypatch.setattr(pygame.display, "flip", flipped)
    monkeypatch.setattr(kit.net, "transmit", sent)

    def update(dt: float) -> None:
        kit.net.send({"first": True})
        kit.sounds.play(kit.beeps[0])
        kit.redraw.request()

    kit.loop(update).run(frames=1)
    assert order == ["present, 0 sound", "send, 1 sound"]


def test_requests_in_a_policy_block_or_nested_scope_are_enqueued_one_by_one(kit: Kit) -> None:
    a, b, c = kit.beeps
    seen: list[object] = []

    def update(dt: float) -> None:
        kit.sounds.play(a)
        with airlock.policy(Mute()):
            kit.sounds.play(b)  # this one request is muted, not the frame's sounds
        with airlock.scope():
            kit.sounds.play(c)  # plays when this scope ends
            seen.append(ledger_for(airlock.get_current_scope()))

    loop = kit.loop(update)
    loop.run(frames=1)
    assert seen == [None]
    assert kit.sounds.totals.requested == 2  # a and c
    assert loop.history[-1].dropped == 1


def test_requests_made_while_the_frame_flushes_are_not_lost(kit: Kit) -> None:
    def update(dt: float) -> None:
        if loop.tick.frame < 2:
            airlock.enqueue(lambda: kit.net.send({"sent by frame": loop.tick.frame}))

    loop = kit.loop(update)
    loop.run(frames=3)  # a send made by a frame's flush leaves with the next frame
    payloads = [p for datagram in kit.datagrams(2) for p in datagram]
    assert payloads == [{"sent by frame": 0}, {"sent by frame": 1}]


def test_with_loop_frames_collect_too(kit: Kit) -> None:
    loop = kit.loop(lambda dt: None)
    with loop:
        for _ in range(4):
            kit.redraw.request((0, 0, 2, 2))
    assert loop.tick.stats.enqueued == 1 and loop.history[-1].enqueued == 4
    assert kit.redraw.last == [pygame.Rect(0, 0, 2, 2)]


def test_only_the_frames_own_thread_begins_collections(kit: Kit) -> None:
    import threading

    loop = kit.loop(lambda dt: None)
    seen: list[object] = []
    with loop:
        assert ledger_for(loop.tick) is not None
        worker = threading.Thread(target=lambda: seen.append(ledger_for(loop.tick)))
        worker.start()
        worker.join()
    assert seen == [None]
    assert ledger_for(loop.tick) is None  # and none once the frame is closed


def test_policies_switched_on_during_a_frame_filter_that_frame(kit: Kit) -> None:
    def update(dt: float) -> None:
        kit.sounds.play(kit.beeps[0])
        if loop.tick.frame == 1:
            loop.policies.switch(Mute, True)  # e.g. M pressed: this frame is muted already

    loop = kit.loop(update)
    loop.run(frames=1)
    assert loop.tick.policy is not loop.policies  # no game policy on: no policy stage
    loop.run(frames=2)
    assert [r.dropped for r in loop.history] == [0, 1, 1]
    assert loop.tick.policy is loop.policies
    loop.policies.switch(Mute, False)
    loop.run(frames=1)
    assert loop.history[-1].dropped == 0 and loop.tick.policy is not loop.policies


def test_a_policy_the_game_sets_on_the_tick_itself_is_kept(kit: Kit) -> None:
    loop = kit.loop(lambda dt: kit.sounds.play(kit.beeps[0]))
    loop.tick.policy = Mute()
    loop.run(frames=2)
    assert [r.dropped for r in loop.history] == [1, 1]
    assert isinstance(loop.tick.policy, Mute)


def test_another_thread_carrying_the_tick_never_joins_the_frames_collection(kit: Kit) -> None:
    import threading

    def worker() -> None:
        token = airlock.set_current_scope(loop.tick)
        try:
            kit.net.send({"worker": 1})  # its own keyed/batched enqueue: the core takes it
        finally:
            airlock.reset_current_scope(token)

    loop = kit.loop(lambda dt: None)
    with loop:
        kit.net.send({"main": 1})
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        kit.net.send({"main": 2})
    assert kit.datagrams(2) == [[{"main": 1}, {"main": 2}], [{"worker": 1}]]
    assert loop.history[-1].enqueued == 3 and loop.tick.stats.enqueued == 2


def test_a_collected_rect_is_the_requests_copy_and_merging_leaves_the_sprites_alone(
    kit: Kit,
) -> None:
    sprite, other = pygame.Rect(0, 0, 10, 10), pygame.Rect(5, 5, 10, 10)
    loop = kit.loop(lambda dt: None)
    with loop:
        kit.redraw.request(sprite)
        sprite.move_ip(100, 0)
        kit.redraw.request(other)
    assert kit.redraw.last == [pygame.Rect(0, 0, 15, 15)]
    assert (sprite, other) == (pygame.Rect(100, 0, 10, 10), pygame.Rect(5, 5, 10, 10))


def test_a_switched_policy_applies_at_once_even_to_a_frame_of_the_tick_alone(kit: Kit) -> None:
    loop = kit.loop(lambda dt: None)
    loop.policies.switch(Mute, True)
    with loop.tick:  # the tick used directly, not through the loop
        kit.sounds.play(kit.beeps[0])
    assert loop.tick.stats.dropped == 1 and kit.sounds.take_report().requested == 0


def test_a_thread_running_a_copy_of_the_frames_context_never_joins_its_collection(
    kit: Kit,
) -> None:
    import contextvars
    import threading

    loop = kit.loop(lambda dt: None)
    with loop:
        kit.net.send({"main": 1})  # begins the frame's collection
        # asyncio.to_thread and copy_context().run carry the frame's context to the worker
        copied = contextvars.copy_context()
        thread = threading.Thread(target=copied.run, args=(kit.net.send, {"worker": 1}))
        thread.start()
        thread.join()
        kit.net.send({"main": 2})
    assert kit.datagrams(2) == [[{"main": 1}, {"main": 2}], [{"worker": 1}]]
    assert loop.history[-1].enqueued == 3 and loop.tick.stats.enqueued == 2


def test_a_policy_the_game_sets_on_the_tick_sees_and_judges_every_request(kit: Kit) -> None:
    class NoSecrets(airlock.Policy):
        def __init__(self) -> None:
            self.seen: list[object] = []

        def on_enqueue(self, intent: airlock.Intent) -> None:
            self.seen.append(intent.args)

        def allows(self, intent: airlock.Intent) -> bool:
            return intent.args != ({"secret": 1},)

    def update(dt: float) -> None:
        kit.net.send({"public": 1})
        kit.net.send({"secret": 1})
        kit.net.send({"public": 2})

    loop = kit.loop(update)
    policy = loop.tick.policy = NoSecrets()
    loop.run(frames=1)
    sends = [({"public": 1},), ({"secret": 1},), ({"public": 2},)]
    assert policy.seen == [*sends, (None,)]  # and the frame's own full present
    assert kit.datagrams(1) == [[{"public": 1}, {"public": 2}]]
    record = loop.history[-1]
    assert (record.enqueued, record.dropped) == (4, 1)
