"""Sounds: once per sound per frame, capped per frame, and every sound not played is counted."""

from __future__ import annotations

import pygame

import airlock
from airlock_pygame import PHASE_ORDER, SoundPlayer, play_sound, tone


def busy_channels() -> int:
    return sum(pygame.mixer.Channel(i).get_busy() for i in range(pygame.mixer.get_num_channels()))


def fire_weapons(player: SoundPlayer, laser: pygame.mixer.Sound, hit: pygame.mixer.Sound) -> None:
    for _ in range(5):
        player.play(laser)
    for _ in range(3):
        player.play(hit, volume=0.5)


def test_each_sound_plays_at_most_once_per_frame(screen: pygame.Surface) -> None:
    player = SoundPlayer()
    laser, hit = tone(880, 500), tone(220, 500)
    tick = airlock.tick_scope(order_by=PHASE_ORDER)
    with tick:
        fire_weapons(player, laser, hit)
    report = player.take_report()
    assert (report.requested, report.played, report.capped, report.starved) == (2, 2, 0, 0)
    assert busy_channels() == 2
    assert tick.stats.coalesced == 6  # 8 requests, 2 distinct sounds
    assert tick.stats.dispatched == 1  # one batch call started both
    with tick:
        player.play(laser)
    assert player.take_report().played == 1
    assert player.totals.played == 3


def test_more_sounds_than_channels_are_capped_and_reported(screen: pygame.Surface) -> None:
    player = SoundPlayer()
    assert player.cap == 8 == pygame.mixer.get_num_channels()
    sounds = [tone(200 + 50 * i, 1500) for i in range(12)]
    tick = airlock.tick_scope()
    with tick:
        for sound in sounds:
            player.play(sound)
    report = player.take_report()
    assert (report.requested, report.played, report.capped, report.starved) == (12, 8, 4, 0)
    assert busy_channels() == 8
    with tick:  # every channel is still busy: the next frame's sounds are starved, not lost
        player.play(sounds[0])
        player.play(sounds[1])
    report = player.take_report()
    assert (report.played, report.starved) == (0, 2)
    assert player.totals.capped == 4 and player.totals.starved == 2


def test_explicit_cap_below_channel_count(screen: pygame.Surface) -> None:
    player = SoundPlayer(cap=3)
    with airlock.tick_scope():
        for i in range(5):
            player.play(tone(300 + 10 * i, 100))
    report = player.take_report()
    assert (report.played, report.capped) == (3, 2)


def test_play_sound_uses_the_default_player(screen: pygame.Surface) -> None:
    from airlock_pygame import default_sounds

    default_sounds.take_report()
    beep = tone(440, 100)
    with airlock.tick_scope():
        play_sound(beep)
        play_sound(beep)
    assert default_sounds.take_report().played == 1


def test_without_a_mixer_sounds_are_starved_not_lost(screen: pygame.Surface) -> None:
    player = SoundPlayer()
    beep = tone(440, 100)
    pygame.mixer.quit()
    with airlock.tick_scope():
        player.play(beep)
    assert player.take_report().starved == 1


def test_cap_must_be_positive() -> None:
    try:
        SoundPlayer(cap=0)
    except ValueError as exc:
        assert "positive" in str(exc)
    else:
        raise AssertionError("cap=0 was accepted")
