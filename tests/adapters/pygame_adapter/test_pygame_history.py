"""Frame records and the plain-text table."""

from __future__ import annotations

import airlock
from airlock_pygame import FrameHistory, FrameRecord, format_table


def test_records_come_from_the_tick_and_failed_frames_record_zeros() -> None:
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
        expected = FrameRecord(1, error="ValueError('bad frame')")
        assert FrameRecord.from_tick(1, tick, exc) == expected


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
