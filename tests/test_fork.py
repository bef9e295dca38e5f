"""fork(): pending effects stay the parent's; the child starts with empty buffers and working
locks (see airlock/_fork.py). Every test forks for real; the child reports through a pipe."""

from __future__ import annotations

import json
import os
import select
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import airlock
from airlock._buffer import SHIFT_TOKEN, put_token, take_token

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform has no fork()"),
    # Python 3.12+ warns that forking a process with threads may deadlock: that is the point
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


#: how long a forked child may run (a child stuck on a lock copied while held is killed)
CHILD_SECONDS = 30


def in_child(body: Callable[[], Any]) -> Any:
    """Run ``body`` in a forked child; return what it returned (JSON), or raise its error."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read)
        try:
            result: Any = {"ok": body()}
        except BaseException as exc:  # report everything, including a hang's interrupt
            result = {"error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(write, "w") as out:
            json.dump(result, out)
        os._exit(0)
    os.close(write)
    if not select.select([read], [], [], CHILD_SECONDS)[0]:  # hung (inside fork() itself, too)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        raise AssertionError(f"the child gave no answer within {CHILD_SECONDS} s")
    with os.fdopen(read) as answer:
        text = answer.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, text
    result = json.loads(text)
    if "error" in result:
        raise AssertionError(f"in the child: {result['error']}")
    return result["ok"]


def frame(tick: airlock.TickScope) -> None:
    with tick:
        pass


def test_a_pending_post_runs_in_the_parent_only() -> None:
    ran: list[str] = []
    tick = airlock.tick_scope()
    tick.post(ran.append, "parent's")

    def child() -> list[Any]:
        pending = tick.pending
        tick.post(ran.append, "child's")
        frame(tick)
        return [pending, ran]

    assert in_child(child) == [0, ["child's"]]
    assert tick.pending == 1
    frame(tick)
    assert ran == ["parent's"]


def test_effects_waiting_between_frames_and_carried_stay_the_parents() -> None:
    ran: list[int] = []
    tick = airlock.tick_scope(max_per_frame=1)
    with tick:
        for i in range(3):
            airlock.enqueue(ran.append, i)
    assert ran == [0] and tick.pending == 2  # two carried

    def child() -> list[Any]:
        frame(tick)
        return [tick.pending, ran, tick.stats.balance_error()]

    assert in_child(child) == [0, [0], None]
    frame(tick)
    frame(tick)
    assert ran == [0, 1, 2]


@contextmanager
def held_by_another_thread(take: Callable[[], Any], give_back: Callable[[], Any]) -> Iterator[None]:
    """While the block runs, another thread holds what ``take`` takes (then ``give_back``),
    as a thread caught inside airlock at the moment of a fork would."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        take()
        holding.set()
        release.wait(10)
        give_back()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def test_a_fork_while_another_thread_holds_the_inbox_lock_leaves_post_working() -> None:
    tick = airlock.tick_scope()
    ran: list[str] = []

    def child() -> list[str]:
        tick.post(ran.append, "after fork")  # would hang on a lock copied while held
        frame(tick)
        return ran

    lock = tick._inbox._lock  # as a thread inside post() at the moment of the fork
    with held_by_another_thread(lock.acquire, lock.release):
        assert in_child(child) == ["after fork"]


def test_a_fork_while_another_thread_holds_the_shift_token_leaves_frames_working() -> None:
    """A thread naming records in place (``intents``) holds the buffers' shift token at the
    moment of the fork: in the child that thread does not exist, and a frame that removes the
    last frame's entries still takes the token."""
    tick = airlock.tick_scope()
    ran: list[int] = []

    def child() -> list[int]:
        for n in range(3):  # each frame after the first removes the last one's entries
            with tick:
                airlock.enqueue(ran.append, n)
        return ran

    with held_by_another_thread(take_token, lambda: put_token(True)):
        assert in_child(child) == [0, 1, 2]
    assert SHIFT_TOKEN == [True]


def test_a_fork_inside_an_open_frame() -> None:
    ran: list[str] = []
    tick = airlock.tick_scope()
    pid_holder: list[int] = []
    with tick:
        airlock.enqueue(ran.append, "before the fork")
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            airlock.enqueue(ran.append, "child's own")
            tick.__exit__(None, None, None)  # the child leaves the frame it was forked in
            with os.fdopen(write, "w") as out:
                json.dump([ran, tick.stats.balance_error()], out)
            os._exit(0)
        os.close(write)
        pid_holder.append(pid)
    with os.fdopen(read) as answer:
        child_saw = json.load(answer)
    os.waitpid(pid_holder[0], 0)
    assert child_saw == [["child's own"], None]
    assert ran == ["before the fork"]


def test_a_fork_inside_a_plain_scope_never_runs_the_parents_effects_twice() -> None:
    ran: list[str] = []
    with airlock.scope():
        airlock.enqueue(ran.append, "parent's")
        with airlock.scope():
            airlock.enqueue(ran.append, "inner parent's")
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                try:
                    airlock.enqueue(ran.append, "child's own")
                    # leave both scopes in the child, as the parent will
                    current = airlock.get_current_scope()
                    assert current is not None
                    current.__exit__(None, None, None)
                    outer = airlock.get_current_scope()
                    assert outer is not None
                    outer.__exit__(None, None, None)
                    result: Any = ran
                except BaseException as exc:
                    result = repr(exc)
                with os.fdopen(write, "w") as out:
                    json.dump(result, out)
                os._exit(0)
            os.close(write)
    with os.fdopen(read) as answer:
        child_saw = json.load(answer)
    os.waitpid(pid, 0)
    assert child_saw == ["child's own"]
    assert ran == ["parent's", "inner parent's"]


@pytest.mark.parametrize("opened_by", ["with", "enter"])
def test_a_frame_open_in_another_thread_does_not_block_the_childs_frames(opened_by: str) -> None:
    """Whether the parent's frame recorded its thread (``tick.enter()``) or not (the inline
    ``with tick:``), the child does not have that thread: its frames open."""
    tick = airlock.tick_scope()
    inside, leave = threading.Event(), threading.Event()

    def hold_a_frame() -> None:
        if opened_by == "enter":
            tick.enter()
            inside.set()
            leave.wait(10)
            tick.exit()
            return
        with tick:
            inside.set()
            leave.wait(10)

    holder = threading.Thread(target=hold_a_frame)
    holder.start()
    inside.wait(10)
    try:
        ran: list[int] = []

        def child() -> list[Any]:
            with tick:  # the parent's frame belongs to a thread the child does not have
                airlock.enqueue(ran.append, 1)
            return [ran, tick.frame >= 1]

        assert in_child(child) == [[1], True]
    finally:
        leave.set()
        holder.join()
