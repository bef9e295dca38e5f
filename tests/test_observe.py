"""Observers see each intent's fate: enqueued, coalesced, dropped, dispatched, failed, discarded."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock import Intent, Scope
from airlock._observe import ObserverSet
from airlock._states import GENERAL


class Log(airlock.Observer):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def enqueued(self, intent: Intent) -> None:
        self.events.append(("enqueued", str(intent)))

    def coalesced(self, intent: Intent) -> None:
        self.events.append(("coalesced", str(intent)))

    def dropped(self, intent: Intent) -> None:
        self.events.append(("dropped", str(intent)))

    def dispatched(self, intent: Intent) -> None:
        self.events.append(("dispatched", str(intent)))

    def failed(self, intent: Intent, error: BaseException) -> None:
        self.events.append(("failed", f"{intent}: {error}"))

    def discarded(self, intent: Intent) -> None:
        self.events.append(("discarded", str(intent)))

    def flushed(self, scope: Scope) -> None:
        self.events.append(("flushed", f"dispatched={scope.stats.dispatched}"))


def fx(tag: str) -> None:
    """An effect that does nothing."""


def fail(tag: str) -> None:
    raise ValueError(tag)


def test_a_frame_reports_every_fate_in_order() -> None:
    log = Log()
    tick = airlock.tick_scope(
        policy=airlock.BlockTasks(["blocked"]), errors="continue", observers=[log]
    )
    with tick:
        airlock.enqueue(fx, "k1", _key="k")
        airlock.enqueue(fx, "b", _name="blocked")
        airlock.enqueue(fail, "f")
        airlock.enqueue(fx, "k2", _key="k")
    assert log.events == [
        ("enqueued", "fx('k1')"),
        ("enqueued", "blocked('b')"),
        ("enqueued", "fail('f')"),
        ("enqueued", "fx('k2')"),
        ("coalesced", "fx('k1')"),
        ("dropped", "blocked('b')"),
        ("failed", "fail('f'): f"),
        ("dispatched", "fx('k2')"),
        ("flushed", "dispatched=1"),
    ]


def test_a_failed_frame_reports_discarded_intents() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])
    with pytest.raises(KeyError), tick:
        airlock.enqueue(fx, "a")
        raise KeyError
    assert log.events == [
        ("enqueued", "fx('a')"),
        ("discarded", "fx('a')"),
        ("flushed", "dispatched=0"),
    ]


def test_every_frame_reports_flushed_even_an_empty_one() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])
    for _ in range(3):
        with tick:
            pass
    assert log.events == [("flushed", "dispatched=0")] * 3


def test_plain_scope_observers_see_intent_fates() -> None:
    log = Log()
    with airlock.scope(policy=airlock.DropAll(), observers=[log]):
        airlock.enqueue(fx, "a")
    assert log.events[:2] == [("enqueued", "fx('a')"), ("dropped", "fx('a')")]


def test_a_raising_frame_reports_the_failure() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])
    with pytest.raises(ValueError), tick:
        airlock.enqueue(fail, "x")
        airlock.enqueue(fx, "never")
    assert ("failed", "fail('x'): x") in log.events
    assert not any(kind == "dispatched" for kind, _ in log.events)


def test_observers_see_reentrant_enqueues_when_they_happen() -> None:
    log = Log()
    tick = airlock.tick_scope(observers=[log])

    def spawn() -> None:
        airlock.enqueue(fx, "next")

    with tick:
        airlock.enqueue(spawn)
    assert ("enqueued", "fx('next')") in log.events
    log.events.clear()
    with tick:
        pass
    assert log.events == [("dispatched", "fx('next')"), ("flushed", "dispatched=1")]


def test_the_base_observer_does_nothing() -> None:
    base = airlock.Observer()
    tick = airlock.tick_scope(observers=[base])
    with tick:
        airlock.enqueue(fx, "a")
    assert tick.stats.dispatched == 1


def test_a_plain_scope_reports_flushed() -> None:
    log = Log()
    with airlock.scope(observers=[log]):
        airlock.enqueue(fx, "a")
    assert log.events[-1] == ("flushed", "dispatched=1")


class Raising(airlock.Observer):
    """Raises from the hooks named in ``broken``."""

    def __init__(self, *broken: str, error: type[BaseException] = RuntimeError) -> None:
        self.broken = set(broken)
        self.error = error

    def _maybe(self, hook: str) -> None:
        if hook in self.broken:
            raise self.error(f"observer {hook} broke")

    def enqueued(self, intent: Intent) -> None:
        self._maybe("enqueued")

    def coalesced(self, intent: Intent) -> None:
        self._maybe("coalesced")

    def dropped(self, intent: Intent) -> None:
        self._maybe("dropped")

    def dispatched(self, intent: Intent) -> None:
        self._maybe("dispatched")

    def failed(self, intent: Intent, error: BaseException) -> None:
        self._maybe("failed")

    def discarded(self, intent: Intent) -> None:
        self._maybe("discarded")

    def flushed(self, scope: Scope) -> None:
        self._maybe("flushed")


def test_a_raising_observer_loses_nothing_under_continue(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 13.3: O.dispatched raising used to drop the rest of the frame."""
    log: list[int] = []
    tick = airlock.tick_scope(observers=[Raising("dispatched")], errors="continue")
    with caplog.at_level("ERROR", logger="airlock"), tick:
        for n in range(4):
            airlock.enqueue(log.append, n)
    assert log == [0, 1, 2, 3] and tick.pending == 0
    assert (tick.stats.dispatched, tick.stats.hook_errors) == (4, 4)
    assert tick.stats.balance_error() is None
    reports = [r for r in caplog.records if "observer" in r.getMessage()]
    assert len(reports) == 1 and "Raising.dispatched" in reports[0].getMessage()  # once per frame


