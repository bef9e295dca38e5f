"""enqueue(): every kind of callable and argument shape is buffered exactly as given."""

from __future__ import annotations

import functools
import gc
import inspect
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from racing import Gate, race_the_end

import airlock


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def method(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.method(*args, **kwargs)


def function(rec: Recorder, *args: Any, **kwargs: Any) -> None:
    rec.method(*args, **kwargs)


def test_enqueue_returns_none_and_defers() -> None:
    rec = Recorder()
    with airlock.scope():
        assert airlock.enqueue(function, rec, 1) is None
        assert rec.calls == []
    assert rec.calls == [((1,), {})]


@pytest.mark.parametrize("shape", ["function", "method", "object", "lambda", "partial", "builtin"])
def test_every_callable_kind_with_args_and_kwargs(shape: str) -> None:
    rec = Recorder()
    task: Any = {
        "function": functools.partial(function, rec),
        "method": rec.method,
        "object": rec,
        "lambda": lambda *a, **k: rec.method(*a, **k),
        "partial": functools.partial(rec.method),
        "builtin": None,
    }[shape]
    if task is None:
        out: list[Any] = []
        with airlock.scope():
            airlock.enqueue(out.append, 1)
            airlock.enqueue(out.extend, (2, 3))
        assert out == [1, 2, 3]
        return
    with airlock.scope():
        airlock.enqueue(task)
        airlock.enqueue(task, 1, 2)
        airlock.enqueue(task, x=1)
        airlock.enqueue(task, 1, y=[2])
    assert rec.calls == [((), {}), ((1, 2), {}), ((), {"x": 1}), ((1,), {"y": [2]})]


def test_plain_function_fast_path_and_kwargs_path() -> None:
    rec = Recorder()
    with airlock.scope() as s:
        airlock.enqueue(function, rec, 1)
        airlock.enqueue(function, rec, k=2)
        assert [(i.task, i.args, i.kwargs) for i in s.intents] == [
            (function, (rec, 1), {}),
            (function, (rec,), {"k": 2}),
        ]


def test_classes_can_be_enqueued() -> None:
    made: list[object] = []

    class Made:
        def __init__(self, value: int) -> None:
            made.append(value)

    with airlock.scope():
        airlock.enqueue(Made, 5)
    assert made == [5]


def test_reserved_options_are_not_passed_to_the_task() -> None:
    rec = Recorder()
    with airlock.scope():
        airlock.enqueue(rec, 1, _name="n", _origin="o", _dispatch_options={"a": 1}, _key="k", z=3)
    assert rec.calls == [((1,), {"z": 3})]


def test_options_set_to_none_take_the_plain_path() -> None:
    rec = Recorder()
    with airlock.scope() as s:
        airlock.enqueue(rec, 1, _key=None, _name=None)
        airlock.enqueue(rec, 2, _key=None)
        assert [(i.key, i.name) for i in s.intents] == [(None, "Recorder")] * 2
    assert rec.calls == [((1,), {}), ((2,), {})]


def test_each_enqueue_gets_its_own_kwargs() -> None:
    rec = Recorder()
    shared = {"x": 1}
    with airlock.scope():
        airlock.enqueue(rec, **shared)
        shared["x"] = 2
        airlock.enqueue(rec, **shared)
    assert rec.calls == [((), {"x": 1}), ((), {"x": 2})]


def test_arguments_are_passed_by_reference() -> None:
    rec = Recorder()
    payload = [1]
    with airlock.scope():
        airlock.enqueue(rec, payload)
        payload.append(2)
    assert rec.calls == [(([1, 2],), {})]


def test_documented_signature() -> None:
    params = inspect.signature(airlock.enqueue).parameters
    assert list(params) == ["task", "args", "_name", "_origin", "_dispatch_options", "_key",
                            "kwargs"]
    assert params["task"].kind is inspect.Parameter.POSITIONAL_ONLY


def test_a_task_may_take_a_parameter_called_task() -> None:
    got: list[object] = []

    def takes_task(task: object) -> None:
        got.append(task)

    with airlock.scope():
        airlock.enqueue(takes_task, task="t")
    assert got == ["t"]


def test_enqueue_under_hooks_and_observers_still_dispatches_in_order() -> None:
    rec = Recorder()
    with airlock.scope(policy=airlock.LogOnFlush(), observers=[airlock.Observer()]):
        airlock.enqueue(function, rec, 1)
        airlock.enqueue(rec.method, 2)
        airlock.enqueue(rec, k=3)
    assert rec.calls == [((1,), {}), ((2,), {}), ((), {"k": 3})]


@pytest.mark.parametrize("key", [{}, [1], {1, 2}, ("ok", [])])
def test_an_unhashable_key_is_refused_at_the_call_site(key: object) -> None:
    """Issue 13.8: it used to fail the whole flush later, under errors="continue" too."""
    log: list[str] = []
    with airlock.scope(errors="continue") as s:
        with pytest.raises(TypeError, match=r"_key must be hashable .*use a string, number"):
            airlock.enqueue(log.append, "bad", _key=key)
        airlock.enqueue(log.append, "good", _key=("ok", 1))
    assert log == ["good"] and s.stats.enqueued == 1


class Redraw:
    def _present(self) -> None:
        """A private task."""

    def present(self) -> None:
        """A public one."""


def test_no_scope_error_names_the_intent_and_how_to_open_a_scope() -> None:
    with pytest.raises(airlock.NoScopeError) as info:
        airlock.enqueue(Redraw().present)
    message = str(info.value)
    assert "'present'" in message and "with airlock.scope():" in message
    assert "Redraw" not in message and "directly" not in message


def test_no_scope_error_never_names_a_private_function() -> None:
    with pytest.raises(airlock.NoScopeError) as info:
        airlock.enqueue(Redraw()._present)
    message = str(info.value)
    assert "_present" not in message and "Redraw" not in message
    assert "with airlock.scope():" in message and "directly" not in message


def test_no_scope_error_keeps_airlock_py_key_phrase() -> None:
    """``pytest.raises(..., match=...)`` written against airlock-py keeps working."""
    with pytest.raises(airlock.NoScopeError, match=r"without an active airlock\.scope\(\)"):
        airlock.enqueue(print)
    with pytest.raises(airlock.NoScopeError, match=r"without an active airlock\.scope\(\)"):  # noqa: SIM117
        with airlock.policy(airlock.DropAll()):
            pass


class _Sends:
    """A task object that is not callable: its executor sends it through ``method``."""

    def __init__(self, method: str, sent: list[tuple[str, tuple[Any, ...]]]) -> None:
        setattr(self, method, lambda *args, **kwargs: sent.append((method, args)))
        self.method = method


@pytest.mark.parametrize(
    "method", ["apply_async", "delay", "send", "send_with_options", "schedule", "enqueue"]
)
def test_a_task_object_an_executor_can_send_is_accepted(method: str) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def sending_executor(intent: airlock.Intent) -> None:
        getattr(intent.task, intent.task.method)(*intent.args)

    task = _Sends(method, sent)
    with airlock.scope(executor=sending_executor) as s:
        airlock.enqueue(task, 1)
        airlock.enqueue(task, 2, _name="named")
        with airlock.policy(airlock.AllowAll()):
            airlock.enqueue(task, 3)
    assert sent == [(method, (1,)), (method, (2,)), (method, (3,))]
    assert s.stats.dispatched == 3


def test_a_task_object_the_default_executor_cannot_call_fails_at_flush_counted() -> None:
    task = _Sends("delay", [])
    with pytest.raises(TypeError, match="not callable"), airlock.scope() as s:
        airlock.enqueue(task, 1)
    assert s.stats.failed == 1 and s.stats.balance_error() is None


@pytest.mark.parametrize("task", [42, "send_email", None, [print]])
def test_what_no_executor_can_run_is_refused_at_the_call(task: object) -> None:
    with airlock.scope() as s:
        with pytest.raises(TypeError, match=r"airlock\.enqueue\(\) needs a callable task, got"):
            airlock.enqueue(task)
        with pytest.raises(TypeError, match="needs a callable task"):
            airlock.enqueue(task, _name="x")
    assert s.stats.enqueued == 0


def test_check_task_names_the_caller() -> None:
    from airlock._enqueue import check_task

    check_task(print, "tick.post()")
    check_task(_Sends("send", []), "tick.post()")
    with pytest.raises(TypeError, match=r"^tick\.post\(\) needs a callable task, got 3 \(int\)"):
        check_task(3, "tick.post()")


# -- an enqueue racing its scope's end ----------------------------------------------------------
#
# Another thread (one that carries the scope's context) enqueues; code the enqueue runs on
# its way (a key's __hash__, a policy's on_enqueue, an observer's enqueued) lets the scope end
# meanwhile. Whatever the path, the effect runs or the enqueue raises: it is never left in a
# buffer that no flush reads.


class SlowKey:
    """A ``_key`` whose hash pauses at the gate."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def __hash__(self) -> int:
        self.gate.pause()
        return 7


class PausingPolicy(airlock.Policy):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def on_enqueue(self, intent: airlock.Intent) -> None:
        self.gate.pause()

    def allows(self, intent: airlock.Intent) -> bool:
        return True


class JudgingPolicy(airlock.Policy):
    def allows(self, intent: airlock.Intent) -> bool:
        return True


class PausingObserver(airlock.Observer):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.heard: list[tuple[str, airlock.Intent]] = []

    def enqueued(self, intent: airlock.Intent) -> None:
        self.heard.append(("enqueued", intent))
        self.gate.pause()

    def dispatched(self, intent: airlock.Intent) -> None:
        self.heard.append(("dispatched", intent))

    def discarded(self, intent: airlock.Intent) -> None:
        self.heard.append(("discarded", intent))


@airlock.batch
def _collect(payloads: list[Any]) -> None:
    for ran, value in payloads:
        ran.append(value)


#: how each enqueue path pauses: (the scope's options, the enqueue)
RACES: dict[str, tuple[Callable[[Gate], dict[str, Any]], Callable[[Gate, list[Any]], None]]] = {
    "_key": (lambda g: {}, lambda g, ran: airlock.enqueue(ran.append, 1, _key=SlowKey(g))),
    "options": (
        lambda g: {},
        lambda g, ran: airlock.enqueue(ran.append, 1, _key=SlowKey(g), _name="named"),
    ),
    "batch _key": (
        lambda g: {}, lambda g, ran: airlock.enqueue(_collect, (ran, 1), _key=SlowKey(g)),
    ),
    "policy block": (lambda g: {}, lambda g, ran: _in_policy_block(ran, SlowKey(g))),
    "on_enqueue": (
        lambda g: {"policy": PausingPolicy(g)}, lambda g, ran: airlock.enqueue(ran.append, 1),
    ),
    "observer": (
        lambda g: {"observers": [PausingObserver(g)]},
        lambda g, ran: airlock.enqueue(ran.append, 1),
    ),
}


def _in_policy_block(ran: list[Any], key: SlowKey) -> None:
    with airlock.policy(JudgingPolicy()):
        airlock.enqueue(ran.append, 1, _key=key)


@pytest.mark.parametrize("end", ["scope", "tick close"])
@pytest.mark.parametrize("path", list(RACES))
def test_an_enqueue_racing_the_end_is_refused_not_lost(path: str, end: str) -> None:
    gate, ran = Gate(), []
    options, enqueue = RACES[path]
    if end == "scope":
        error = race_the_end(airlock.scope(**options(gate)), gate, lambda: enqueue(gate, ran))
    else:
        tick = airlock.tick_scope(**options(gate))
        error = race_the_end(tick, gate, lambda: enqueue(gate, ran), after=tick.close)
        assert tick.pending == 0
    assert ran == []
    assert isinstance(error, airlock.ScopeStateError), error
    assert "takes no more intents" in str(error) or "is closed" in str(error)


@pytest.mark.parametrize("path", list(RACES))
def test_an_enqueue_racing_a_frames_end_joins_the_next_frame(path: str) -> None:
    gate, ran = Gate(), []
    options, enqueue = RACES[path]
    tick = airlock.tick_scope(**options(gate))
    assert race_the_end(tick, gate, lambda: enqueue(gate, ran)) is None
    assert ran == []
    with tick:
        pass
    assert ran == [1]


@pytest.mark.parametrize("end", ["scope", "tick close", "frame end"])
def test_an_observer_that_heard_a_refused_enqueue_hears_its_fate(end: str) -> None:
    gate, ran = Gate(), []
    observer = PausingObserver(gate)
    scope: Any = (airlock.scope if end == "scope" else airlock.tick_scope)(observers=[observer])
    error = race_the_end(scope, gate, lambda: airlock.enqueue(ran.append, 1),
                         after=scope.close if end == "tick close" else lambda: None)
    if end == "frame end":  # the entry joins the next frame: dispatched there, once
        assert error is None
        with scope:
            pass
        assert ran == [1]
        assert [hook for hook, _ in observer.heard] == ["enqueued", "dispatched"]
    else:  # refused at the call: the observer hears it left the scope
        assert isinstance(error, airlock.ScopeStateError)
        assert ran == []
        assert [hook for hook, _ in observer.heard] == ["enqueued", "discarded"]
    assert observer.heard[0][1] is observer.heard[1][1]


class Forwarding(airlock.Scope):
    """A scope whose late enqueues go to a tick."""

    tick: airlock.TickScope | None = None

    def late_enqueue_target(self) -> airlock.Scope | None:
        return self.tick


class InterruptedOnDiscard(PausingObserver):
    def discarded(self, intent: airlock.Intent) -> None:
        super().discarded(intent)
        raise KeyboardInterrupt


def test_an_entry_forwarded_after_its_hooks_reaches_the_target_whatever_the_observer_does(
) -> None:
    gate, ran = Gate(), []
    observer = InterruptedOnDiscard(gate)
    scope = Forwarding(observers=[observer])
    scope.tick = tick = airlock.tick_scope()
    error = race_the_end(scope, gate, lambda: airlock.enqueue(ran.append, 1))
    assert isinstance(error, KeyboardInterrupt)  # the observer's, raised after the forward
    assert [hook for hook, _ in observer.heard] == ["enqueued", "discarded"]
    assert tick.pending == 1
    with tick:
        pass
    assert ran == [1]


class OwnScope(airlock.Scope):
    """A subclass: the compiled enqueue reads its ``_accepting`` as an attribute."""


@pytest.mark.parametrize("scope_class", [airlock.Scope, OwnScope], ids=["Scope", "subclass"])
def test_a_collection_inside_the_records_allocation_cannot_let_the_scope_end_unseen(
    scope_class: type[airlock.Scope],
) -> None:
    """Before 3.12 a collection runs inside the allocation that crosses the threshold, and its
    callbacks (or finalizers) are Python code, during which another thread may end the scope:
    here the record's own allocation (no argument, the 3-tuple free list emptied) collects,
    and the gc callback pauses there. From 3.12 on the collection waits for the next check of
    the eval loop: after the append."""
    for _ in range(20):  # until a collection paused the enqueue (see below)
        paused, ran, error = _enqueue_in_a_collection(scope_class)
        if paused:
            break
    else:
        raise AssertionError("no collection ran inside the racer's enqueue in 20 tries")
    if error is None:  # it collected after the append: the flush ran it
        assert ran == [1] and sys.version_info >= (3, 12)
    else:
        assert isinstance(error, airlock.ScopeStateError) and ran == []


def _eval_loop_check() -> None:
    """A Python call: entering it, the eval loop checks for pending work (a collection)."""


def _enqueue_in_a_collection(
    scope_class: type[airlock.Scope],
) -> tuple[bool, list[int], BaseException | None]:
    """One try: a racer enqueues with the collector's threshold at its lowest, and a gc
    callback pauses it at a collection that starts in its thread inside that enqueue (3.12+:
    from the enqueue on). Another thread (an xdist worker's message reader) may collect first:
    then the racer opens the gate itself (``gate.armed`` was still set) and nothing raced.
    Returns whether it paused, what ran and what the racer raised."""
    gate, ran = Gate(), []
    gate.armed = False
    racer: list[threading.Thread] = []
    pausing, paused = [False], [False]
    later = sys.version_info >= (3, 12)  # (a collection waits for the eval loop's next check)

    def collecting(phase: str, info: dict[str, int]) -> None:
        if (phase == "start" and pausing[0] and gate.armed
                and threading.current_thread() is racer[0]):
            paused[0] = True
            gate.pause()

    def effect() -> None:
        ran.append(1)

    def enqueue_while_collecting() -> None:
        racer.append(threading.current_thread())
        gc.disable()  # (nothing collects until the enqueue)
        hold = [(n, n, n) for n in range(3000)]  # the record cannot reuse a freed 3-tuple
        gate.armed = True
        gc.enable()
        pausing[0] = True  # (stores of constants: nothing allocated)
        airlock.enqueue(effect)
        pausing[0] = later
        _eval_loop_check()  # (3.12+: where the collection the enqueue scheduled runs)
        del hold
        if gate.armed:  # no collection paused it: nothing raced this time
            gate.armed = pausing[0] = False
            gate.reached.set()

    threshold = gc.get_threshold()
    gc.callbacks.append(collecting)
    gc.set_threshold(1)
    try:
        error = race_the_end(scope_class(), gate, enqueue_while_collecting)
    finally:
        gc.callbacks.remove(collecting)
        gc.set_threshold(*threshold)
        gc.enable()
    return paused[0], ran, error
