"""Isolation stress: concurrent units of work each get their own scope; nothing leaks or is lost.

Each unit opens a scope, enqueues effects tagged with its id while yielding to the others, and
checks that exactly its own effects ran, in order, at its own flush.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import gevent

import airlock

PER_UNIT = 20


def record(sink: list[tuple[int, int]], unit: int, n: int) -> None:
    sink.append((unit, n))


def unit_of_work(
    unit: int, results: dict[int, list[tuple[int, int]]], pause: Callable[[], None]
) -> None:
    """One unit: a scope with a nested scope inside, interleaving with others at each pause."""
    ran: list[tuple[int, int]] = []
    with airlock.scope() as outer:
        for n in range(PER_UNIT // 2):
            airlock.enqueue(record, ran, unit, n)
            pause()
            assert airlock.get_current_scope() is outer
        with airlock.scope():
            for n in range(PER_UNIT // 2, PER_UNIT):
                airlock.enqueue(record, ran, unit, n)
                pause()
        assert len(outer.intents) == PER_UNIT
        assert {i.args[1] for i in outer.intents} == {unit}
        assert ran == []
    results[unit] = ran


def expected(units: int) -> dict[int, list[tuple[int, int]]]:
    return {u: [(u, n) for n in range(PER_UNIT)] for u in range(units)}


def test_fifty_threads() -> None:
    results: dict[int, list[tuple[int, int]]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def run(unit: int) -> None:
        try:
            barrier.wait()
            unit_of_work(unit, results, lambda: time.sleep(0))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(u,)) for u in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == expected(50)
    assert airlock.get_current_scope() is None


async def test_five_hundred_asyncio_tasks() -> None:
    results: dict[int, list[tuple[int, int]]] = {}
    ran: list[tuple[int, int]] = []

    async def run(unit: int) -> None:
        mine: list[tuple[int, int]] = []
        with airlock.scope() as outer:
            for n in range(PER_UNIT):
                airlock.enqueue(record, mine, unit, n)
                await asyncio.sleep(0)
                assert airlock.get_current_scope() is outer
            assert mine == []
        results[unit] = mine
        ran.extend(mine)

    await asyncio.wait_for(asyncio.gather(*(run(u) for u in range(500))), timeout=30)
    assert results == expected(500)
    assert len(ran) == 500 * PER_UNIT


async def test_asyncio_tasks_inside_an_outer_scope_are_isolated_from_each_other() -> None:
    """Tasks created inside a scope inherit it; their own nested scopes stay separate."""
    ran: list[tuple[int, int]] = []

    async def child(unit: int) -> int:
        with airlock.scope() as mine:
            for n in range(3):
                airlock.enqueue(record, ran, unit, n)
                await asyncio.sleep(0)
            assert {i.args[1] for i in mine.intents} == {unit}
        return unit

    with airlock.scope() as parent:
        done = await asyncio.gather(*(child(u) for u in range(50)))
        assert done == list(range(50)) and ran == []
        # each child's scope was captured by the parent they all inherited
        assert len(parent.captured_intents) == 150
    assert sorted(ran) == [(u, n) for u in range(50) for n in range(3)]


def test_fifty_gevent_greenlets_without_monkey_patching() -> None:
    results: dict[int, list[tuple[int, int]]] = {}
    greenlets = [
        gevent.spawn(unit_of_work, unit, results, lambda: gevent.sleep(0)) for unit in range(50)
    ]
    gevent.joinall(greenlets, raise_error=True, timeout=30)
    assert all(g.successful() for g in greenlets)
    assert results == expected(50)
    assert airlock.get_current_scope() is None


def test_greenlets_really_interleave() -> None:
    order: list[int] = []

    def step(unit: int) -> None:
        with airlock.scope():
            for _ in range(3):
                order.append(unit)
                gevent.sleep(0)

    gevent.joinall([gevent.spawn(step, u) for u in range(3)], raise_error=True)
    assert order[:3] == [0, 1, 2]  # every greenlet ran before any finished its scope


def test_threads_posting_to_one_tick_while_it_runs_frames_lose_nothing() -> None:
    workers = 8
    tick = airlock.tick_scope()
    ran: list[tuple[int, int]] = []

    def worker(unit: int) -> None:
        for n in range(200):
            tick.post(record, ran, unit, n)
            if n % 50 == 0:
                time.sleep(0)

    threads = [threading.Thread(target=worker, args=(u,)) for u in range(workers)]
    for t in threads:
        t.start()
    frames = 0
    while any(t.is_alive() for t in threads) or tick.pending:
        with tick:
            pass
        frames += 1
    for t in threads:
        t.join()
    assert sorted(ran) == [(u, n) for u in range(workers) for n in range(200)]
    for unit in range(workers):  # each worker's effects ran in the order it posted them
        assert [n for u, n in ran if u == unit] == list(range(200))
    assert frames >= 1