def test_a_raising_observer_surfaces_after_the_frame_under_raise() -> None:
    log: list[int] = []
    tick = airlock.tick_scope(observers=[Raising("dispatched")])
    with pytest.raises(RuntimeError, match="observer dispatched broke") as info, tick:
        for n in range(4):
            airlock.enqueue(log.append, n)
    assert log == [0, 1, 2, 3] and tick.pending == 0
    assert info.value.undispatched_intents == []  # type: ignore[attr-defined]
    assert (tick.stats.dispatched, tick.stats.balance_error()) == (4, None)


@pytest.mark.parametrize(
    "hook", ["enqueued", "coalesced", "dropped", "dispatched", "failed", "flushed"]
)
def test_no_observer_hook_can_stop_a_plain_scope(hook: str) -> None:
    log: list[str] = []

    def boom() -> None:
        raise ValueError("effect failed")

    scope = Scope(
        policy=airlock.BlockTasks({"blocked"}), observers=[Raising(hook)], errors="continue"
    )
    with scope:
        airlock.enqueue(log.append, "a", _key="k")
        airlock.enqueue(log.append, "b", _key="k")
        airlock.enqueue(log.append, "c", _name="blocked")
        airlock.enqueue(boom)
        airlock.enqueue(log.append, "d")
    assert log == ["b", "d"]
    stats = scope.stats
    assert (stats.coalesced, stats.dropped, stats.failed, stats.dispatched) == (1, 1, 1, 2)
    assert stats.hook_errors >= 1 and stats.balance_error() is None


def test_a_raising_discarded_hook_still_discards_everything() -> None:
    scope = Scope(observers=[Raising("discarded")], errors="continue")
    with pytest.raises(KeyError), scope:
        airlock.enqueue(fx, "a")
        airlock.enqueue(fx, "b")
        raise KeyError
    assert scope.stats.discarded == 2 and scope.stats.hook_errors == 2


def test_an_interrupt_in_an_observer_waits_for_the_end_of_the_flush() -> None:
    log: list[int] = []
    tick = airlock.tick_scope(
        observers=[Raising("dispatched", error=KeyboardInterrupt)], errors="continue"
    )
    with pytest.raises(KeyboardInterrupt), tick:
        for n in range(3):
            airlock.enqueue(log.append, n)
    assert log == [0, 1, 2] and tick.stats.balance_error() is None


