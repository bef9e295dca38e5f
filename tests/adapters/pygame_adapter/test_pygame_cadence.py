"""Held tasks in a GameLoop: ``@airlock.throttle`` / ``@airlock.debounce`` timed by the loop's
game time (``fps=None``: frames times ``frame_ms``, so every run is the same), released with
``loop.tick.release()``, in the frame records and the ledger, discarded by ``close()``, and run
in the loop's phase order (redraw, sound, network, then effects with no phase)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pygame
import pytest

import airlock
from airlock_pygame import (
    FrameRecord,
    GameLoop,
    LoopbackReceiver,
    NetSender,
    Redraw,
    SoundPlayer,
    tone,
)

#: 64 frames per second of game time: ``frame_ms`` is 15.625, and every frame's game time
#: (frame * 15.625 / 1000) is exact in binary floating point
DT = 1 / 64


def autosaving_loop(
    screen: pygame.Surface, seconds: float, dt: float, **options: Any
) -> tuple[GameLoop, airlock.Cadence, list[tuple[int, dict[str, int]]]]:
    """A GameLoop whose update asks for a throttled autosave of the world every frame, the
    autosave, and the saves: ``(frame the save ran in, state saved)``."""
    saves: list[tuple[int, dict[str, int]]] = []
    world = {"gold": 0}

    @airlock.throttle(seconds)
    def autosave(state: dict[str, int]) -> None:
        saves.append((loop.tick.frame, state))

    def update(dt: float) -> None:
        world["gold"] += 1
        airlock.enqueue(autosave, {"asked_in": loop.tick.frame, "gold": world["gold"]})

    loop = GameLoop(screen, update=update, fps=None, dt=dt, **options)
    return loop, autosave, saves


# -- throttle: a leading save, then one per second of game time -------------------------------


def test_a_throttled_autosave_runs_at_frame_0_then_once_per_second_of_game_time(
    screen: pygame.Surface,
) -> None:
    loop, _, saves = autosaving_loop(screen, 1.0, DT)
    assert loop.frame_ms == 15.625
    assert loop.game_time() == 0.0
    assert loop.run(frames=200) == 200
    assert saves == [
        (0, {"asked_in": 0, "gold": 1}),  # leading: at the end of the frame that asked
        # trailing: the latest state asked for before the second was over
        (64, {"asked_in": 63, "gold": 64}),
        (128, {"asked_in": 127, "gold": 128}),
        (192, {"asked_in": 191, "gold": 192}),
    ]
    # frame 192's own request waits for the next second; frames 193..199 replaced it
    assert loop.tick.held == 1 and loop.tick.next_due == 4.0
    assert loop.game_time() == 200 * 15.625 / 1000


def test_a_one_second_throttle_at_60_frames_per_second_saves_every_60_frames(
    screen: pygame.Surface,
) -> None:
    """``dt=1/60`` (the default): one save per 60 frames of game time, with no drift.

    Fails today: game time is ``frame * frame_ms / 1000`` in floats (frame 180 is 3.0) while
    the next due time is the last run's float time plus 1.0 (2.0000000000000004 + 1.0 =
    3.0000000000000004), so the save due at frame 180 runs at 181, and each late run restarts
    the interval from there: 0, 60, 120, 181, 242, ..."""
    loop, _, saves = autosaving_loop(screen, 1.0, 1 / 60)
    assert loop.frame_ms == pytest.approx(1000 / 60)
    loop.run(frames=250)
    assert [frame for frame, _ in saves] == [0, 60, 120, 180, 240]
    assert [state["asked_in"] for _, state in saves] == [0, 59, 119, 179, 239]


# -- debounce per key: each entity's sync waits for that entity to stop -----------------------


def test_a_debounced_network_sync_waits_for_each_entity_on_its_own(
    screen: pygame.Surface,
) -> None:
    with LoopbackReceiver() as receiver:
        net = NetSender(receiver.address)

        @airlock.debounce(0.25)  # 16 frames of game time
        def sync(entity_id: int, x: int) -> None:
            # runs in a frame's flush: the send joins the next frame's datagram
            net.send({"id": entity_id, "x": x, "synced_in": loop.tick.frame}, key=entity_id)

        xs = {1: 0, 2: 0}
        moves_until = {1: 10, 2: 30}  # entity 1 stops after frame 9, entity 2 after frame 29

        def update(dt: float) -> None:
            for entity_id, until in moves_until.items():
                if loop.tick.frame < until:
                    xs[entity_id] += entity_id
                    airlock.enqueue(sync, entity_id, xs[entity_id], _key=entity_id)

        loop = GameLoop(screen, update=update, fps=None, dt=DT)
        held: list[int] = []
        sent_in: list[int] = []

        def after_frame(record: FrameRecord) -> None:
            assert record.error is None and loop.tick.stats.balance_error() is None
            held.append(loop.tick.held)
            if net.take_report().datagrams:
                sent_in.append(record.frame)

        loop.run(frames=60, after_frame=after_frame)
        while len(receiver.payloads) < 2 and receiver.drain(timeout=2.0):
            pass
        net.close()
    # entity 2 kept moving until frame 29: that did not hold entity 1's sync back (16 frames
    # after its last move, frame 9), nor did entity 1's replace entity 2's
    assert receiver.payloads == [
        {"id": 1, "x": 10, "synced_in": 25},
        {"id": 2, "x": 60, "synced_in": 45},
    ]
    assert sent_in == [26, 46]
    assert held == [2] * 25 + [1] * 20 + [0] * 15
    # every move but each key's last was replaced by a later one: 9 + 29 coalesced
    assert sum(record.coalesced for record in loop.history) == 9 + 29


# -- release: "save and quit", a quicksave key ------------------------------------------------


@pytest.mark.parametrize("on_quit", ["skip", "finish"])
def test_release_on_quit_runs_the_held_save_at_the_end_of_the_quit_frame(
    screen: pygame.Surface, on_quit: Literal["skip", "finish"], caplog: pytest.LogCaptureFixture
) -> None:
    released: list[int] = []

    def on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:  # "save and quit"
            released.append(loop.tick.release(autosave))

    loop, autosave, saves = autosaving_loop(screen, 1.0, DT, on_event=on_event, on_quit=on_quit)
    loop.run(frames=10)
    assert saves == [(0, {"asked_in": 0, "gold": 1})] and loop.tick.held == 1
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run(frames=100) == 1
    assert released == [1]
    record = loop.history[-1]
    assert record.frame == 10 and loop.tick.stats.balance_error() is None
    if on_quit == "skip":  # no update in the quit frame: the held save (frame 9's state) ran
        assert saves[-1] == (10, {"asked_in": 9, "gold": 10})
    else:  # the quit frame's update asked again after the release: its latest state ran
        assert saves[-1] == (10, {"asked_in": 10, "gold": 11})
    # either way nothing is left waiting for close() to discard
    assert record.pending == 0
    loop.tick.close()
    assert loop.tick.stats.discarded == 0 and "discarded" not in caplog.text
    assert len(saves) == 2 and loop.tick.stats.balance_error() is None


def test_a_quicksave_key_releases_the_save_and_restarts_the_interval_from_it(
    screen: pygame.Surface,
) -> None:
    def on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_F5:
            loop.tick.release(autosave)

    loop, autosave, saves = autosaving_loop(screen, 1.0, DT, on_event=on_event)
    loop.run(frames=10)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F5, mod=0))
    loop.run(frames=1)
    # the quicksave frame's own request (its latest state) is the one that ran
    assert saves[-1] == (10, {"asked_in": 10, "gold": 11})
    assert loop.tick.held == 0 and loop.tick.next_due is None  # nothing left waiting
    loop.run(frames=1)
    assert loop.tick.next_due == 10 / 64 + 1.0  # a second after the quicksave, not frame 64
    loop.run(frames=69)
    assert [frame for frame, _ in saves] == [0, 10, 74]
    assert saves[-1] == (74, {"asked_in": 73, "gold": 74})


# -- the frame records and the ledger ---------------------------------------------------------


def test_frame_records_count_held_effects_in_pending_and_every_frame_balances(
    screen: pygame.Surface,
) -> None:
    ran: list[tuple[str, int, int]] = []

    @airlock.throttle(0.25)  # 16 frames
    def save(n: int) -> None:
        ran.append(("save", n, loop.tick.frame))

    @airlock.debounce(0.125)  # 8 frames
    def lookup(n: int) -> None:
        ran.append(("lookup", n, loop.tick.frame))

    def update(dt: float) -> None:
        frame = loop.tick.frame
        if frame < 6:
            airlock.enqueue(save, frame)
        if frame < 3:
            airlock.enqueue(lookup, frame, _key="search box")

    loop = GameLoop(screen, update=update, fps=None, dt=DT)
    seen: list[tuple[int, int, int, int]] = []

    def after_frame(record: FrameRecord) -> None:
        stats = loop.tick.stats
        assert stats.balance_error() is None, (record.frame, stats)
        assert record.pending == loop.tick.pending == loop.tick.held == stats.held
        assert record.carried == stats.carried == stats.held  # no budget: only held ones
        seen.append((record.pending, record.coalesced, stats.carried_in, stats.dispatched))

    loop.run(frames=20, after_frame=after_frame)
    assert ran == [("save", 0, 0), ("lookup", 2, 10), ("save", 5, 16)]
    pending = [p for p, _, _, _ in seen]
    # frame 0: the save ran (leading), the lookup waits; frames 1-9: both wait; the lookup
    # runs in frame 10 (8 frames after its last request), the save in frame 16
    assert pending == [1] + [2] * 9 + [1] * 6 + [0] * 4
    coalesced = [c for _, c, _, _ in seen]
    assert coalesced == [0, 1, 2, 1, 1, 1] + [0] * 14  # each replaced waiting request
    carried_in = [c for _, _, c, _ in seen]
    assert carried_in == [0, *pending[:-1]]  # what waited after a frame came into the next
    dispatched = [d for _, _, _, d in seen]
    # the frame's flip, plus the leading save (frame 0) and the released ones (10, 16)
    assert dispatched == [2] + [1] * 9 + [2] + [1] * 5 + [2] + [1] * 3


def test_closing_the_loops_tick_discards_a_held_effect_counted_in_its_last_frame(
    screen: pygame.Surface, caplog: pytest.LogCaptureFixture
) -> None:
    synced: list[str] = []

    @airlock.debounce(5.0)
    def sync(state: str) -> None:
        synced.append(state)

    def update(dt: float) -> None:
        airlock.enqueue(sync, f"frame {loop.tick.frame}")

    loop = GameLoop(screen, update=update, fps=None, dt=DT)
    loop.run(frames=3)
    assert loop.tick.held == 1 and loop.history[-1].pending == 1
    assert sum(record.coalesced for record in loop.history) == 2
    loop.tick.close()
    stats = loop.tick.stats
    assert synced == []
    assert (stats.carried_in, stats.discarded, stats.held, stats.pending) == (1, 1, 0, 0)
    assert stats.balance_error() is None
    assert loop.is_closed and loop.tick.held == 0 and loop.tick.next_due is None
    assert "1 intent(s) discarded" in caplog.text


# -- phases apply to held effects -------------------------------------------------------------


def phased_sync(inside: bool, log: Callable[[int], None]) -> airlock.Cadence:
    """A throttled network-phase sync, ``@airlock.phase`` below or above the throttle."""

    def sync(n: int) -> None:
        log(n)

    if inside:
        return airlock.throttle(1.0)(airlock.phase("network")(sync))
    return airlock.phase("network")(airlock.throttle(1.0)(sync))


@pytest.mark.parametrize("inside", [True, False], ids=["phase-below", "phase-above"])
def test_a_throttled_network_phase_effect_runs_after_redraw_and_sound_before_later_sends(
    screen: pygame.Surface, inside: bool
) -> None:
    """The loop orders a frame by phase: redraw (its flip), sound, network, then effects with
    no phase; ties keep their order, and an effect released in the frame comes after the
    frame's own (it runs with the frame's latest request)."""
    order: list[tuple[Any, ...]] = []
    redraw = Redraw()
    sounds = SoundPlayer(frame_ms=1000 * DT)
    beep = tone(440, 20)

    with LoopbackReceiver() as receiver:
        net = NetSender(receiver.address)

        def seen() -> tuple[int, int, int]:
            """(presents, sounds requested, datagrams) so far: which phases have run."""
            return redraw.presents, sounds.totals.requested, net.totals.datagrams

        sync = phased_sync(inside, lambda n: order.append(("sync", n, *seen())))

        def unphased() -> None:
            order.append(("unphased", *seen()))

        def update(dt: float) -> None:
            frame = loop.tick.frame
            airlock.enqueue(unphased)
            airlock.enqueue(sync, frame)  # frame 0: a leading run; then held
            net.send({"frame": frame})
            sounds.play(beep)
            if frame == 3:
                assert loop.tick.release(sync) == 1

        loop = GameLoop(screen, update=update, fps=None, dt=DT, redraw=redraw)
        loop.run(frames=4)
        net.close()
    assert sync.airlock_phase == "network"
    assert order == [
        # frame 0: flip, sound, then the leading sync before the frame's datagram (both
        # network: enqueue order), then the unphased effect
        ("sync", 0, 1, 1, 0),
        ("unphased", 1, 1, 1),
        ("unphased", 2, 2, 2),
        ("unphased", 3, 3, 3),
        # frame 3: released in the frame, the sync runs with the frame's own request (3),
        # after the frame's datagram (released at the hold stage, behind the frame's entries)
        ("sync", 3, 4, 4, 4),
        ("unphased", 4, 4, 4),
    ]
    assert loop.tick.held == 0  # frame 2's request was superseded by frame 3's, which ran
