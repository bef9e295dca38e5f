"""airlock.testing.Recorder: each frame's intents and outcomes as plain data."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock.testing import EnqueueRecorder, RecordedFrame, RecordedIntent, Recorder


def play_sound(name: str) -> None:
    """A stand-in sound effect."""


def explode(reason: str) -> None:
    raise RuntimeError(reason)


@airlock.batch
def send_packets(payloads: list[Any]) -> None:
    """A stand-in network batch."""


def run_game(rec: Recorder, frames: int = 20, **tick_options: Any) -> airlock.TickScope:
    """A tiny game: a hit sound every 4th frame, a position packet every frame."""
    tick = airlock.tick_scope(observers=[rec], **tick_options)
    for n in range(frames):
        with tick:
            airlock.enqueue(send_packets, ("pos", n))
            if n % 4 == 0:
                airlock.enqueue(play_sound, "hit")
            airlock.enqueue(send_packets, ("vel", n))
    return tick


def test_frame_12_played_hit_once_and_sent_one_packet() -> None:
    rec = Recorder()
    run_game(rec)
    assert len(rec.frames) == 20
    assert rec.frames[12].dispatched_names() == ["play_sound", "send_packets"]
    assert rec.count("play_sound", frame=12) == 1
    assert rec.count("send_packets", frame=12) == 1
    assert rec.count("play_sound", frame=13) == 0
    assert rec.count("play_sound") == 5
    (packet,) = [r for r in rec.frames[12] if r.name == "send_packets"]
    assert packet.args == ([("pos", 12), ("vel", 12)],)


def test_recorded_intents_are_plain_data() -> None:
    rec = Recorder()
    tick = airlock.tick_scope(observers=[rec])
    with tick:
        airlock.enqueue(play_sound, name="hit", _key="sfx")
    (recorded,) = rec.frames[0].intents
    assert recorded == RecordedIntent("play_sound", (), {"name": "hit"}, "dispatched", key="sfx")
    assert str(recorded) == "play_sound(name='hit') -> dispatched"


def test_every_outcome_is_recorded_in_the_frame_it_happened() -> None:
    rec = Recorder()
    tick = airlock.tick_scope(
        policy=airlock.BlockTasks(["blocked"]), errors="continue", observers=[rec]
    )
    with tick:
        airlock.enqueue(play_sound, "old", _key="music")
        airlock.enqueue(play_sound, "new", _key="music")
        airlock.enqueue(play_sound, "x", _name="blocked")
        airlock.enqueue(explode, "boom")
    with pytest.raises(KeyError), tick:
        airlock.enqueue(play_sound, "lost")
        raise KeyError
    first, second = rec.frames
    assert [(r.name, r.args, r.outcome) for r in first] == [
        ("play_sound", ("old",), "coalesced"),
        ("blocked", ("x",), "dropped"),
        ("play_sound", ("new",), "dispatched"),
        ("explode", ("boom",), "failed"),
    ]
    failed = first.select("failed")[0]
    assert isinstance(failed.error, RuntimeError) and str(failed.error) == "boom"
    assert second.names("discarded") == ["play_sound"]
    assert first.names(None) == ["play_sound", "blocked", "play_sound", "explode"]
    assert rec.names("dropped") == ["blocked"]
    assert rec.count("play_sound", outcome=None) == 3


def test_frames_carry_their_stats() -> None:
    rec = Recorder()
    run_game(rec, frames=2)
    assert rec.frames[0].stats["dispatched"] == 2
    assert rec.frames[0].stats["batched"] == 1
    assert rec.frames[1].stats["dispatched"] == 1


def test_budget_carry_shows_up_in_the_frame_that_dispatched() -> None:
    rec = Recorder()
    tick = airlock.tick_scope(observers=[rec], max_per_frame=2)
    with tick:
        for n in range(3):
            airlock.enqueue(play_sound, str(n))
    with tick:
        pass
    assert [r.args for r in rec.frames[0]] == [("0",), ("1",)]
    assert [r.args for r in rec.frames[1]] == [("2",)]
    assert rec.frames[0].stats["carried"] == 1


def test_a_plain_scope_records_one_frame_per_flush() -> None:
    rec = Recorder()
    with airlock.scope(observers=[rec]):
        airlock.enqueue(play_sound, "a")
        airlock.enqueue(play_sound, "b")
    assert rec.frames[0].dispatched_names() == ["play_sound", "play_sound"]
    assert rec.current.dispatched_names() == []
    assert rec.count("play_sound") == 2
    assert [r.args for r in rec.intents] == [("a",), ("b",)]


def test_missing_frames_and_bad_outcomes_say_what_to_do() -> None:
    rec = Recorder()
    run_game(rec, frames=3)
    with pytest.raises(IndexError, match=r"frame 3 was not recorded; 3 frame\(s\) finished"):
        rec.count("play_sound", frame=3)
    with pytest.raises(ValueError, match="unknown outcome 'sent'"):
        rec.frames[0].names("sent")
    assert rec.frame(2) is rec.frames[2]


def test_clear_restarts_the_numbering() -> None:
    rec = Recorder()
    tick = run_game(rec, frames=3)
    rec.clear()
    assert rec.frames == [] and len(rec.current) == 0
    with tick:
        airlock.enqueue(play_sound, "again")
    assert rec.dispatched_names(frame=0) == ["play_sound"]
    assert repr(rec) == "<Recorder frames=1 current=0>"


def test_recorded_frame_helpers() -> None:
    frame = RecordedFrame(
        7,
        [
            RecordedIntent("a", (), {}, "dispatched"),
            RecordedIntent("b", (), {}, "dropped"),
            RecordedIntent("a", (1,), {}, "dispatched"),
        ],
    )
    assert frame.number == 7 and len(frame) == 3
    assert frame.dispatched_names() == ["a", "a"]
    assert frame.count("a") == 2 and frame.count("b") == 0 and frame.count("b", None) == 1
    assert [r.name for r in frame.select(None)] == ["a", "b", "a"]


def test_one_recorder_on_a_tick_and_a_nested_scope_records_once() -> None:
    rec = Recorder()
    tick = airlock.tick_scope(observers=[rec])
    with tick, airlock.scope():
        airlock.enqueue(play_sound, "inner")
    assert rec.frames[0].dispatched_names() == ["play_sound"]


# -- EnqueueRecorder: what the code enqueued, before anything flushes ---------------------------


def test_enqueue_recorder_shows_own_and_captured_intents_as_waiting() -> None:
    with EnqueueRecorder() as rec:
        airlock.enqueue(play_sound, "coin")
        with airlock.scope():  # captured: the recorder's scope is the outermost
            airlock.enqueue(play_sound, "hit", _key="hit")
        tick = airlock.tick_scope()
        with tick:
            airlock.enqueue(send_packets, ("pos", 0))
        tick.close()
        assert rec.names() == ["play_sound", "play_sound", "send_packets"]
        assert [r.outcome for r in rec] == ["waiting"] * 3
        assert rec.intents[1].key == "hit"
        assert rec.count("play_sound") == 2 and len(rec) == 3
        assert "open" in repr(rec)
    assert rec.names("dropped") == ["play_sound", "play_sound", "send_packets"]
    assert rec.names("waiting") == []
    assert rec.outcomes.frame(0).stats["dropped"] == 3


def test_enqueue_recorder_policy_decides_at_the_end() -> None:
    played: list[str] = []
    with EnqueueRecorder(airlock.BlockTasks({"explode"})) as rec:
        airlock.enqueue(played.append, "coin")
        airlock.enqueue(explode, "never")
        assert played == []
    assert played == ["coin"]
    assert rec.names("dispatched") == ["append"] and rec.names("dropped") == ["explode"]


def test_enqueue_recorder_discards_on_an_exception() -> None:
    played: list[str] = []
    with pytest.raises(RuntimeError), EnqueueRecorder(airlock.AllowAll()) as rec:
        airlock.enqueue(played.append, "coin")
        raise RuntimeError("test body failed")
    assert played == [] and rec.names("discarded") == ["append"]


def test_enqueue_recorder_is_used_once_and_inside_its_block() -> None:
    rec = EnqueueRecorder()
    assert rec.intents == [] and "unopened" in repr(rec)
    with pytest.raises(RuntimeError, match="has not been entered yet"):
        rec.scope  # noqa: B018
    with rec:
        pass
    with pytest.raises(RuntimeError, match="used once"), rec:
        pass


def test_enqueue_recorder_ignores_the_configured_scope_class() -> None:
    class Loud(airlock.Scope):
        pass

    airlock.configure(scope_cls=Loud)
    with EnqueueRecorder() as rec:
        assert type(rec.scope) is airlock.Scope