@pytest.mark.parametrize(
    "options",
    [{}, {"errors": "continue"}, {"observers": [Log()]}, {"executor": airlock.Scope().executor}],
)
def test_keyboard_interrupt_from_an_effect_is_one_failure_everywhere(
    options: dict[str, object],
) -> None:
    """Issue 13.13: stats.failed and Observer.failed no longer depend on the configuration."""
    log: list[str] = []
    seen = Log()

    def interrupt() -> None:
        raise KeyboardInterrupt

    for make in (airlock.tick_scope, Scope):
        scope = make(**{**options, "observers": [*options.get("observers", ()), seen]})  # type: ignore[arg-type]
        with pytest.raises(KeyboardInterrupt) as info, scope:
            airlock.enqueue(log.append, "before")
            airlock.enqueue(interrupt)
            airlock.enqueue(log.append, "after")
        stats = scope.stats
        assert (stats.dispatched, stats.failed, stats.undispatched) == (1, 1, 1)
        assert stats.balance_error() is None
        assert [str(i) for i in info.value.undispatched_intents] == ["append('after')"]  # type: ignore[attr-defined]
        assert ("failed", "interrupt(): ") in seen.events
        assert log == ["before"]
        log.clear()
        seen.events.clear()


def test_keyboard_interrupt_on_the_plain_path_counts_the_same() -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    for scope in (airlock.tick_scope(), Scope()):
        with pytest.raises(KeyboardInterrupt), scope:
            airlock.enqueue(fx, "before")
            airlock.enqueue(interrupt)
            airlock.enqueue(fx, "after")
        stats = scope.stats
        assert (stats.dispatched, stats.failed, stats.undispatched) == (1, 1, 1)
        assert stats.balance_error() is None


def test_an_effects_error_is_not_replaced_by_an_observers() -> None:
    def boom() -> None:
        raise ValueError("the effect failed")

    for scope in (Scope(observers=[Raising("enqueued")]),
                  airlock.tick_scope(observers=[Raising("enqueued")])):
        with pytest.raises(ValueError, match="the effect failed"), scope:
            airlock.enqueue(fx, "a")
            airlock.enqueue(boom)
        assert scope.stats.hook_errors == 2 and scope.stats.balance_error() is None


class FlushedOnly(airlock.Observer):
    """Watches frames, not intents."""

    def __init__(self) -> None:
        self.frames = 0

    def flushed(self, scope: Scope) -> None:
        self.frames += 1


def test_an_observer_of_flushes_only_keeps_the_plain_paths_and_hears_every_frame() -> None:
    observer = FlushedOnly()
    tick = airlock.tick_scope(observers=[observer])
    for _ in range(3):
        with tick:
            airlock.enqueue(fx, "a")
            assert tick._accepting  # the fast path: no Intent per enqueue
    assert observer.frames == 3
    assert all(type(entry) is tuple for entry in tick._buffer)
    assert not airlock._observe.watches_intents((observer,))
    assert airlock._observe.watches_intents((Log(),))


def test_an_observer_that_overrides_nothing_leaves_a_tick_its_inline_frames() -> None:
    """Nothing of it would be called: the frames stay the common (compiled) ones; an observer
    of flushes keeps the general frame end, which calls its ``flushed``."""
    quiet, hearing = airlock.tick_scope(observers=[airlock.Observer()]), airlock.tick_scope(
        observers=[FlushedOnly()]
    )
    for tick in (quiet, hearing):
        with tick:
            airlock.enqueue(fx, "a", _key="k")
    assert quiet._inline != GENERAL and hearing._inline == GENERAL
    assert not ObserverSet((airlock.Observer(),)).hears_flushes
    assert ObserverSet((FlushedOnly(),)).hears_flushes and ObserverSet((Log(),)).hears_flushes
    assert quiet.stats.dispatched == hearing.stats.dispatched == 1


class _RaisesOnFailed(airlock.Observer):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def failed(self, intent: Intent, error: BaseException) -> None:
        raise self.error


