"""Frame records and the plain-text table."""

from __future__ import annotations

import pygame

import airlock
from airlock_pygame import FrameHistory, FrameRecord, GameLoop, format_table

#: the counts a frame record shares with ``FlushStats``: its whole ledger
LEDGER = ("enqueued", "carried_in", "dispatched", "batched", "dropped", "coalesced", "captured",
          "discarded", "failed", "undispatched", "carried")


def ledger(counts: object) -> dict[str, int]:
    return {name: getattr(counts, name) for name in LEDGER}


def test_records_come_from_the_tick_and_failed_frames_record_their_discards() -> None:
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(list, _key="k")
        airlock.enqueue(list, _key="k")
    assert FrameRecord.from_tick(0, tick, None) == FrameRecord(
        0, enqueued=2, dispatched=1, coalesced=1, flush_us=tick.stats.flush_ns / 1000
    )
    try:
        with tick:
            airlock.enqueue(list)
            raise ValueError("bad frame")
    except ValueError as exc:
        expected = FrameRecord(1, enqueued=1, discarded=1, error="ValueError('bad frame')")
        assert FrameRecord.from_tick(1, tick, exc) == expected
        assert expected.balance_error() is None


def test_a_flush_aborted_under_errors_raise_records_what_it_never_ran(
    screen: pygame.Surface,
) -> None:
    """The record of a frame whose flush an effect aborted carries the tick's numbers, its
    undispatched effects included, and balances."""
    ran: list[int] = []

    def broken() -> None:
        raise OSError("device gone")

    def update(dt: float) -> None:
        airlock.enqueue(ran.append, 1)
        airlock.enqueue(broken)
        airlock.enqueue(ran.append, 2)  # never runs: the flush stops at broken()

    loop = GameLoop(screen, update=update, fps=None, errors="raise")
    assert loop.run(frames=2) == 2
    stats = loop.tick.stats
    assert (stats.failed, stats.undispatched) == (1, 1) and stats.balance_error() is None
    record = loop.history[-1]
    assert ledger(record) == ledger(stats) and record.balance_error() is None
    assert record.error == "OSError('device gone')" and ran == [1, 1]
    assert [(frame, str(exc)) for frame, exc in loop.errors] == [(0, "device gone"),
                                                                 (1, "device gone")]


def test_a_frame_that_calls_tick_discard_records_its_discarded_effects_and_no_error(
    screen: pygame.Surface,
) -> None:
    ran: list[int] = []

    def update(dt: float) -> None:
        airlock.enqueue(ran.append, 1)
        airlock.enqueue(ran.append, 2)
        loop.tick.discard()  # the present comes after: the frame still flips

    loop = GameLoop(screen, update=update, fps=None)
    loop.run(frames=1)
    record, stats = loop.history[-1], loop.tick.stats
    assert (record.discarded, record.dispatched, record.error) == (2, 1, None)
    assert ledger(record) == ledger(stats) and record.balance_error() is None
    assert ran == [] and loop.errors == []


def test_a_frame_discarded_without_an_error_records_none_as_its_error() -> None:
    class Rehearsal(airlock.TickScope):
        """A tick whose frames never flush: each ends discarded, with no error."""

        def should_flush(self, error: BaseException | None) -> bool:
            return False

    tick = Rehearsal()
    with tick:
        airlock.enqueue(list)
    record = FrameRecord.from_tick(0, tick, None)
    assert tick.is_discarded and record.error is None and record.note == ""
    assert ledger(record) == ledger(tick.stats) and record.discarded == 1


def test_balance_error_names_what_is_off() -> None:
    assert FrameRecord(0, enqueued=3, carried_in=1, dispatched=2, undispatched=1,
                       carried=1).balance_error() is None
    error = FrameRecord(7, enqueued=4, dispatched=2, failed=1).balance_error()
    assert error is not None and error.startswith("frame 7 out of balance: 4 entered")
    assert "but 3 left (dispatched=2, " in error and "undispatched=0" in error


def test_history_keeps_the_last_n() -> None:
    history = FrameHistory(maxlen=3)
    for frame in range(5):
        history.append(FrameRecord(frame))
    assert [r.frame for r in history] == [2, 3, 4]
    assert [r.frame for r in history.last(2)] == [3, 4] and len(history.last(10)) == 3


def test_table_aligns_numbers_and_appends_extra_columns_and_notes() -> None:
    rows = [FrameRecord(0, enqueued=12, dispatched=3, batched=9, flush_us=41.6, pending=5),
            FrameRecord(1, error="RuntimeError('x')")]
    table = format_table(rows, {0: {"played": 2, "datagrams": 1}})
    lines = table.splitlines()
    assert lines[0].split() == ["frame", "enqueued", "dispatched", "dropped", "coalesced",
                                "batched", "carried", "failed", "pending", "played",
                                "datagrams", "flush_us", "note"]
    assert lines[1].split() == ["0", "12", "3", "0", "0", "9", "0", "0", "5", "2", "1", "42"]
    assert lines[2].split() == ["1", "0", "0", "0", "0", "0", "0", "0", "0", "0",
                                "RuntimeError('x')"]
    assert len(lines[1]) == lines[0].index("flush_us") + len("flush_us")  # right-aligned
