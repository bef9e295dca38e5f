"""``await loop.run_async()``: run()'s frames in a real asyncio loop, other tasks between them."""

from __future__ import annotations

import asyncio
import itertools

import pygame
import pytest

import airlock
from airlock.integrations.executors.asyncio import AsyncioExecutor
from airlock_pygame import GameLoop, Redraw


class Ticker:
    """Another task of the program: counts its turns until cancelled."""

    def __init__(self) -> None:
        self.turns = 0

    async def run(self) -> None:
        while True:
            self.turns += 1
            await asyncio.sleep(0)


async def run_beside(loop: GameLoop, ticker: Ticker, **run: object) -> int:
    other = asyncio.create_task(ticker.run())
    await asyncio.sleep(0)
    try:
        return await loop.run_async(**run)  # type: ignore[arg-type]
    finally:
        other.cancel()


def test_frames_run_as_in_run_and_another_task_runs_between_every_two(
    screen: pygame.Surface,
) -> None:
    ticker, seen, drawn = Ticker(), [], []
    redraw = Redraw()
    loop = GameLoop(screen, update=lambda dt: seen.append(ticker.turns),
                    draw=lambda surface: drawn.append(surface), fps=None, redraw=redraw)
    assert asyncio.run(run_beside(loop, ticker, frames=5)) == 5
    assert loop.tick.frame == 5 and len(loop.history) == 5 and len(drawn) == 5
    assert redraw.presents == 5  # each frame's flip, flushed as in run()
    assert all(b > a for a, b in itertools.pairwise(seen)), seen


def test_with_fps_the_rest_of_each_frame_goes_to_the_other_tasks(screen: pygame.Surface) -> None:
    ticker, seen = Ticker(), []
    # draw runs once per frame (with fps, the fixed timestep runs update 0 or more times a
    # frame: as many dt steps as the real time elapsed)
    loop = GameLoop(screen, draw=lambda surface: seen.append(ticker.turns), fps=200)
    assert asyncio.run(run_beside(loop, ticker, frames=4)) == 4
    assert len(seen) == 4
    assert all(b > a for a, b in itertools.pairwise(seen)), seen


def test_an_async_effect_runs_on_the_programs_event_loop(screen: pygame.Surface) -> None:
    executor = AsyncioExecutor()
    fetched: list[str] = []
    frames_seen_done: list[int] = []

    async def fetch(name: str) -> None:
        for _ in range(3):
            await asyncio.sleep(0)  # a network round trip, say
        fetched.append(name)

    def update(dt: float) -> None:
        if loop.tick.frame == 0:
            airlock.enqueue(fetch, "level-2")
        elif fetched and not frames_seen_done:
            frames_seen_done.append(loop.tick.frame)

    loop = GameLoop(screen, update=update, fps=None, executor=executor)
    assert asyncio.run(loop.run_async(frames=8)) == 8
    assert fetched == ["level-2"] and frames_seen_done and frames_seen_done[0] < 8
    outcomes = executor.outcomes
    assert (outcomes.scheduled, outcomes.completed, outcomes.failed) == (1, 1, 0)
    assert loop.history[0].dispatched == 2  # the fetch and the flip


def test_a_quit_event_or_stop_ends_it_after_the_frame(screen: pygame.Surface) -> None:
    loop = GameLoop(screen, fps=None)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert asyncio.run(loop.run_async()) == 1 and not loop.running

    def stop_at_3(record: object) -> None:
        if loop.tick.frame == 3:
            loop.stop()

    assert asyncio.run(loop.run_async(after_frame=stop_at_3)) == 2  # frames 1 and 2

    async def stop_from_another_task() -> int:
        running = asyncio.create_task(loop.run_async())
        for _ in range(5):
            await asyncio.sleep(0)
        loop.stop()
        return await running

    before = loop.tick.frame
    done = asyncio.run(stop_from_another_task())
    assert done >= 1 and loop.tick.frame == before + done and not loop.running


def test_cancelling_it_stops_between_frames_with_no_frame_left_open(
    screen: pygame.Surface,
) -> None:
    ran: list[int] = []
    loop = GameLoop(screen, update=lambda dt: airlock.enqueue(ran.append, loop.tick.frame),
                    fps=None)

    async def cancel_it() -> None:
        running = asyncio.create_task(loop.run_async())
        for _ in range(4):
            await asyncio.sleep(0)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(cancel_it())
    assert not loop.running and ran == list(range(loop.tick.frame))  # every frame flushed
    assert loop.run(frames=1) == 1  # the loop is usable again


def test_a_failing_frame_is_reported_and_the_loop_goes_on_as_in_run(
    screen: pygame.Surface,
) -> None:
    def update(dt: float) -> None:
        if loop.tick.frame == 1:
            raise RuntimeError("boom in frame 1")

    loop = GameLoop(screen, update=update, fps=None)
    assert asyncio.run(loop.run_async(frames=3)) == 3
    assert [(frame, str(error)) for frame, error in loop.errors] == [(1, "boom in frame 1")]
    assert loop.history[1].error is not None and loop.history[2].error is None


def test_closing_the_tick_ends_the_loop_with_no_frame_reported_failed(
    screen: pygame.Surface, caplog: pytest.LogCaptureFixture,
) -> None:
    """``loop.tick.close()`` (from an effect's aftermath or another task) is the end: no frame
    opens again, so ``run()``/``run_async()`` return, counting only the frames that ran, with
    nothing logged as a failed frame."""
    loop = GameLoop(screen, fps=None)
    assert loop.run(after_frame=lambda record: loop.tick.close()) == 1
    assert not loop.running and len(loop.history) == 1 and loop.errors == []

    other = GameLoop(screen, fps=60)

    async def close_from_another_task() -> int:
        running = asyncio.create_task(other.run_async())
        await asyncio.sleep(0.05)
        other.tick.close()
        return await asyncio.wait_for(running, 5)

    done = asyncio.run(close_from_another_task())
    assert done >= 1 and len(other.history) == done and other.errors == []
    assert "failed" not in caplog.text
