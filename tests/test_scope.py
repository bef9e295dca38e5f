"""Scope lifecycle: buffer until exit, flush on a clean exit, discard on error, or defer."""

from __future__ import annotations

import asyncio

import pytest

import airlock
from airlock import Intent


def effect(log: list[str], tag: str) -> None:
    log.append(tag)


def test_effects_run_only_at_exit_in_fifo_order() -> None:
    log: list[str] = []
    with airlock.scope() as s:
        for tag in "abc":
            airlock.enqueue(effect, log, tag)
        assert log == [] and len(s.intents) == 3
    assert log == ["a", "b", "c"]
    assert s.is_flushed and not s.is_active and not s.is_discarded
    assert (s.stats.enqueued, s.stats.dispatched) == (3, 3)


def test_state_flags_through_the_lifecycle() -> None:
    s = airlock.scope()
    assert not (s.is_active or s.is_flushed or s.is_discarded)
    with s:
        assert s.is_active
    assert s.is_flushed


def test_empty_scope_flushes_with_zero_stats() -> None:
    with airlock.scope() as s:
        pass
    assert s.is_flushed and s.stats.as_dict()["enqueued"] == 0


def test_discard_inside_the_block_drops_everything() -> None:
    log: list[str] = []
    with airlock.scope() as s:
        airlock.enqueue(effect, log, "a")
        s.discard()
        assert airlock.get_current_scope() is None
    assert log == [] and s.is_discarded


class Deferred(airlock.Scope):
    """Never flushes by itself: the caller flushes or discards later."""

    def should_flush(self, error: BaseException | None) -> bool:
        return False


def test_deferred_scope_flushes_when_asked() -> None:
    log: list[str] = []
    with Deferred() as s:
        airlock.enqueue(effect, log, "a")
    assert log == [] and not s.is_flushed and len(s.intents) == 1
    s.flush()
    assert log == ["a"] and s.is_flushed


def test_deferred_scope_can_be_discarded_later() -> None:
    log: list[str] = []
    with Deferred() as s:
        airlock.enqueue(effect, log, "a")
    s.discard()
    assert log == [] and s.is_discarded
    with pytest.raises(airlock.ScopeStateError, match="already discarded"):
        s.flush()


def test_deferred_scope_discards_on_error() -> None:
    log: list[str] = []
    with pytest.raises(ValueError), Deferred() as s:
        airlock.enqueue(effect, log, "a")
        raise ValueError
    assert s.is_discarded


class FlushEvenOnError(airlock.Scope):
    def should_flush(self, error: BaseException | None) -> bool:
        return True


def test_should_flush_can_release_despite_an_error() -> None:
    log: list[str] = []
    with pytest.raises(ValueError), FlushEvenOnError():
        airlock.enqueue(effect, log, "a")
        raise ValueError
    assert log == ["a"]


class Tracing(airlock.Scope):
    """Overrides enter/exit: the inlined fast path must not bypass them."""

    def __init__(self, trace: list[str]) -> None:
        super().__init__()
        self.trace = trace

    def enter(self) -> Tracing:
        self.trace.append("enter")
        return super().enter()

    def exit(self, error: BaseException | None = None) -> None:
        self.trace.append("exit")
        super().exit(error)


def test_overridden_enter_and_exit_are_called() -> None:
    trace: list[str] = []
    with Tracing(trace):
        airlock.enqueue(effect, trace, "effect")
    assert trace == ["enter", "exit", "effect"]


def test_executor_receives_intents_with_their_metadata() -> None:
    seen: list[Intent] = []
    with airlock.scope(executor=seen.append) as s:
        airlock.enqueue(effect, [], "a", _dispatch_options={"queue": "fast"})
        airlock.enqueue(effect, [], "b")
    assert [i.args[1] for i in seen] == ["a", "b"]
    assert seen[0].dispatch_options == {"queue": "fast"}
    assert all(i.scope is s for i in seen)


def test_reentrant_enqueue_into_a_flushed_scope_is_refused() -> None:
    errors: list[BaseException] = []

    def late() -> None:
        try:
            airlock.enqueue(effect, [], "late")
        except airlock.AirlockError as exc:
            errors.append(exc)

    with airlock.scope():
        airlock.enqueue(late)
    assert len(errors) == 1 and isinstance(errors[0], airlock.NoScopeError)


def test_task_that_outlives_its_scope_cannot_enqueue_into_it() -> None:
    async def main() -> None:
        started = asyncio.Event()
        release = asyncio.Event()

        async def worker() -> None:
            started.set()
            await release.wait()
            airlock.enqueue(effect, [], "late")

        with airlock.scope() as s:
            task = asyncio.create_task(worker())
            await started.wait()
        release.set()
        with pytest.raises(airlock.ScopeStateError, match="outlived its scope"):
            await task
        assert s.is_flushed

    asyncio.run(main())


def test_scoped_decorator_runs_each_call_in_a_fresh_scope() -> None:
    log: list[str] = []

    @airlock.scoped
    def handler(tag: str) -> str:
        before = list(log)
        airlock.enqueue(effect, log, tag)
        assert log == before
        return tag.upper()

    assert handler("a") == "A" and handler("b") == "B"
    assert log == ["a", "b"]


def test_scoped_decorator_with_a_policy() -> None:
    log: list[str] = []

    @airlock.scoped(policy=airlock.DropAll())
    def handler() -> None:
        airlock.enqueue(effect, log, "a")

    handler()
    assert log == []


def test_scoped_decorator_on_a_coroutine_function() -> None:
    async def main() -> None:
        log: list[str] = []

        @airlock.scoped
        async def handler() -> None:
            airlock.enqueue(effect, log, "a")
            await asyncio.sleep(0)
            assert log == []

        await handler()
        assert log == ["a"]

    asyncio.run(main())


def test_scope_with_custom_class_argument() -> None:
    with airlock.scope(_cls=Deferred) as s:
        pass
    assert type(s) is Deferred


def test_repr_shows_state_and_size() -> None:
    s = airlock.scope()
    assert repr(s) == "<Scope new intents=0>"
    with s:
        airlock.enqueue(effect, [], "a")
        assert repr(s) == "<Scope active intents=1>"


def test_stats_copy_and_as_dict_are_detached() -> None:
    with airlock.scope() as s:
        airlock.enqueue(effect, [], "a")
    kept = s.stats.copy()
    assert kept.as_dict() == s.stats.as_dict()
    assert set(kept.as_dict()) == {
        "batched", "carried", "coalesced", "discarded", "dispatched", "dropped", "enqueued",
        "failed", "flush_ns",
    }
    assert kept is not s.stats and kept.dispatched == 1
    assert "dispatched=1" in repr(kept)
