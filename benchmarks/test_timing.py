"""The interleaved runner samples every contender every round."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.timing import Measurement, calibrate, interleave, per_frame_ns


def test_interleave_gives_each_contender_one_sample_per_round() -> None:
    order: list[str] = []
    def frame_of(name: str) -> Callable[[], None]:
        return lambda: order.append(name)

    frames = {name: frame_of(name) for name in ("a", "b", "c")}
    results = interleave(frames, rounds=4, sample_ns=20_000)
    assert {name: len(m.samples) for name, m in results.items()} == {"a": 4, "b": 4, "c": 4}
    assert all(m.min > 0 for m in results.values())


def test_calibrate_scales_frames_to_the_sample_length() -> None:
    def frame() -> None:
        sum(range(50))

    short, long = calibrate(frame, 50_000), calibrate(frame, 5_000_000)
    assert 1 <= short < long


def test_per_frame_ns_runs_the_frame_n_times() -> None:
    calls: list[int] = []
    assert per_frame_ns(lambda: calls.append(1), 7) > 0
    assert len(calls) == 7


def test_measurement_median_and_min() -> None:
    m = Measurement([5.0, 1.0, 3.0])
    assert (m.median, m.min) == (3.0, 1.0)


def test_the_lazily_imported_asyncio_contender_keeps_its_name() -> None:
    from benchmarks.contenders import ASYNCIO
    from benchmarks.contenders.asyncio_loop import AsyncioLoop

    assert AsyncioLoop.name == ASYNCIO
