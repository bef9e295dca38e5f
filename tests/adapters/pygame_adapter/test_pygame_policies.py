"""Policies by phase: mute, pause (UI survives), headless server, replay; toggled at run time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pygame
import pytest

import airlock
from airlock_pygame import (
    PHASE_ORDER,
    GameLoop,
    HeadlessServer,
    LoopbackReceiver,
    Mute,
    NetSender,
    Pause,
    PolicySet,
    Redraw,
    Replay,
    SoundPlayer,
    tone,
)


@dataclass
class Game:
    """One frame's worth of every kind of effect, enqueued like game code would."""

    sounds: SoundPlayer
    net: NetSender
    redraw: Redraw
    receiver: LoopbackReceiver
    beep: pygame.mixer.Sound
    click: pygame.mixer.Sound
    log: list[str] = field(default_factory=list)

    def frame(self, policy: airlock.Policy) -> dict[str, int]:
        with airlock.tick_scope(policy, order_by=PHASE_ORDER):
            self.sounds.play(self.beep)                   # gameplay sound
            self.sounds.play(self.click, ui=True)         # UI sound
            self.net.send({"x": 1})                       # gameplay telemetry
            self.redraw.request()                         # present
            airlock.enqueue(self.log.append, "score")     # an unphased gameplay effect
        got = self.receiver.drain(timeout=0.2)
        snd = self.sounds.take_report()
        return {"sounds": snd.played, "datagrams": len(got), "presents": self.redraw.presents,
                "other": len(self.log)}


@pytest.fixture
def game(screen: pygame.Surface) -> Iterator[Game]:
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        yield Game(SoundPlayer(), sender, Redraw(), receiver, tone(440, 50), tone(880, 50))
        sender.close()


def test_no_policy_lets_everything_out(game: Game) -> None:
    assert game.frame(PolicySet()) == {"sounds": 2, "datagrams": 1, "presents": 1, "other": 1}


def test_mute_drops_every_sound(game: Game) -> None:
    assert game.frame(Mute()) == {"sounds": 0, "datagrams": 1, "presents": 1, "other": 1}


def test_pause_keeps_only_ui_effects(game: Game) -> None:
    assert game.frame(Pause()) == {"sounds": 1, "datagrams": 0, "presents": 1, "other": 0}
    assert game.sounds.totals.played == 1  # the click, not the beep


def test_headless_server_keeps_network_only(game: Game) -> None:
    assert game.frame(HeadlessServer()) == {"sounds": 0, "datagrams": 1, "presents": 0,
                                            "other": 1}


def test_replay_drops_network(game: Game) -> None:
    assert game.frame(Replay()) == {"sounds": 2, "datagrams": 0, "presents": 1, "other": 1}


def test_policy_set_combines_and_toggles(game: Game) -> None:
    policies = PolicySet()
    assert policies.toggle(Mute) is True and Mute in policies
    assert policies.toggle(Replay) is True
    assert game.frame(policies) == {"sounds": 0, "datagrams": 0, "presents": 1, "other": 1}
    assert policies.toggle(Mute) is False and Mute not in policies
    assert game.frame(policies)["sounds"] == 2
    policies.switch(Replay, False)
    assert policies.active == []


def test_a_headless_server_loop_runs_without_a_display() -> None:
    pygame.quit()
    assert not pygame.display.get_init()
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        redraw = Redraw()

        def update(dt: float) -> None:
            sender.send({"tick": dt})
            redraw.request()  # shared game code may ask; the server policy drops it

        loop = GameLoop(update=update, fps=None, dt=0.05, redraw=redraw)
        loop.policies.switch(HeadlessServer, True)
        assert loop.run(frames=3) == 3
        sender.close()
        receiver.drain(timeout=1.0)
        while len(receiver.messages) < 3 and receiver.drain(timeout=1.0):
            pass
    assert receiver.payloads == [{"tick": 0.05}] * 3
    assert redraw.presents == 0 and [r.dropped for r in loop.history] == [1, 1, 1]
