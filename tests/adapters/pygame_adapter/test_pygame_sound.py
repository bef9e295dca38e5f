"""Sounds: once per sound per frame, capped, cooled down, limited, prioritised, all counted."""

from __future__ import annotations

import time

import pygame
import pytest

import airlock
from airlock.testing import EnqueueRecorder
from airlock_pygame import PHASE_ORDER, SoundPlayer, SoundReport, play_sound, tone


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


# -- one bad request never reaches the batch (issue 13.7) -------------------------------------


def test_a_bad_sound_is_refused_at_the_call_and_the_others_still_play(
    screen: pygame.Surface,
) -> None:
    player = SoundPlayer()
    a, b = tone(440, 100), tone(660, 100)
    tick = airlock.tick_scope()
    with tick:
        player.play(a)
        with pytest.raises(TypeError, match=r"play_sound\(\) needs a pygame.mixer.Sound, got None"):
            player.play(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="volume"):
            player.play(b, volume="loud")  # type: ignore[arg-type]
        player.play(b)
    report = player.take_report()
    assert (report.requested, report.played) == (2, 2)
    assert tick.stats.failed == 0


def test_a_refused_request_enqueues_nothing(
    screen: pygame.Surface, airlock_recorder: EnqueueRecorder,
) -> None:
    beep = tone(440, 100)
    with pytest.raises(TypeError):
        play_sound("boom")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cooldown_ms"):
        play_sound(beep, cooldown_ms=-1)
    play_sound(beep, volume=0.5)
    (request,) = airlock_recorder.intents  # only the good one, with its options
    assert request.args[0].sound is beep and request.args[0].volume == 0.5


# -- the frame clock: deterministic channel occupancy (issue 16.5) ----------------------------


def frames_of(player: SoundPlayer, requests: list[list[pygame.mixer.Sound]],
              **options: object) -> list[SoundReport]:
    """Run one tick frame per entry of ``requests``; return each frame's report."""
    tick = airlock.tick_scope(order_by=PHASE_ORDER)
    reports = []
    for sounds in requests:
        with tick:
            for sound in sounds:
                player.play(sound, **options)  # type: ignore[arg-type]
        reports.append(player.take_report())
    return reports


def counts(report: SoundReport) -> tuple[int, ...]:
    return (report.played, report.cooldown, report.limited, report.capped, report.stolen,
            report.starved)


def test_the_frame_clock_counts_channel_occupancy_in_frames(screen: pygame.Surface) -> None:
    pygame.mixer.set_num_channels(1)
    beep = tone(440, 100)  # 100 ms = 2 frames of 50 ms, then its channel is free again
    player = SoundPlayer(frame_ms=50)
    reports = frames_of(player, [[beep], [beep], [beep], [], [beep]])
    assert [(r.played, r.starved) for r in reports] == [(1, 0), (0, 1), (1, 0), (0, 0), (1, 0)]


def test_with_the_frame_clock_the_same_game_gives_the_same_counts_every_run(
    screen: pygame.Surface,
) -> None:
    pygame.mixer.set_num_channels(3)
    bank = [tone(200 + 40 * i, 40 + 37 * i) for i in range(6)]
    script = [[bank[(f * 7 + k) % 6] for k in range(f % 4)] for f in range(60)]

    def run() -> list[tuple[int, ...]]:
        return [counts(r) for r in frames_of(SoundPlayer(frame_ms=1000 / 30), script)]

    first = run()
    time.sleep(0.05)  # real time passes between the runs; the frame clock does not care
    assert run() == first
    assert sum(c[5] for c in first) > 0  # some starved: the channels really ran out


# -- cooldown, instance limit, priority (issue 16.8) ------------------------------------------


def test_a_sound_asked_for_within_its_cooldown_is_coalesced(screen: pygame.Surface) -> None:
    step = tone(300, 20)
    player = SoundPlayer(frame_ms=50, cooldown_ms=120)
    reports = frames_of(player, [[step]] * 7)
    # started at frame 0, 3 and 6: 120 ms is 2.4 frames, so frames 1, 2, 4, 5 are cooling
    assert [(r.played, r.cooldown) for r in reports] == [(1, 0), (0, 1), (0, 1)] * 2 + [(1, 0)]
    assert player.totals.requested == 7 == player.totals.played + player.totals.cooldown


def test_max_instances_limits_one_sound_playing_at_once(screen: pygame.Surface) -> None:
    laser = tone(880, 200)  # 4 frames of 50 ms
    player = SoundPlayer(frame_ms=50)
    reports = frames_of(player, [[laser]] * 6, max_instances=2)
    assert [(r.played, r.limited) for r in reports] == [
        (1, 0), (1, 0), (0, 1), (0, 1), (1, 0), (1, 0)]
    assert player.totals.limited == 2


