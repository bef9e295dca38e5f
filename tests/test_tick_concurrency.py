"""One frame at a time: threads, greenlets and tasks sharing one tick never run an effect twice.

A second opener — while a frame is open or still flushing — gets ScopeStateError naming the
owner, and its context is left clean. Stress runs are bounded; CI (``CI`` set) runs more.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import airlock
from airlock import _buffer
from airlock._buffer import SHIFT_TOKEN

ROUNDS = 20_000 if os.environ.get("CI") else 3_000
WAIT = 30


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_two_threads_opening_one_tick_never_run_an_effect_twice() -> None:
    tick = airlock.tick_scope()
    ran: Counter[tuple[int, int]] = Counter()
    refused: Counter[int] = Counter()
    leaked: list[object] = []

    def opener(unit: int) -> None:
        for n in range(ROUNDS):
            try:
                with tick:
                    airlock.enqueue(ran.update, [(unit, n)])
            except airlock.ScopeStateError:
                refused[unit] += 1
            current = airlock.get_current_scope()
            if current is not None:
                leaked.append(current)
                return

    with switch_interval(1e-6):
        threads = [threading.Thread(target=opener, args=(u,)) for u in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert leaked == []
    assert [key for key, times in ran.items() if times > 1] == []
    assert len(ran) + sum(refused.values()) == 2 * ROUNDS  # each ran once, or was refused


def test_a_frame_still_flushing_refuses_a_second_opener_naming_the_owner() -> None:
    tick = airlock.tick_scope()
    ran: list[str] = []
    flushing, finish = threading.Event(), threading.Event()

    def slow(name: str) -> None:
        ran.append(name)
        flushing.set()
        finish.wait(WAIT)

    def frame_a() -> None:
        with tick:
            airlock.enqueue(slow, "a")

    owner = threading.Thread(target=frame_a, name="frame-owner")
    owner.start()
    assert flushing.wait(WAIT)
    refusal = r"still flushing in thread 'frame-owner'"
    with pytest.raises(airlock.ScopeStateError, match=refusal) as info, tick:
        airlock.enqueue(ran.append, "b")
    assert "one frame at a time" in str(info.value) and "tick.post()" in str(info.value)
    assert airlock.get_current_scope() is None  # the refused opener's context is clean
    finish.set()
    owner.join(WAIT)
    assert ran == ["a"]
    with tick:  # the frame has ended: this thread may open the next
        airlock.enqueue(ran.append, "c")
    assert ran == ["a", "c"]


def test_the_imperative_lifecycle_takes_the_same_claim() -> None:
    tick = airlock.tick_scope()
    tick.enter()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            tick.enter()
        except airlock.ScopeStateError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(WAIT)
    tick.exit()
    assert len(errors) == 1 and "one frame at a time" in str(errors[0])
    tick.enter()  # released by exit()
    tick.exit()


@pytest.mark.parametrize("general", [False, True], ids=["with-tick", "tick-enter"])
def test_an_open_frame_is_named_by_its_opener_when_recorded(general: bool) -> None:
    """``with tick:`` on the plain path records no owner: a refusal while its body runs says
    "another thread"; a frame opened with ``tick.enter()`` (the general path) names its thread."""
    tick = airlock.tick_scope()
    opened, finish = threading.Event(), threading.Event()

    def body() -> None:
        if general:
            tick.enter()
        else:
            tick.__enter__()
        opened.set()
        finish.wait(WAIT)
        if general:
            tick.exit()
        else:
            tick.__exit__(None, None, None)

    owner = threading.Thread(target=body, name="opener")
    owner.start()
    assert opened.wait(WAIT)
    where = "thread 'opener'" if general else "another thread, greenlet or task"
    with pytest.raises(airlock.ScopeStateError, match=f"open or still flushing in {where};"):
        tick.enter()
    finish.set()
    owner.join(WAIT)
    with tick:  # released
        pass


def test_a_frame_of_its_own_still_cannot_be_nested() -> None:
    tick = airlock.tick_scope()
    with tick, pytest.raises(airlock.ScopeStateError, match="cannot be nested in itself"):
        tick.__enter__()
    with tick:
        pass


def test_the_claim_is_returned_when_a_frame_raises() -> None:
    tick = airlock.tick_scope()
    for error in (ValueError("x"), KeyboardInterrupt()):
        with pytest.raises(type(error)), tick:
            airlock.enqueue(print, "never")
            raise error
    ran: list[int] = []

    def boom() -> None:
        raise RuntimeError("effect failed")

    with pytest.raises(RuntimeError), tick:
        airlock.enqueue(boom)
    with tick:
        airlock.enqueue(ran.append, 1)
    assert ran == [1]


def test_two_asyncio_tasks_sharing_a_tick() -> None:
    asyncio.run(_two_tasks_open_one_tick())


async def _two_tasks_open_one_tick() -> None:
    tick = airlock.tick_scope()
    ran: list[str] = []
    errors: list[BaseException] = []

    async def frame(name: str) -> None:
        try:
            with tick:
                airlock.enqueue(ran.append, name)
                await asyncio.sleep(0.01)  # the other task runs while this frame is open
        except airlock.ScopeStateError as exc:
            errors.append(exc)

    await asyncio.gather(frame("first"), frame("second"))
    assert ran == ["first"]
    assert len(errors) == 1 and "another thread, greenlet or task" in str(errors[0])


def _run_to_the_end(gevent: Any, player: Callable[[int], None]) -> None:
    """Ten greenlets, each running ``player(unit)``, all to the end."""
    greenlets = [gevent.spawn(player, u) for u in range(10)]
    gevent.joinall(greenlets, timeout=WAIT, raise_error=True)
    assert all(g.dead for g in greenlets)


def test_greenlets_sharing_a_tick_run_each_effect_once() -> None:
    gevent = pytest.importorskip("gevent")
    tick = airlock.tick_scope()
    ran: Counter[tuple[int, int]] = Counter()
    refusals: list[str] = []

    def effect(key: tuple[int, int]) -> None:
        ran[key] += 1
        gevent.sleep(0)  # any I/O under gevent: another greenlet runs mid-flush

    def player(unit: int) -> None:
        for n in range(20):
            try:
                with tick:
                    airlock.enqueue(effect, (unit, n))
            except airlock.ScopeStateError as exc:
                refusals.append(str(exc))
            assert airlock.get_current_scope() is None

    _run_to_the_end(gevent, player)
    assert max(ran.values()) == 1
    assert len(ran) + len(refusals) == 200
    # refused mid-flush: the flushing greenlet runs in the refuser's own thread
    assert refusals and all("another greenlet or task of this thread" in r for r in refusals)


@pytest.mark.parametrize("features", ["keyed", "batched", "phased"])
def test_greenlets_sharing_a_pipeline_tick_run_each_effect_once(features: str) -> None:
    """As above, on frames that close through the pipeline (keys, batches, phase order and
    errors="continue": the compiled kernel's close_rich where it runs), with an effect that
    fails now and then and greenlets switching mid-flush."""
    gevent = pytest.importorskip("gevent")
    tick = airlock.tick_scope(order_by=airlock.by_phase("net", "draw"), errors="continue")
    ran: Counter[tuple[int, int]] = Counter()
    refusals: list[str] = []
    unbalanced: list[str] = []

    @airlock.phase("draw")
    def effect(key: tuple[int, int]) -> None:
        ran[key] += 1
        gevent.sleep(0)  # another greenlet runs mid-flush
        if key[1] % 7 == 3:
            raise RuntimeError(f"effect {key} failed")

    @airlock.batch(phase="net")
    def send(keys: list[tuple[int, int]]) -> None:
        for key in keys:
            ran[key] += 1
        gevent.sleep(0)

    def player(unit: int) -> None:
        for n in range(20):
            key = (unit, n)
            try:
                with tick:
                    if features == "keyed":
                        airlock.enqueue(effect, key, _key=("stale", key))
                        airlock.enqueue(effect, key, _key=("stale", key))  # replaces the first
                    elif features == "batched":
                        airlock.enqueue(send, key)
                    else:
                        airlock.enqueue(effect, key, _dispatch_options={"phase": "net"})
                problem = tick.stats.balance_error()  # (this greenlet's frame just ended)
                if problem:
                    unbalanced.append(problem)
            except airlock.ScopeStateError as exc:
                refusals.append(str(exc))
            assert airlock.get_current_scope() is None

    _run_to_the_end(gevent, player)
    assert max(ran.values()) == 1 and unbalanced == []
    assert len(ran) + len(refusals) == 200
    assert refusals and all("another greenlet or task of this thread" in r for r in refusals)
    tick.close()


class BalanceCheck(airlock.Observer):
    """Checks each frame's ledger while the frame still holds the tick (another thread's
    frame may start as soon as it ends, and reuses the same stats object)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.frames = 0

    def flushed(self, scope: airlock.Scope) -> None:
        self.frames += 1
        error = scope.stats.balance_error()
        if error:
            self.problems.append(error)


