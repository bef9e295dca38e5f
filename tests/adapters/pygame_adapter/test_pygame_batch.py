"""GameLoop helper requests are the core's batch effects (issues 15 and 22).

Each ``play``/``request``/``send`` is one ``airlock.enqueue`` of its helper's ``airlock.batch``
into the frame's tick: the tick coalesces (keys), filters, orders (phases), folds (one call per
batch) and counts them. So a GameLoop frame runs its effects in the order a plain tick with the
same settings runs them, and its record is ``loop.tick.stats`` (one ledger). Where it matters a
test runs the same frames twice, with and without a frame budget: what the game sees — sounds,
presents, datagrams, policies, frame records — must be the same.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pygame
import pytest

import airlock
from airlock_pygame import (
    COUNTS,
    NETWORK,
    PHASE_ORDER,
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


class RecordingSender(NetSender):
    """A ``NetSender`` that notes each ``transmit`` call (the batch handler) in ``calls``."""

    def __init__(self, address: tuple[str, int], calls: list[Any]) -> None:
        super().__init__(address)
        self.calls = calls

    def transmit(self, payloads: list[Any]) -> None:
        self.calls.append(("transmit", list(payloads)))
        super().transmit(payloads)


@dataclass
class Kit:
    """The helpers a game uses, and what each frame sent."""

    redraw: Redraw
    sounds: SoundPlayer
    net: RecordingSender
    receiver: LoopbackReceiver
    beeps: list[pygame.mixer.Sound]
    calls: list[Any] = field(default_factory=list)

    def loop(self, update: Callable[[float], None], *, budget: bool = False) -> GameLoop:
        options: dict[str, Any] = {"max_per_frame": 100_000} if budget else {}
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
    calls: list[Any] = []
    with LoopbackReceiver() as receiver:
        sender = RecordingSender(receiver.address, calls)
        yield Kit(Redraw(), SoundPlayer(frame_ms=1000 / 60), sender, receiver,
                  [tone(300 + 100 * i, 20) for i in range(3)], calls)
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


def _counts(stats: Any) -> dict[str, int]:
    """The counts a frame record shares with ``FlushStats``."""
    return {name: getattr(stats, name) for name in COUNTS if name != "pending"}


# -- one ledger, one order -------------------------------------------------------------------


def test_every_request_is_one_intent_of_the_tick_and_the_record_is_its_stats(kit: Kit) -> None:
    loop = kit.loop(_busy_frame(kit))
    loop.run(frames=3)
    record, stats = loop.history[-1], loop.tick.stats
    # 10 plays (3 sounds), 20 sends (1 key sent 10 times), 6 rects: each one intent
    assert (stats.enqueued, stats.coalesced, stats.dispatched) == (36, 7 + 9, 3)
    assert stats.batched == (3 - 1) + (11 - 1) + (6 - 1)
    assert _counts(record) == _counts(stats)
    assert kit.sounds.totals.requested == 9 and kit.redraw.presents == 3
    assert kit.redraw.last == [pygame.Rect(0, 10, 50, 10), pygame.Rect(300, 200, 4, 4)]
    payloads = kit.datagrams(3)[-1]
    assert payloads == [*({"shot": i} for i in range(10)), {"pos": 9}]


def test_the_tick_stats_and_the_history_agree_on_every_frame(kit: Kit) -> None:
    """Keys, ui requests, a policy switched on and off, a failing send, a discarded frame."""
    a, b, _ = kit.beeps
    seen: list[tuple[FrameRecord, dict[str, int], int]] = []

    def update(dt: float) -> None:
        frame = loop.tick.frame
        kit.sounds.play(a)
        kit.sounds.play(a, ui=True)
        kit.sounds.play(b)
        kit.net.send({"pos": frame}, key="ship")
        kit.net.send({"pos": -frame}, key="ship", ui=True)
        kit.net.send({"frame": frame})
        kit.redraw.request((0, 0, 4, 4))
        if frame == 1:
            loop.policies.switch(Pause, True)
        if frame == 2:
            loop.policies.switch(Pause, False)
            kit.net.send({"bad": object()})  # left out at flush: the send effect fails
        if frame == 4:
            raise RuntimeError("the frame fails: its effects are discarded")

    def after(record: FrameRecord) -> None:
        seen.append((record, _counts(loop.tick.stats), loop.tick.pending))

    loop = kit.loop(update)
    kit.net.send({"setup": True})  # no frame open: posted to the loop's tick
    assert loop.tick.pending == 1
    loop.run(frames=6, after_frame=after)
    assert [record.frame for record, _, _ in seen] == list(range(6))
    for record, stats, pending in seen:
        if record.error is None:
            assert _counts(record) == stats, record
        assert record.pending == pending
    assert sum(record.dropped for record, _, _ in seen) > 0  # the paused frame dropped some
    assert seen[2][0].failed == 1 and seen[4][0].error is not None


def test_a_frame_runs_its_effects_in_the_order_a_plain_tick_with_its_settings_does(
    screen: pygame.Surface,
) -> None:
    """Issue 22: ``send(1); enqueue(marker); send(2)`` in a frame. The core folds the batch
    where its LAST entry stood, so the marker (same phase) runs first, then ``transmit([1, 2])``,
    in a GameLoop frame as in a plain ``tick_scope`` configured as the GameLoop configures its
    tick (its default policy, ``order_by=PHASE_ORDER``, ``errors="continue"``)."""

    def frame(net: NetSender, calls: list[Any]) -> None:
        @airlock.phase(NETWORK)
        def marker() -> None:
            calls.append(("marker",))

        net.send(1)
        airlock.enqueue(marker)
        net.send(2)

    runs: list[tuple[list[Any], dict[str, int]]] = []
    with LoopbackReceiver() as receiver:
        # a GameLoop frame, with no surface: no present of its own, only the frame's effects
        calls: list[Any] = []
        net = RecordingSender(receiver.address, calls)
        loop = GameLoop(None, update=lambda dt: frame(net, calls), fps=None)
        loop.run(frames=1)
        assert _counts(loop.history[-1]) == _counts(loop.tick.stats)
        runs.append((calls, _counts(loop.tick.stats)))
        net.close()

        calls = []
        net = RecordingSender(receiver.address, calls)
        plain = airlock.tick_scope(airlock.AllowAll(), order_by=PHASE_ORDER, errors="continue")
        with plain:
            frame(net, calls)
        runs.append((calls, _counts(plain.stats)))
        net.close()
        plain.close()

    (in_loop, loop_stats), (in_plain, plain_stats) = runs
    assert in_loop == in_plain == [("marker",), ("transmit", [1, 2])]
    assert loop_stats == plain_stats
    assert (loop_stats["enqueued"], loop_stats["dispatched"], loop_stats["batched"]) == (3, 2, 1)


def test_frames_with_a_budget_send_and_record_what_frames_without_one_do(kit: Kit) -> None:
    unbudgeted = kit.loop(_busy_frame(kit))
    unbudgeted.run(frames=2)
    first = (kit.datagrams(2), kit.sounds.totals.played, kit.redraw.last)
    budgeted = kit.loop(_busy_frame(kit), budget=True)
    budgeted.run(frames=2)
    assert (kit.datagrams(2), kit.sounds.totals.played - first[1], kit.redraw.last) == first
    assert _records(unbudgeted) == _records(budgeted)
    assert budgeted.tick.stats.enqueued == unbudgeted.tick.stats.enqueued == 36


# -- policies judge each request --------------------------------------------------------------


@pytest.mark.parametrize("budget", [False, True])
def test_mute_drops_every_request_of_the_frame_and_counts_them(kit: Kit, budget: bool) -> None:
    def update(dt: float) -> None:
        for beep in kit.beeps * 4:
            kit.sounds.play(beep)

    loop = kit.loop(update, budget=budget)
    loop.policies.switch(Mute, True)
    loop.run(frames=1)
    record = loop.history[-1]
    assert (record.enqueued, record.coalesced, record.dropped) == (13, 9, 3)
    assert kit.sounds.take_report().requested == 0
    loop.policies.switch(Mute, False)
    loop.run(frames=1)  # nothing of the muted frame is left: the next frame plays again
    assert kit.sounds.take_report().requested == 3


@pytest.mark.parametrize("budget", [False, True])
def test_pause_keeps_ui_requests_and_a_sounds_last_request_decides(kit: Kit,
                                                                   budget: bool) -> None:
    a, b, c = kit.beeps

    def update(dt: float) -> None:
        kit.sounds.play(a)
        kit.sounds.play(a, ui=True)  # a: the last request is ui -> kept
        kit.sounds.play(b, ui=True)
        kit.sounds.play(b)  # b: the last request is gameplay -> dropped
        kit.sounds.play(c)
        kit.net.send({"menu": 1}, ui=True)
        kit.net.send({"telemetry": 1})

    loop = kit.loop(update, budget=budget)
    loop.policies.switch(Pause, True)
    loop.run(frames=1)
    assert kit.sounds.take_report().requested == 1  # a
    assert kit.datagrams(1) == [[{"menu": 1}]]
    record = loop.history[-1]
    assert (record.enqueued, record.coalesced, record.dropped) == (8, 2, 3)  # b, c, telemetry


def test_ui_and_gameplay_requests_of_a_frame_reach_one_call_when_nothing_drops_them(
    kit: Kit,
) -> None:
    def update(dt: float) -> None:
        kit.net.send({"menu": 1}, ui=True)
        kit.net.send({"telemetry": 1})

    kit.loop(update).run(frames=1)
    assert kit.calls == [("transmit", [{"menu": 1}, {"telemetry": 1}])]


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
    flip = pygame.display.flip

    def flipped() -> None:
        kit.calls.append(("present", kit.sounds.totals.requested))
        flip()

    monkeypatch.setattr(pygame.display, "flip", flipped)

    def update(dt: float) -> None:
        kit.net.send({"first": True})
        kit.sounds.play(kit.beeps[0])
        kit.redraw.request()

    kit.loop(update).run(frames=1)
    assert kit.calls == [("present", 0), ("transmit", [{"first": True}])]
    assert kit.sounds.totals.requested == 1


def test_requests_in_a_policy_block_or_nested_scope_follow_the_core(kit: Kit) -> None:
    a, b, c = kit.beeps

    def update(dt: float) -> None:
        kit.sounds.play(a)
        with airlock.policy(Mute()):
            kit.sounds.play(b)  # this one request is muted, not the frame's sounds
        with airlock.scope():
            kit.sounds.play(c)  # plays when this scope ends

    loop = kit.loop(update)
    loop.run(frames=1)
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


def test_with_loop_frames_batch_and_count_each_request(kit: Kit) -> None:
    loop = kit.loop(lambda dt: None)
    with loop:
        for _ in range(4):
            kit.redraw.request((0, 0, 2, 2))
    assert loop.tick.stats.enqueued == loop.history[-1].enqueued == 4
    assert loop.history[-1].batched == 3 and kit.redraw.presents == 1
    assert kit.redraw.last == [pygame.Rect(0, 0, 2, 2)]


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


def test_a_switched_policy_applies_at_once_even_to_a_frame_of_the_tick_alone(kit: Kit) -> None:
    loop = kit.loop(lambda dt: None)
    loop.policies.switch(Mute, True)
    with loop.tick:  # the tick used directly, not through the loop
        kit.sounds.play(kit.beeps[0])
    assert loop.tick.stats.dropped == 1 and kit.sounds.take_report().requested == 0


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


# -- threads ----------------------------------------------------------------------------------


def test_another_thread_carrying_the_tick_sends_in_the_frames_datagram(kit: Kit) -> None:
    def worker() -> None:
        token = airlock.set_current_scope(loop.tick)
        try:
            kit.net.send({"worker": 1})  # the core takes appends from any thread
        finally:
            airlock.reset_current_scope(token)

    loop = kit.loop(lambda dt: None)
    with loop:
        kit.net.send({"main": 1})
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        kit.net.send({"main": 2})
    assert kit.datagrams(1) == [[{"main": 1}, {"worker": 1}, {"main": 2}]]
    assert loop.history[-1].enqueued == loop.tick.stats.enqueued == 3


def test_a_thread_running_a_copy_of_the_frames_context_sends_in_the_frames_datagram(
    kit: Kit,
) -> None:
    loop = kit.loop(lambda dt: None)
    with loop:
        kit.net.send({"main": 1})
        # asyncio.to_thread and copy_context().run carry the frame's context to the worker
        copied = contextvars.copy_context()
        thread = threading.Thread(target=copied.run, args=(kit.net.send, {"worker": 1}))
        thread.start()
        thread.join()
        kit.net.send({"main": 2})
    assert kit.datagrams(1) == [[{"main": 1}, {"worker": 1}, {"main": 2}]]
    assert loop.history[-1].enqueued == loop.tick.stats.enqueued == 3


# -- rects ------------------------------------------------------------------------------------


def test_a_requested_rect_is_the_requests_copy_and_merging_leaves_the_sprites_alone(
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
