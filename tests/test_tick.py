"""Ticks: one reusable scope per frame — counting, reuse, capture, re-entrancy, handoff, budgets."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
import threading
import time
import weakref
from typing import Any

import pytest

import airlock
from airlock import Intent


def effect(log: list[object], tag: object) -> None:
    log.append(tag)


def test_frames_are_counted_and_flushed_at_each_exit() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    assert tick.frame == 0
    for n in range(3):
        with tick as opened:
            assert opened is tick and tick.is_active
            airlock.enqueue(effect, log, n)
            assert log == list(range(n))
        assert tick.frame == n + 1 and not tick.is_active
    assert log == [0, 1, 2]


def test_the_same_object_and_buffer_serve_every_frame() -> None:
    tick = airlock.tick_scope()
    buffer = tick._buffer
    for n in range(3):
        with tick:
            airlock.enqueue(effect, [], n)
            assert tick._buffer is buffer and airlock.get_current_scope() is tick
        assert tick._buffer is buffer and [i.args[1] for i in tick.intents] == [n]


def test_each_tick_has_its_own_frame_methods_and_shares_the_class() -> None:
    first, second = airlock.tick_scope(), airlock.tick_scope()
    assert type(first) is type(second) is airlock.TickScope
    assert first.__enter__ is not second.__enter__
    assert first.__enter__ is first.__enter__  # stored, not bound per access


def test_frames_open_through_exit_stack_and_type_level_calls() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with contextlib.ExitStack() as stack:
        assert stack.enter_context(tick) is tick
        airlock.enqueue(effect, log, "stack")
    assert log == ["stack"] and tick.frame == 1
    with pytest.raises(RuntimeError), contextlib.ExitStack() as stack:
        stack.enter_context(tick)
        airlock.enqueue(effect, log, "discarded")
        raise RuntimeError("boom")
    assert log == ["stack"] and tick.frame == 2 and tick.stats.discarded == 1
    cls = type(tick)
    assert cls.__enter__(tick) is tick  # as unittest.TestCase.enterContext calls them
    airlock.enqueue(effect, log, "type-level")
    cls.__exit__(tick, None, None, None)
    assert log == ["stack", "type-level"] and tick.frame == 3
    tick.__enter__()  # as the pygame GameLoop calls them
    airlock.enqueue(effect, log, "instance-level")
    tick.__exit__(None, None, None)
    assert log[-1] == "instance-level" and tick.frame == 4


def test_a_subclass_that_overrides_enter_and_exit_keeps_them() -> None:
    calls: list[str] = []

    class Traced(airlock.TickScope):
        def __enter__(self) -> Traced:
            calls.append("enter")
            super().__enter__()
            return self

        def __exit__(self, *exc_info: Any) -> None:
            calls.append("exit")
            super().__exit__(*exc_info)

    log: list[object] = []
    tick = Traced()
    for n in range(2):
        with tick:
            airlock.enqueue(effect, log, n)
    assert calls == ["enter", "exit"] * 2 and log == [0, 1] and tick.frame == 2


def test_a_subclass_exit_takes_the_frames_error_or_is_refused_at_class_creation() -> None:
    calls: list[object] = []

    class Counted(airlock.TickScope):
        def exit(self, error: BaseException | None = None) -> None:
            calls.append(error)
            super().exit(error)

    with Counted():
        pass
    assert calls == [None]
    with pytest.raises(TypeError, match=r"define exit\(self, error=None\)"):

        class ScopeStyle(airlock.TickScope):  # Scope's exit(self) cannot end a frame
            def exit(self) -> None:  # type: ignore[override]  # pragma: no cover
                super().exit()


def test_a_dropped_tick_is_collected() -> None:
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, [], 1)
    ref = weakref.ref(tick)
    del tick
    gc.collect()
    assert ref() is None


def test_empty_frames_reset_the_stats() -> None:
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, [], 1)
    assert tick.stats.dispatched == 1
    with tick:
        pass
    assert tick.stats.dispatched == 0 and tick.stats.enqueued == 0


def test_an_exception_discards_the_frame_and_the_next_frame_works() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with pytest.raises(ValueError), tick:
        airlock.enqueue(effect, log, "lost")
        raise ValueError
    assert log == [] and tick.frame == 1
    with tick:
        airlock.enqueue(effect, log, "next")
    assert log == ["next"] and tick.frame == 2


def test_plain_scopes_inside_a_frame_are_captured_by_it() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, log, "a")
        with airlock.scope() as inner:
            airlock.enqueue(effect, log, "b")
        assert log == [] and [i.scope for i in tick.intents] == [tick, inner]
        assert len(tick.captured_intents) == 1
    assert log == ["a", "b"]


def test_a_tick_inside_an_outer_scope_is_captured_by_it() -> None:
    log: list[object] = []
    with airlock.scope() as outer:
        tick = airlock.tick_scope()
        with tick:
            airlock.enqueue(effect, log, "frame")
        assert log == [] and len(outer.captured_intents) == 1
    assert log == ["frame"]


def test_nesting_a_tick_in_itself_is_refused() -> None:
    tick = airlock.tick_scope()
    with tick:
        with pytest.raises(airlock.ScopeStateError, match="cannot be nested in itself"):  # noqa: SIM117
            with tick:
                pass  # pragma: no cover
        assert tick.is_active
    assert tick.frame == 1


def test_flush_on_a_tick_is_refused_saying_to_run_a_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    tick.post(effect, log, "waiting")
    with pytest.raises(airlock.ScopeStateError, match="run a frame"):
        tick.flush()  # before any frame: it would have returned [] and run nothing
    with tick:
        pass
    with pytest.raises(airlock.ScopeStateError, match="run a frame"):
        tick.flush()
    assert log == ["waiting"] and tick.frame == 1


def test_exit_without_an_open_frame_is_refused() -> None:
    with pytest.raises(airlock.ScopeStateError, match="no frame"):
        airlock.tick_scope().exit()


def test_decorator_form_runs_each_call_as_one_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    @tick
    def update(n: int) -> int:
        airlock.enqueue(effect, log, n)
        assert log == list(range(n))
        return n * 10

    assert [update(n) for n in range(3)] == [0, 10, 20]
    assert log == [0, 1, 2] and tick.frame == 3
    assert update.tick is tick  # type: ignore[attr-defined]
    assert update.__name__ == "update"


# -- re-entrancy ------------------------------------------------------------------------------


def test_an_effect_that_enqueues_during_the_flush_lands_in_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def spawn(tag: str) -> None:
        log.append(tag)
        airlock.enqueue(effect, log, tag + "'")

    with tick:
        airlock.enqueue(spawn, "a")
        airlock.enqueue(effect, log, "b")
    assert log == ["a", "b"] and tick.pending == 1
    with tick:
        airlock.enqueue(effect, log, "c")
    assert log == ["a", "b", "a'", "c"] and tick.pending == 0


def test_reentrant_intents_keep_their_options() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def spawn() -> None:
        airlock.enqueue(effect, log, "keyed", _key="k", _name="named")
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(effect, log, "dropped")

    with tick:
        airlock.enqueue(spawn)
    with tick:
        (intent, dropped) = tick.intents
        assert intent.name == "named" and intent.key == "k"
        assert isinstance(dropped.local_policies[0], airlock.DropAll)
        airlock.enqueue(effect, log, "replaces", _key="k")
    assert log == ["replaces"] and tick.stats.coalesced == 1 and tick.stats.dropped == 1


def test_a_scope_opened_by_an_effect_during_the_flush_joins_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def library_call() -> None:
        with airlock.scope():
            airlock.enqueue(effect, log, "from library")

    with tick:
        airlock.enqueue(library_call)
    assert log == [] and tick.pending == 1
    with tick:
        pass
    assert log == ["from library"]


def test_a_task_that_kept_the_frame_context_enqueues_into_the_next_frame() -> None:
    async def main() -> None:
        log: list[object] = []
        tick = airlock.tick_scope()
        go = asyncio.Event()

        async def timer() -> None:
            await go.wait()
            airlock.enqueue(effect, log, "late")

        with tick:
            task = asyncio.create_task(timer())
            airlock.enqueue(effect, log, "now")
        go.set()
        await task
        assert log == ["now"] and tick.pending == 1
        with tick:
            airlock.enqueue(effect, log, "next")
        assert log == ["now", "late", "next"]

    asyncio.run(main())


# -- thread handoff -----------------------------------------------------------------------------


def test_post_from_many_threads_lands_in_the_next_frame_in_arrival_order() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    arrivals: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(w: int) -> None:
        start.wait()
        for n in range(50):
            with lock:  # the lock fixes the arrival order we compare against
                tick.post(effect, log, (w, n))
                arrivals.append((w, n))

    with tick:
        airlock.enqueue(effect, log, "frame 0")
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log == ["frame 0"] and tick.pending == 400
    with tick:
        airlock.enqueue(effect, log, "frame 1")
    assert log == ["frame 0", *arrivals, "frame 1"]
    assert tick.stats.dispatched == 401


def test_post_while_a_frame_is_open_waits_for_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        tick.post(effect, log, "posted")
    assert log == []
    with tick:
        pass
    assert log == ["posted"]


def test_posted_effects_pass_the_next_frames_policy() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(policy=airlock.BlockTasks(["effect"]))
    tick.post(effect, log, "blocked")
    tick.post(log.append, "kept")
    with tick:
        pass
    assert log == ["kept"] and tick.stats.dropped == 1


def test_post_refuses_non_callables() -> None:
    with pytest.raises(TypeError, match="needs a callable task, got 3"):
        airlock.tick_scope().post(3)  # type: ignore[arg-type]


# -- budgets -----------------------------------------------------------------------------------


def test_max_per_frame_carries_the_rest_in_order() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=3)
    with tick:
        for n in range(7):
            airlock.enqueue(effect, log, n)
    assert log == [0, 1, 2]
    assert (tick.stats.dispatched, tick.stats.carried, tick.pending) == (3, 4, 4)
    with tick:
        airlock.enqueue(effect, log, "new")
    assert log == [0, 1, 2, 3, 4, 5]  # carried intents go first
    with tick:
        pass
    assert log == [0, 1, 2, 3, 4, 5, 6, "new"]
    assert tick.pending == 0 and tick.stats.carried == 0


def test_max_flush_ms_stops_dispatching_after_the_deadline() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_flush_ms=1)

    def slow(n: int) -> None:
        time.sleep(0.003)
        log.append(n)

    with tick:
        for n in range(4):
            airlock.enqueue(slow, n)
    assert log == [0]  # at least one intent per frame, then the budget is spent
    assert tick.stats.carried == 3
    frames = 1
    while tick.pending:
        with tick:
            pass
        frames += 1
    assert log == [0, 1, 2, 3] and frames == 4


def test_carried_intents_were_already_filtered() -> None:
    seen: list[str] = []

    class Counting(airlock.Policy):
        def allows(self, intent: Intent) -> bool:
            seen.append(str(intent.args[1]))
            return True

    tick = airlock.tick_scope(policy=Counting(), max_per_frame=1)
    with tick:
        airlock.enqueue(effect, [], "a")
        airlock.enqueue(effect, [], "b")
    with tick:
        pass
    assert seen == ["a", "b"]


def test_close_drains_carry_reentrant_and_posted_work_then_refuses_frames() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=1)

    def spawn() -> None:
        airlock.enqueue(effect, log, "spawned")

    with tick:
        airlock.enqueue(effect, log, 1)
        airlock.enqueue(spawn)
        airlock.enqueue(effect, log, 2)
    with tick:
        pass  # runs spawn; "spawned" waits for the next frame
    tick.post(effect, log, "posted")
    tick.close()  # ignores the budget: everything waiting runs now, in order
    assert log == [1, 2, "spawned", "posted"]
    assert tick.pending == 0
    with pytest.raises(airlock.ScopeStateError, match="closed"), tick:
        pass  # pragma: no cover
    with pytest.raises(airlock.ScopeStateError, match="closed"):
        tick.post(effect, log, "too late")


def test_close_discards_and_reports_what_its_own_last_frame_enqueued(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def spawn() -> None:
        log.append("spawn ran")
        airlock.enqueue(effect, log, "never")

    tick.post(spawn)
    with caplog.at_level(logging.WARNING, logger="airlock"):
        tick.close()
    assert log == ["spawn ran"] and tick.pending == 0
    assert "closed with 1 intent(s) discarded" in caplog.text
    stats = tick.stats  # the last frame's ledger says where it went
    assert (stats.enqueued, stats.dispatched, stats.discarded) == (2, 1, 1)
    assert stats.balance_error() is None


def test_close_while_a_frame_is_open_is_refused() -> None:
    tick = airlock.tick_scope()
    with tick, pytest.raises(airlock.ScopeStateError, match="while frame 0 is open"):
        tick.close()


def test_an_old_context_cannot_enqueue_into_a_closed_tick() -> None:
    import contextvars

    tick = airlock.tick_scope()
    with tick:
        ctx = contextvars.copy_context()
    tick.close()
    with pytest.raises(airlock.ScopeStateError, match="open its own"):
        ctx.run(airlock.enqueue, effect, [], "x")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_per_frame": 0}, ValueError, "max_per_frame must be a positive int"),
        ({"max_per_frame": 2.5}, TypeError, "max_per_frame must be a positive int"),
        ({"max_per_frame": True}, TypeError, "max_per_frame must be a positive int"),
        ({"max_flush_ms": 0}, ValueError, "max_flush_ms must be a positive, finite number"),
        ({"max_flush_ms": float("inf")}, ValueError, "finite"),
        ({"max_flush_ms": float("nan")}, ValueError, "finite"),
        ({"max_flush_ms": "5"}, TypeError, "max_flush_ms must be a positive number"),
        ({"max_flush_ms": False}, TypeError, "max_flush_ms must be a positive number"),
    ],
)
def test_budget_validation(options: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        airlock.tick_scope(**options)
    tick = airlock.tick_scope()
    ((name, value),) = options.items()
    with pytest.raises(error, match=message):
        setattr(tick, name, value)  # the same check when set later
    assert getattr(tick, name) is None


# -- errors ------------------------------------------------------------------------------------


def boom(tag: str) -> None:
    raise RuntimeError(tag)


def test_errors_continue_records_failures_and_dispatches_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[object] = []
    tick = airlock.tick_scope(errors="continue")
    with caplog.at_level(logging.ERROR, logger="airlock"), tick:
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(boom, "b")
        airlock.enqueue(effect, log, "c")
        airlock.enqueue(boom, "d")
    assert log == ["a", "c"]
    stats = tick.stats
    assert (stats.dispatched, stats.failed) == (2, 2)
    assert [(str(i), str(e)) for i, e in stats.failures] == [("boom('b')", "b"), ("boom('d')", "d")]
    assert [r.getMessage() for r in caplog.records] == [
        "airlock: boom('b') failed",
        "airlock: boom('d') failed",
    ]
    with tick:
        pass
    assert tick.stats.failures == [] and tick.stats.failed == 0


def test_errors_continue_on_a_plain_scope_too() -> None:
    log: list[object] = []
    with airlock.scope(errors="continue") as s:
        airlock.enqueue(boom, "a")
        airlock.enqueue(effect, log, "b")
    assert log == ["b"] and s.stats.failed == 1


def test_errors_raise_aborts_the_frame_and_the_next_frame_is_clean() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with pytest.raises(RuntimeError) as info, tick:
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(boom, "b")
        airlock.enqueue(effect, log, "c")
    assert log == ["a"] and tick.frame == 1
    assert [str(i) for i in info.value.undispatched_intents] == ["effect(['a'], 'c')"]  # type: ignore[attr-defined]
    with tick:
        airlock.enqueue(effect, log, "d")
    assert log == ["a", "d"]


def test_kept_stats_copy_survives_the_next_frame() -> None:
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, [], 1)
    kept = tick.stats.copy()
    with tick:
        pass
    assert kept.dispatched == 1 and tick.stats.dispatched == 0


def test_repr() -> None:
    tick = airlock.tick_scope()
    assert repr(tick) == "<TickScope frame=0 new pending=0>"
    with tick:
        assert repr(tick) == "<TickScope frame=0 open pending=0>"
    assert repr(tick) == "<TickScope frame=1 idle pending=0>"


def test_a_frame_does_not_inherit_local_policies_from_an_earlier_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with airlock.scope(), airlock.policy(airlock.DropAll()), tick:
        pass
    with tick:
        airlock.enqueue(effect, log, 1)
        airlock.enqueue(effect, log, 2, _name="named")
    assert log == [1, 2]


# -- coalescing ---------------------------------------------------------------------------------


def test_coalescing_keeps_the_last_per_key_at_its_position() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, log, "redraw 1", _key="redraw")
        airlock.enqueue(effect, log, "sound")
        airlock.enqueue(effect, log, "redraw 2", _key="redraw")
        airlock.enqueue(effect, log, "hud", _key=("hud", 1))
        airlock.enqueue(effect, log, "net")
        airlock.enqueue(effect, log, "redraw 3", _key="redraw")
    assert log == ["sound", "hud", "net", "redraw 3"]
    assert (tick.stats.coalesced, tick.stats.dispatched, tick.stats.enqueued) == (2, 4, 6)


def test_coalescing_is_per_frame_and_across_different_tasks() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    for frame in range(2):
        with tick:
            airlock.enqueue(effect, log, f"a{frame}", _key="k")
            airlock.enqueue(log.append, f"b{frame}", _key="k")
    assert log == ["b0", "b1"]


def test_a_reentrant_keyed_enqueue_coalesces_in_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def request_redraw() -> None:
        airlock.enqueue(effect, log, "from effect", _key="redraw")

    with tick:
        airlock.enqueue(request_redraw)
    with tick:
        airlock.enqueue(effect, log, "from frame", _key="redraw")
    assert log == ["from frame"] and tick.stats.coalesced == 1


def test_fifo_survives_capture_and_filtering() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(policy=airlock.BlockTasks(["blocked"]))
    with tick:
        for n in range(10):
            if n % 3 == 0:
                with airlock.scope():
                    airlock.enqueue(effect, log, n)
            elif n % 3 == 1:
                airlock.enqueue(effect, log, n)
            else:
                airlock.enqueue(effect, log, n, _name="blocked")
    assert log == [0, 1, 3, 4, 6, 7, 9]


def test_a_frame_after_a_failed_plain_flush_is_plain_again() -> None:
    log: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    tick = airlock.tick_scope()
    with pytest.raises(RuntimeError), tick:
        airlock.enqueue(boom)
    with tick:
        airlock.enqueue(log.append, "next")
        assert not tick._buffer.rich
    assert log == ["next"] and tick.stats.failed == 0 and tick.stats.dispatched == 1


def test_a_policy_set_during_the_flush_governs_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def mute() -> None:
        tick.policy = airlock.DropAll()

    with tick:
        airlock.enqueue(mute)
    with tick:
        airlock.enqueue(effect, log, "muted")
    assert log == [] and tick.stats.dropped == 1


@pytest.mark.parametrize("where", ["in the frame's body", "in its flush"])
def test_a_policy_with_on_enqueue_set_during_a_frame_hears_every_later_enqueue(
    where: str,
) -> None:
    """Set while an inline frame is open (or flushing), a policy with an ``on_enqueue`` makes
    the next frames take the hooked path: it hears each of their enqueues."""
    log: list[object] = []
    heard: list[object] = []

    class Hooked(airlock.AllowAll):
        def on_enqueue(self, intent: airlock.Intent) -> None:
            heard.append(intent.args[1])

    tick = airlock.tick_scope()
    for _ in range(2):  # the frames open inline from now on
        with tick:
            pass

    def set_policy() -> None:
        tick.policy = Hooked()

    with tick:
        if where == "in its flush":
            airlock.enqueue(set_policy)
        else:
            set_policy()
    for n in range(3):
        with tick:
            airlock.enqueue(effect, log, n)
    assert log == [0, 1, 2] and heard == [0, 1, 2]


@pytest.mark.parametrize("order_by", [None, lambda intent: 0])
def test_opening_the_tick_from_its_own_flush_is_refused(order_by: object) -> None:
    tick = airlock.tick_scope(order_by=order_by)  # type: ignore[arg-type]
    refused: list[BaseException] = []

    def reopen() -> None:
        try:
            with tick:
                pass
        except airlock.ScopeStateError as exc:
            refused.append(exc)

    with tick:
        airlock.enqueue(reopen)
    assert len(refused) == 1 and "cannot be nested in itself" in str(refused[0])
    with tick:
        pass
    assert tick.frame == 2


@pytest.mark.parametrize("rich", [False, True])
def test_opening_the_tick_from_a_scope_inside_its_own_flush_is_refused(rich: bool) -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def reopen() -> None:
        with airlock.scope():
            try:
                with tick:
                    pass  # pragma: no cover
            except airlock.ScopeStateError as exc:
                log.append(str(exc))

    with tick:
        airlock.enqueue(reopen)
        airlock.enqueue(effect, log, "after", _key="k" if rich else None)
    assert len(log) == 2 and "cannot be nested in itself" in str(log[0]) and log[1] == "after"
    assert tick.frame == 1 and tick.pending == 0 and tick.stats.balance_error() is None
    with tick:
        pass
    assert tick.frame == 2


@pytest.mark.parametrize("rich", [False, True])
def test_close_from_an_effect_of_its_own_frame_is_refused_and_changes_nothing(rich: bool) -> None:
    log: list[object] = []
    tick = airlock.tick_scope()

    def quit_game() -> None:
        with pytest.raises(airlock.ScopeStateError, match="from an effect of its own frame"):
            tick.close()
        log.append("refused")

    with tick:
        airlock.enqueue(effect, log, 1)
        airlock.enqueue(quit_game)
        airlock.enqueue(effect, log, 2, _key="k" if rich else None)
    assert log == [1, "refused", 2] and not tick.is_closed and tick.pending == 0
    stats = tick.stats
    assert (stats.enqueued, stats.dispatched, stats.discarded) == (3, 3, 0)
    assert len(tick.intents) == 3
    tick.close()
    assert tick.is_closed and tick.stats.discarded == 0


def test_stats_of_plain_frames_are_exact() -> None:
    tick = airlock.tick_scope()
    with tick:
        for n in range(3):
            airlock.enqueue(effect, [], n)
    assert tick.stats.as_dict() | {"flush_ns": 0} == airlock.FlushStats().as_dict() | {
        "enqueued": 3, "dispatched": 3
    }
    with tick:
        airlock.enqueue(effect, [], 1, _key="k")  # a rich frame, then a plain one again
        airlock.enqueue(effect, [], 2, _key="k")
    assert (tick.stats.enqueued, tick.stats.coalesced, tick.stats.dispatched) == (2, 1, 1)
    with tick:
        airlock.enqueue(effect, [], 1)
    assert (tick.stats.enqueued, tick.stats.coalesced, tick.stats.dispatched) == (1, 0, 1)


def test_flush_time_is_measured_once_stats_are_read_or_from_the_start_when_timed() -> None:
    untimed = airlock.tick_scope()
    with untimed:
        airlock.enqueue(effect, [], 1)
    assert untimed.stats.flush_ns == 0  # nobody had looked: the clock was not read
    with untimed:
        airlock.enqueue(effect, [], 2)
    assert untimed.stats.flush_ns > 0

    timed = airlock.tick_scope(timed=True)
    with timed:
        airlock.enqueue(effect, [], 1)
    assert timed.stats.flush_ns > 0
    with timed:
        pass
    assert timed.stats.flush_ns == 0  # an empty frame has nothing to time


def test_on_waiting_is_called_for_everything_that_waits_for_the_next_frame() -> None:
    class Waker(airlock.TickScope):
        woken = 0

        def on_waiting(self) -> None:
            type(self).woken += 1

    tick = Waker()
    with tick:
        stale = contextvars.copy_context()
    tick.post(effect, [], "posted")
    stale.run(airlock.enqueue, effect, [], "late")
    assert Waker.woken == 2

    def opens_a_scope() -> None:
        with airlock.scope():
            airlock.enqueue(effect, [], "captured late")

    with tick:
        airlock.enqueue(opens_a_scope)  # its scope flushes during the tick's flush
    # the capture, then the end of a frame that leaves work waiting (a thread's late append
    # may not have announced itself)
    assert Waker.woken == 4 and tick.pending == 1
    with tick:
        pass
    assert tick.pending == 0


# -- posts take enqueue's options and pass its hooks (issue 13, items 4 and 5) -----------------


def test_post_takes_the_enqueue_options() -> None:
    log: list[object] = []
    seen: list[tuple[str, str | None, dict[str, Any]]] = []

    def executor(intent: Intent) -> None:
        seen.append((intent.name, intent.origin, dict(intent.dispatch_options)))
        intent.task(*intent.args, **intent.kwargs)

    tick = airlock.tick_scope(executor=executor)
    tick.post(effect, log, "first", _key="k")
    tick.post(effect, log, "second", _key="k", _name="named", _origin="worker",
              _dispatch_options={"priority": 1})
    with tick:
        pass
    assert log == ["second"] and tick.stats.coalesced == 1
    assert seen == [("named", "worker", {"priority": 1})]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"_key": {}}, "_key must be hashable"), ({"_name": 3}, "_name must be a string"),
     ({"_dispatch_options": 1}, "_dispatch_options must be a dict")],
)
def test_post_refuses_bad_options_at_the_call(options: dict[str, Any], message: str) -> None:
    tick = airlock.tick_scope()
    with pytest.raises(TypeError, match=message):
        tick.post(effect, [], "x", **options)
    assert tick.pending == 0


def test_post_takes_batch_effects() -> None:
    calls: list[list[object]] = []
    send = airlock.batch(calls.append)
    tick = airlock.tick_scope()
    tick.post(send, 1)
    tick.post(send, 2)
    with tick:
        airlock.enqueue(send, 3)
    assert calls == [[1, 2, 3]]


def test_every_door_passes_the_enqueue_hooks_exactly_once() -> None:
    class Counting(airlock.Policy):
        def __init__(self) -> None:
            self.seen: list[object] = []

        def on_enqueue(self, intent: Intent) -> None:
            self.seen.append(intent.args[1])

    class Watching(airlock.Observer):
        def __init__(self) -> None:
            self.enqueued_tags: list[object] = []
            self.dispatched_tags: list[object] = []

        def enqueued(self, intent: Intent) -> None:
            self.enqueued_tags.append(intent.args[1])

        def dispatched(self, intent: Intent) -> None:
            self.dispatched_tags.append(intent.args[1])

    log: list[object] = []
    policy, observer = Counting(), Watching()
    tick = airlock.tick_scope(policy=policy, observers=[observer], max_per_frame=2)
    with tick:
        stale = contextvars.copy_context()
        for tag in ("a", "b", "c"):  # c is carried by the budget
            airlock.enqueue(effect, log, tag)
    stale.run(airlock.enqueue, effect, log, "between frames")
    tick.post(effect, log, "posted")
    while tick.pending:
        with tick:
            pass
    tags = ["a", "b", "c", "between frames", "posted"]
    assert log == tags
    assert policy.seen == observer.enqueued_tags == observer.dispatched_tags == tags


def test_a_post_refused_by_the_policy_raises_where_it_is_posted() -> None:
    tick = airlock.tick_scope(policy=airlock.BlockTasks({"effect"}, raise_on_enqueue=True))
    with pytest.raises(airlock.PolicyViolation, match="blocked"):
        tick.post(effect, [], "x")
    assert tick.pending == 0  # nothing waits for a frame to drop it quietly


def test_a_policy_cannot_enqueue_from_a_posts_hook() -> None:
    class Sneaky(airlock.Policy):
        def on_enqueue(self, intent: Intent) -> None:
            airlock.enqueue(effect, [], "sneaked")

    tick = airlock.tick_scope(policy=Sneaky())
    with pytest.raises(airlock.PolicyEnqueueError):
        tick.post(effect, [], "x")


# -- the last frame's intents stay readable until the next frame opens (issue 14, item 1) ---------


def test_the_last_frames_intents_stay_readable_until_the_next_frame_opens() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, log, "own")
        with airlock.scope() as inner:
            airlock.enqueue(effect, log, "captured")
    assert [i.args[1] for i in tick.intents] == ["own", "captured"]
    assert [i.args[1] for i in tick.own_intents] == ["own"]
    ((captured),) = tick.captured_intents
    assert captured.args[1] == "captured" and captured.scope is inner
    with tick:
        assert tick.intents == []  # the open frame's, not the last one's
        airlock.enqueue(effect, log, "keyed", _key="k")  # a rich frame
    assert [i.key for i in tick.intents] == ["k"]
    with pytest.raises(RuntimeError), tick:
        airlock.enqueue(effect, log, "discarded")
        raise RuntimeError("frame failed")
    assert [i.args[1] for i in tick.intents] == ["discarded"]
    assert log == ["own", "captured", "keyed"]


def test_the_last_frames_intents_are_released_when_the_next_frame_opens_or_at_once() -> None:
    class Payload:
        pass

    def frame_holding(tick: airlock.TickScope) -> weakref.ref[Payload]:
        payload = Payload()
        with tick:
            airlock.enqueue(effect, [], payload)
        return weakref.ref(payload)

    kept = airlock.tick_scope()
    ref = frame_holding(kept)
    gc.collect()
    assert ref() is not None and kept.intents[0].args[1] is ref()
    with kept:
        pass
    gc.collect()
    assert ref() is None and kept.intents == []

    released = airlock.tick_scope(keep_intents=False)
    ref = frame_holding(released)
    gc.collect()
    assert ref() is None and released.intents == []


def test_a_should_flush_that_raises_discards_the_frame_and_leaves_the_tick_usable() -> None:
    class Picky(airlock.TickScope):
        def should_flush(self, error: BaseException | None) -> bool:
            raise LookupError("cannot decide")

    log: list[object] = []
    tick = Picky()
    with pytest.raises(LookupError), tick:
        airlock.enqueue(effect, log, "never")
    assert log == [] and tick.stats.discarded == 1 and airlock.get_current_scope() is None
    assert tick.stats.balance_error() is None and tick.frame == 1


def test_is_closed_says_whether_close_has_run() -> None:
    tick = airlock.tick_scope()
    with tick:
        pass
    assert not tick.is_closed
    tick.close()
    assert tick.is_closed


def test_discard_inside_a_plain_frame_counts_in_that_frame_only() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, log, "dropped")
        assert [i.args[1] for i in tick.discard()] == ["dropped"]
        airlock.enqueue(effect, log, "kept")
    stats = tick.stats
    assert log == ["kept"]
    assert (stats.enqueued, stats.discarded, stats.dispatched) == (2, 1, 1)
    assert stats.balance_error() is None
    with tick:
        airlock.enqueue(effect, log, "next", _key="k")  # a general frame
    assert (tick.stats.enqueued, tick.stats.discarded, tick.stats.dispatched) == (1, 0, 1)
    with tick:
        airlock.enqueue(effect, log, "emptied")
        tick.discard()
    assert (tick.stats.enqueued, tick.stats.discarded) == (1, 1)
    assert log == ["kept", "next"] and tick.stats.balance_error() is None


def test_discard_from_outside_the_frame_is_refused_and_the_frame_goes_on() -> None:
    """Another thread's ``discard()`` would race the frame's end: it is refused, and the
    frame ends as usual."""
    log: list[object] = []
    tick = airlock.tick_scope()
    refused: list[BaseException] = []

    def discard_from_a_thread() -> None:
        try:
            tick.discard()
        except airlock.ScopeStateError as exc:
            refused.append(exc)

    with tick:
        airlock.enqueue(effect, log, "kept")
        thread = threading.Thread(target=discard_from_a_thread)
        thread.start()
        thread.join(10)
    assert len(refused) == 1 and "outside its open frame" in str(refused[0])
    assert log == ["kept"] and tick.stats.balance_error() is None
    with tick:
        pass
    assert tick.frame == 2


def test_a_general_frame_does_not_turn_on_timing_nobody_asked_for() -> None:
    untimed = airlock.tick_scope()
    with untimed:
        airlock.enqueue(effect, [], 1, _key="k")  # a general flush (coalescing) dispatches it
    with untimed:
        airlock.enqueue(effect, [], 2)  # a plain frame
    assert untimed.stats.flush_ns == 0  # still nobody had looked: the clock was not read


def test_post_takes_a_task_object_as_enqueue_does() -> None:
    class TaskObject:  # not callable: its executor sends it (as a Django 6 @task)
        def __init__(self) -> None:
            self.sent: list[object] = []

        def enqueue(self, *args: object) -> None:
            self.sent.append(args)

    task = TaskObject()
    tick = airlock.tick_scope(executor=lambda intent: intent.task.enqueue(*intent.args))
    tick.post(task, "posted")
    with tick:
        airlock.enqueue(task, "enqueued")
    assert task.sent == [("posted",), ("enqueued",)]
    with pytest.raises(TypeError, match="callable task"):
        tick.post(object())


def test_a_tick_that_orders_by_phase_and_continues_runs_its_frames_inline() -> None:
    """Issue 15: such a tick (a GameLoop's) keeps the inline frame; the pipeline runs at close."""
    from airlock._frame import GENERAL

    log: list[str] = []

    @airlock.phase("sound")
    def play(name: str) -> None:
        log.append(f"sound {name}")

    @airlock.phase("draw")
    def draw(name: str) -> None:
        log.append(f"draw {name}")

    def boom() -> None:
        raise RuntimeError("boom")

    tick = airlock.tick_scope(order_by=airlock.by_phase("draw", "sound"), errors="continue")
    for frame in range(3):
        with tick:
            airlock.enqueue(play, f"hit{frame}")
            airlock.enqueue(draw, f"ship{frame}")
        assert tick._inline != GENERAL
    assert log == [f"{kind} {what}{n}" for n in range(3)
                   for kind, what in (("draw", "ship"), ("sound", "hit"))]
    logging.disable(logging.ERROR)
    try:
        with tick:
            airlock.enqueue(boom)
            airlock.enqueue(draw, "after")
    finally:
        logging.disable(logging.NOTSET)
    assert log[-1] == "draw after" and tick.stats.failed == 1
    assert tick.stats.balance_error() is None


def _enqueue_then_fail() -> None:
    airlock.enqueue(effect, [], "for the next frame")
    raise RuntimeError("the frame fails")


@pytest.mark.parametrize("frame", ["keyed", "failing", "holding"])
def test_a_frames_stats_say_what_waits_for_the_next_frame(frame: str) -> None:
    """``stats.pending`` after any frame is what waits for the next ones (as ``tick.pending``
    says): after a frame that ran the pipeline, one that failed, one that held effects."""
    tick = airlock.tick_scope()
    for _ in range(2):  # the frames open inline from now on
        with tick:
            pass
    if frame == "keyed":  # its effect enqueues for the next frame
        with tick:
            airlock.enqueue(airlock.enqueue, effect, [], "next", _key="k")
    elif frame == "failing":
        with contextlib.suppress(RuntimeError), tick:
            airlock.enqueue(_enqueue_then_fail)
    else:
        held = airlock.debounce(5)(effect)
        with tick:
            airlock.enqueue(held, [], 1, _key="a")
            airlock.enqueue(held, [], 2, _key="b")
    expected = 2 if frame == "holding" else 1
    assert tick.pending == expected and tick.stats.pending == expected
    tick.close()  # (what waits runs, or is discarded and counted: nothing left unclosed)


def test_a_tick_subclass_with_its_own_flush_methods_has_them_called() -> None:
    """A subclass overriding ``_run_plain`` or ``_release`` takes the general frame, which
    calls them, on both cores (review: the compiled inline frame did their work itself)."""
    calls: list[str] = []

    class OwnPlain(airlock.TickScope):
        def _run_plain(self, *args: Any) -> Any:
            calls.append("_run_plain")
            return super()._run_plain(*args)

    class OwnRelease(airlock.TickScope):
        def _release(self, want_intents: bool = False) -> Any:
            calls.append("_release")
            return super()._release(want_intents)

    class OwnMaterialize(airlock.TickScope):  # (second review: skipped on a watched tick)
        def _materialize(self) -> Any:
            calls.append("_materialize")
            return super()._materialize()

    class Watches(airlock.Observer):
        def dispatched(self, intent: airlock.Intent) -> None:
            pass

    ran: list[int] = []
    for cls in (OwnPlain, OwnRelease, OwnMaterialize):
        tick = cls(observers=[Watches()]) if cls is OwnMaterialize else cls()
        for frame in range(2):
            with tick:  # (keyed: a frame that runs the pipeline on Intents)
                airlock.enqueue(ran.append, frame, _key="k" if cls is OwnMaterialize else None)
        tick.close()
    assert ran == [0, 1] * 3
    assert [calls.count(name) >= 2 for name in ("_run_plain", "_release", "_materialize")] == [
        True, True, True]


def test_a_context_that_inherited_the_tick_may_close_it_between_frames() -> None:
    """An effect's context, copied into a task that runs later (the asyncio executor's), has
    the tick as its current scope; between frames it may close the tick (review: it was
    refused "from an effect of its own frame"). An effect itself is still refused."""
    tick = airlock.TickScope()
    kept: list[contextvars.Context] = []
    refused: list[str] = []

    def effect() -> None:
        kept.append(contextvars.copy_context())
        try:
            tick.close()
        except airlock.ScopeStateError as error:
            refused.append(str(error))

    with tick:
        airlock.enqueue(effect)
    assert "from an effect of its own frame" in refused[0] and not tick.is_closed
    ran: list[int] = []
    tick.post(ran.append, 1)
    kept[0].run(tick.close)  # later, between frames: the last frame runs what waits
    assert tick.is_closed and ran == [1]


def test_a_frame_opened_in_a_context_that_inherited_the_tick_runs_its_own_effects() -> None:
    """The frame does not nest in its own tick (it captured its intents into itself: they
    ran a frame late, or were discarded by a close)."""
    tick = airlock.TickScope()
    kept: list[contextvars.Context] = []
    with tick:
        airlock.enqueue(lambda: kept.append(contextvars.copy_context()))
    ran: list[int] = []

    def frame() -> None:
        with tick:
            airlock.enqueue(ran.append, 1)
        assert ran == [1] and tick.stats.captured == 0

    kept[0].run(frame)
    tick.close()