def test_threads_posting_and_opening_under_stress_keep_the_ledger() -> None:
    check = BalanceCheck()
    tick = airlock.tick_scope(max_pending=500, on_full="block", observers=[check])
    ran: Counter[tuple[str, int]] = Counter()
    stop = threading.Event()
    posted = [0, 0]

    def poster(slot: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                tick.post(ran.update, [("post", slot * 10**9 + n)])
            except airlock.ScopeStateError:  # closed while this post waited for room
                break
            n += 1
        posted[slot] = n

    def opener(slot: int) -> None:
        n = 0
        while not stop.is_set():
            try:
                with tick:
                    airlock.enqueue(ran.update, [("frame", slot * 10**9 + n)])
                    n += 1
            except airlock.ScopeStateError:
                continue

    with switch_interval(1e-5):
        posters = [threading.Thread(target=poster, args=(s,)) for s in range(2)]
        openers = [threading.Thread(target=opener, args=(s,)) for s in range(2)]
        for w in posters + openers:
            w.start()
        time.sleep(1.5 if os.environ.get("CI") else 0.5)
        stop.set()
        for w in openers:
            w.join(WAIT)
        tick.close()  # runs what was accepted; wakes a poster still waiting for room
        for w in posters:
            w.join(WAIT)
    assert not any(w.is_alive() for w in posters + openers)
    assert check.problems == [] and check.frames > 10
    assert max(ran.values()) == 1
    assert sum(1 for kind, _ in ran if kind == "post") == sum(posted)


def test_close_refuses_while_another_threads_frame_still_flushes() -> None:
    tick = airlock.tick_scope()
    ran: list[str] = []
    flushing, finish = threading.Event(), threading.Event()

    def slow() -> None:
        flushing.set()
        finish.wait(WAIT)
        ran.append("slow")

    def frame() -> None:
        with tick:
            airlock.enqueue(slow)
            airlock.enqueue(ran.append, "after")

    owner = threading.Thread(target=frame, name="loop")
    owner.start()
    assert flushing.wait(WAIT)
    with pytest.raises(airlock.ScopeStateError, match="still flushing in thread 'loop'"):
        tick.close()
    assert not tick.is_closed
    finish.set()
    owner.join(WAIT)
    tick.close()
    assert ran == ["slow", "after"] and tick.is_closed


def test_a_refused_post_names_the_task_without_its_objects_repr() -> None:
    """The refusal once put ``repr(task)`` in its message: for ``counter.update`` that read the
    Counter while another thread changed it, and the post died of a RuntimeError instead."""

    class Unprintable(dict[str, int]):
        def __repr__(self) -> str:
            raise RuntimeError("dictionary changed size during iteration")

    tick = airlock.tick_scope()
    tick.close()
    with pytest.raises(airlock.ScopeStateError, match="is closed; nothing will run 'update'"):
        tick.post(Unprintable().update, {"a": 1})
    with pytest.raises(TypeError, match=r"got <[\w.<>]*Unprintable object> \("):
        airlock.tick_scope().post(Unprintable())  # type: ignore[arg-type]


# -- a frame run by code that interrupted this thread ------------------------------------------


@contextmanager
def shift_token_held() -> Iterator[None]:
    """This thread holds the shift token, as while it names a tick's intents in place."""
    SHIFT_TOKEN.pop()
    try:
        yield
    finally:
        SHIFT_TOKEN.append(True)


def in_signal_handler(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a real SIGUSR1 handler of this thread; return its result or error."""
    outcome: list[Any] = []

    def handler(signum: int, frame: Any) -> None:
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)

    before = signal.signal(signal.SIGUSR1, handler)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        deadline = time.monotonic() + WAIT
        while not outcome and time.monotonic() < deadline:  # (it runs between bytecodes)
            time.sleep(0.001)
    finally:
        signal.signal(signal.SIGUSR1, before)
    assert outcome, "the signal handler never ran"
    return outcome[0]


needs_sigusr1 = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 here")


@needs_sigusr1
@pytest.mark.parametrize("watched", [False, True], ids=["inline", "general"])
def test_a_signal_handler_frame_that_cannot_remove_the_last_frame_is_refused(
    monkeypatch: Any, watched: bool
) -> None:
    """The handler interrupted this thread while it held the shift token: the frame that would
    remove the kept last frame's entries cannot wait for it. It raises instead of hanging,
    nothing opens, and the tick goes on (no effect lost, none run twice)."""
    monkeypatch.setattr(_buffer, "REMOVAL_PATIENCE", 0.01)
    tick = airlock.tick_scope(observers=[airlock.Observer()] if watched else ())
    ran: list[str] = []
    with tick:
        airlock.enqueue(ran.append, "first")

    def frame() -> str:
        with tick:
            airlock.enqueue(ran.append, "in the handler")
        return "ran"

    with shift_token_held():
        refusal = in_signal_handler(frame)
    assert isinstance(refusal, airlock.ScopeStateError), refusal
    assert "tick.post()" in str(refusal) and "_buffer" not in str(refusal)
    assert [i.args for i in tick.intents] == [("first",)]  # the last frame's, still kept
    assert in_signal_handler(frame) == "ran"  # the token free again: a frame opens
    with tick:
        airlock.enqueue(ran.append, "next")
    assert ran == ["first", "in the handler", "next"] and tick.frame == 3


@needs_sigusr1
@pytest.mark.parametrize("watched", [False, True], ids=["inline", "general"])
def test_a_signal_handler_frame_leaves_its_entries_to_the_next_frame_to_remove(
    watched: bool,
) -> None:
    """``keep_intents=False``: the frame runs in the handler, and its end, which cannot take
    the token, leaves its entries to the next frame (unseen meanwhile); each runs once."""
    tick = airlock.tick_scope(keep_intents=False,
                              observers=[airlock.Observer()] if watched else ())
    ran: list[str] = []

    def frame() -> str:
        with tick:
            airlock.enqueue(ran.append, "in the handler")
            airlock.enqueue(ran.append, "and again")
        return "ran"

    with shift_token_held():
        assert in_signal_handler(frame) == "ran"
    assert tick.intents == [] and tick.pending == 0
    assert tick.stats.dispatched == 2
    with tick:
        assert [i.args for i in tick.intents] == []  # removed as the frame opened
        airlock.enqueue(ran.append, "next")
    assert ran == ["in the handler", "and again", "next"] and tick.intents == []
    assert tick.stats.dispatched == 1 and tick.stats.enqueued == 1


@needs_sigusr1
def test_a_discard_in_a_signal_handler_that_cannot_remove_changes_nothing(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(_buffer, "REMOVAL_PATIENCE", 0.01)
    tick = airlock.tick_scope()
    ran: list[str] = []
    with tick:
        airlock.enqueue(ran.append, "kept")
        with shift_token_held():
            refusal = in_signal_handler(tick.discard)
        assert isinstance(refusal, airlock.ScopeStateError), refusal
        assert [i.args for i in tick.intents] == [("kept",)]
    assert ran == ["kept"] and tick.stats.discarded == 0 and tick.stats.dispatched == 1