def test_a_background_failure_reaches_every_observer_of_the_intents_scope(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 21: work that fails after its flush (a task, a thread) is told to the scope's
    observers; one that raises is logged and does not hide it from the others."""
    log = Log()
    scope = airlock.scope(observers=[_RaisesOnFailed(RuntimeError("overlay")), log])
    with scope:
        airlock.enqueue(fx, "save")
    intent = scope.intents[0]
    airlock.report_background_failure(intent, TimeoutError("late"))
    assert log.events[-1] == ("failed", "fx('save'): late")
    assert "_RaisesOnFailed.failed raised when told about fx('save') after its flush" in caplog.text
    airlock.report_background_failure(Intent(fx, ("orphan",)), ValueError())  # no scope: no-op


def test_a_background_failure_skips_observers_that_do_not_define_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As during a flush: ``Observer``'s do-nothing ``failed`` is never called."""
    called: list[Intent] = []
    monkeypatch.setattr(airlock.Observer, "failed",
                        lambda self, intent, error: called.append(intent))

    class OnlyFlushed(airlock.Observer):
        def flushed(self, scope: airlock.Scope) -> None:
            pass

    log = Log()
    scope = airlock.scope(observers=[OnlyFlushed(), log])
    with scope:
        airlock.enqueue(fx, "save")
    airlock.report_background_failure(scope.intents[0], TimeoutError("late"))
    assert called == [] and log.events[-1] == ("failed", "fx('save'): late")


def test_an_observer_interrupt_during_a_background_report_is_raised_after_all_heard() -> None:
    log = Log()
    scope = airlock.scope(observers=[_RaisesOnFailed(KeyboardInterrupt()), log])
    with scope:
        airlock.enqueue(fx, "save")
    with pytest.raises(KeyboardInterrupt):
        airlock.report_background_failure(scope.intents[0], TimeoutError("late"))
    assert log.events[-1] == ("failed", "fx('save'): late")


def test_an_observer_set_tells_every_observer_and_reports_errors_once() -> None:
    """``ObserverSet`` alone: errors are kept during the flush, counted and raised at its end."""
    from airlock._observe import ObserverSet

    heard: list[tuple[str, object]] = []

    class Hears(airlock.Observer):
        def dispatched(self, intent: Intent) -> None:
            heard.append(("hears", intent))

    class Breaks(airlock.Observer):
        def dispatched(self, intent: Intent) -> None:
            raise ValueError("observer broke")

    observing = ObserverSet((Breaks(), Hears(), Breaks()))
    assert observing.watching
    observing.tell("dispatched", "i1")
    observing.tell("dispatched", "i2")
    assert heard == [("hears", "i1"), ("hears", "i2")]  # the others heard despite the errors
    scope = airlock.scope(errors="continue")
    observing.flushed(scope, failing=False)  # continue: counted and logged, not raised
    assert scope.stats.hook_errors == 4
    observing.tell("dispatched", "i3")
    with pytest.raises(ValueError, match="observer broke"):
        observing.flushed(airlock.scope(), failing=False)  # raise: the first error surfaces
    observing.flushed(airlock.scope(), failing=False)  # reported once: nothing left
    assert not ObserverSet((airlock.Observer(),)).watching


class DispatchedOnly(airlock.Observer):
    def __init__(self) -> None:
        self.seen: list[object] = []

    def dispatched(self, intent: Intent) -> None:
        self.seen.append(intent.args)


@pytest.mark.parametrize("frames", ["tick", "scope"])
def test_an_observer_hears_only_the_hooks_it_defines(
    monkeypatch: pytest.MonkeyPatch, frames: str
) -> None:
    """A hook an observer inherits from ``Observer`` does nothing, so it is never called:
    which hooks it defines is read when the scope is made (a spy on the base class shows it)."""
    inherited: list[str] = []
    observer = DispatchedOnly()
    for hook in ("enqueued", "coalesced", "dispatched", "flushed"):
        monkeypatch.setattr(airlock.Observer, hook,
                            lambda self, *args, hook=hook: inherited.append(hook))
    tick = airlock.tick_scope(observers=[observer])
    for n in range(3):
        with tick if frames == "tick" else airlock.scope(observers=[observer]):
            airlock.enqueue(fx, n)
            airlock.enqueue(fx, "k", _key="k")
            airlock.enqueue(fx, "k2", _key="k")  # coalesces the one before
    assert observer.seen == [(0,), ("k2",), (1,), ("k2",), (2,), ("k2",)]
    assert inherited == []


def test_an_observers_own_hook_set_on_the_instance_is_heard() -> None:
    """A hook assigned to the observer object before its scope is made counts as its own."""
    heard: list[object] = []
    observer = airlock.Observer()
    observer.enqueued = lambda intent: heard.append(("enqueued", intent.args))  # type: ignore[method-assign]
    tick = airlock.tick_scope(observers=[observer])
    with tick:
        airlock.enqueue(fx, 1)
    assert heard == [("enqueued", (1,))]


def test_an_object_that_is_not_an_observer_hears_every_hook() -> None:
    heard: list[str] = []

    class Duck:
        def __getattr__(self, hook: str) -> object:
            return lambda *args: heard.append(hook)

    with airlock.tick_scope(observers=[Duck()]) as tick:
        airlock.enqueue(fx, 1)
    assert heard == ["enqueued", "dispatched", "flushed"]
    tick.close()


def test_a_hook_that_raises_is_reported_under_its_observers_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Breaks(airlock.Observer):
        def dispatched(self, intent: Intent) -> None:
            raise ValueError("broke")

    tick = airlock.tick_scope(errors="continue", observers=[Breaks(), DispatchedOnly()])
    with tick:
        airlock.enqueue(fx, 1)
    assert tick.stats.dispatched == 1 and tick.stats.hook_errors == 1
    assert "Breaks.dispatched" in caplog.text


def test_a_hook_an_observer_defines_is_looked_up_at_each_call() -> None:
    """Patching an observer's own hook after its scope is made (a test's spy) is heard."""
    observer = DispatchedOnly()
    tick = airlock.tick_scope(observers=[observer])
    spied: list[object] = []
    observer.dispatched = lambda intent: spied.append(intent.args)  # type: ignore[method-assign]
    with tick:
        airlock.enqueue(fx, 1)
    assert spied == [(1,)] and observer.seen == []


@pytest.mark.parametrize("make", [airlock.scope, airlock.tick_scope], ids=["scope", "tick"])
def test_an_observer_error_while_a_failed_block_is_discarded_never_replaces_its_error(
    make: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    """The ``with`` block raised, so its effects are discarded and its observers told so; one
    of them raises too (``errors="raise"``, the default). The block's own error reaches the
    caller; the observer's is logged and counted."""

    class Failing(airlock.Observer):
        def discarded(self, intent: airlock.Intent) -> None:
            raise RuntimeError("observer bug")

    scope = make(observers=[Failing()])
    with pytest.raises(KeyError, match="the application's error"), scope:
        airlock.enqueue(print, "never")
        raise KeyError("the application's error")
    assert scope.stats.hook_errors == 1 and scope.stats.discarded == 1
    assert "observer bug" in caplog.text


def test_an_observer_error_while_close_discards_the_leftovers_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``close()`` discards what still waits (a held effect) after its last frame: an
    observer that raises in ``discarded`` then is logged, not left unreported."""

    class Failing(airlock.Observer):
        def discarded(self, intent: airlock.Intent) -> None:
            raise RuntimeError("overlay crashed in discarded")

    tick = airlock.tick_scope(observers=[Failing()], clock=lambda: 0.0)
    with tick:
        airlock.enqueue(airlock.debounce(5)(print), "held")
    tick.close()
    assert tick.stats.discarded == 1 and tick.pending == 0
    assert "overlay crashed in discarded" in caplog.text


def test_an_observers_interrupt_at_close_never_replaces_the_last_frames_error() -> None:
    """``close()``'s last frame fails (an effect raises; the rest is undispatched), then the
    held leftovers are discarded and an observer raises ``KeyboardInterrupt`` in
    ``discarded``: the frame's error reaches the caller, with its undispatched intents."""

    class Interrupting(airlock.Observer):
        def discarded(self, intent: airlock.Intent) -> None:
            raise KeyboardInterrupt("observer broke")

    def fail() -> None:
        raise ValueError("the effect failed")

    ran: list[object] = []
    tick = airlock.tick_scope(observers=[Interrupting()], clock=lambda: 0.0)
    tick.post(fail)
    tick.post(ran.append, "undispatched")
    tick.post(airlock.debounce(5)(ran.append), "held")
    with pytest.raises(ValueError, match="the effect failed") as raised:
        tick.close()
    assert [i.args for i in raised.value.undispatched_intents] == [  # type: ignore[attr-defined]
        ("undispatched",)]
    assert tick.is_closed and tick.pending == 0 and ran == []