def test_a_higher_priority_sound_steals_the_oldest_lower_priority_channel(
    screen: pygame.Surface,
) -> None:
    pygame.mixer.set_num_channels(2)
    music, steps, boom, beep = (tone(f, 1000) for f in (200, 300, 400, 500))
    player = SoundPlayer(frame_ms=50)
    tick = airlock.tick_scope()
    with tick:
        player.play(music, priority=1)
    with tick:
        player.play(steps, priority=0)
    with tick:
        player.play(boom, priority=2)   # takes the oldest channel below 2: music's
        player.play(beep, priority=0)   # nothing below 0: starved
    report = player.take_report()
    assert counts(report) == (3, 0, 0, 0, 1, 1)
    playing = {pygame.mixer.Channel(i).get_sound() for i in range(2)}
    assert playing == {steps, boom}


def test_within_a_frame_higher_priority_sounds_are_served_first(screen: pygame.Surface) -> None:
    quiet, loud = tone(300, 100), tone(600, 100)
    player = SoundPlayer(cap=1, frame_ms=50)
    with airlock.tick_scope():
        player.play(quiet)
        player.play(loud, priority=5)
    report = player.take_report()
    assert (report.played, report.capped) == (1, 1)
    assert pygame.mixer.Channel(0).get_sound() is loud


def test_with_real_channels_priority_still_steals(screen: pygame.Surface) -> None:
    pygame.mixer.set_num_channels(1)
    long_music, alarm = tone(200, 3000), tone(900, 100)
    player = SoundPlayer()
    with airlock.tick_scope():
        player.play(long_music)
    with airlock.tick_scope():
        player.play(alarm, priority=1)
    report = player.take_report()
    assert (report.played, report.stolen, report.starved) == (2, 1, 0)


def test_the_report_adds_up_and_reads_as_one_line() -> None:
    a = SoundReport(requested=5, played=2, cooldown=1, limited=1, capped=0, starved=1, stolen=1)
    total = SoundReport()
    total.add(a)
    total.add(a)
    assert total == SoundReport(10, 4, 0, 2, 2, 2, 2)
    assert total.summary() == "played 4  capped 0  starved 2  cooldown 2  limited 2  stolen 2"


def test_sound_rules_are_validated_at_the_call(screen: pygame.Surface) -> None:
    with pytest.raises(ValueError, match="cooldown_ms"):
        SoundPlayer(cooldown_ms=-1)
    with pytest.raises(ValueError, match="max_instances"):
        SoundPlayer(max_instances=0)
    with pytest.raises(ValueError, match="frame_ms"):
        SoundPlayer(frame_ms=0)
    with airlock.tick_scope(), pytest.raises(TypeError, match="priority"):
        SoundPlayer().play(tone(300, 10), priority="high")  # type: ignore[arg-type]


def test_the_frame_clock_counts_a_flush_of_a_fresh_scope_as_one_frame(
    screen: pygame.Surface,
) -> None:
    pygame.mixer.set_num_channels(1)
    beep = tone(440, 100)  # 2 frames of 50 ms
    player = SoundPlayer(frame_ms=50)
    played = []
    for _ in range(4):
        with airlock.tick_scope():  # a new tick each time: each flush is one frame on
            player.play(beep)
        played.append(player.take_report().played)
    assert played == [1, 0, 1, 0]


def test_a_channel_reused_without_a_volume_plays_at_full_volume(screen: pygame.Surface) -> None:
    pygame.mixer.set_num_channels(1)
    quiet, normal = tone(300, 20), tone(600, 20)
    player = SoundPlayer(frame_ms=20)
    tick = airlock.tick_scope()
    with tick:
        player.play(quiet, volume=0.25)
    assert pygame.mixer.Channel(0).get_volume() == pytest.approx(0.25, abs=0.01)
    with tick:
        player.play(normal)  # the same channel: no volume carried over from the quiet sound
    assert pygame.mixer.Channel(0).get_volume() == pytest.approx(1.0)


def test_once_no_channel_is_left_the_frames_other_sounds_starve_without_searching(
    screen: pygame.Surface, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pygame.mixer.set_num_channels(1)
    player = SoundPlayer()
    with airlock.tick_scope():
        player.play(tone(100, 2000))  # holds the only channel
    searches: list[bool] = []
    find = pygame.mixer.find_channel

    def counted(force: bool = False) -> pygame.mixer.Channel | None:
        searches.append(force)
        return find(force)

    monkeypatch.setattr(pygame.mixer, "find_channel", counted)
    with airlock.tick_scope():
        for freq in (200, 300, 400):
            player.play(tone(freq, 50))
    report = player.take_report()
    assert (report.requested, report.played, report.starved) == (4, 1, 3)
    assert len(searches) == 1  # the first starved; the other two were not searched for
