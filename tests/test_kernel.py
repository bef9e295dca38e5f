"""The compiled kernel (``airlock._speedups``) and the switch that picks it (``_kernel``).

The switch is tested in both modes; the tests of the C ``enqueue`` itself run wherever the
extension is built (``AIRLOCK_NO_EXTENSIONS`` only changes what ``airlock.enqueue`` is), and
are skipped only where it is genuinely absent. ``test_kernel_differential.py`` compares it
with the pure core on random calls.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import inspect
import logging
import os
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from blocks import blocks_grown

import airlock
from airlock import _enqueue, _kernel
from airlock._context import current_target
from airlock._intent import NO_KWARGS
from airlock._record import DISPATCH_OPTIONS, KEY
from airlock._stats import FlushStats
from benchmarks.cores import core

ROOT = Path(__file__).resolve().parent.parent
BUILT = importlib.util.find_spec("airlock._speedups") is not None


def _compiled_in_child(switch: str | None) -> str:
    """``airlock.compiled`` and which enqueue runs, in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_NO_EXTENSIONS"}
    if switch is not None:
        env["AIRLOCK_NO_EXTENSIONS"] = switch
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    done = subprocess.run(
        [sys.executable, "-c", "import airlock, airlock._enqueue as e; "
         "print(airlock.compiled, airlock.enqueue is e.enqueue)"],
        env=env, capture_output=True, text=True, timeout=60, check=True, cwd=ROOT,
    )
    return done.stdout.strip()


def test_the_switch_picks_the_pure_core() -> None:
    assert _compiled_in_child("1") == "False True"


def test_an_empty_switch_is_unset() -> None:
    assert _compiled_in_child("") == _compiled_in_child(None)


def test_without_the_switch_the_kernel_runs_where_it_is_built() -> None:
    assert _compiled_in_child(None) == ("True False" if BUILT else "False True")


def test_compiled_says_which_enqueue_this_process_runs() -> None:
    assert isinstance(airlock.compiled, bool)
    assert airlock.compiled is _kernel.compiled
    assert airlock.enqueue is _kernel.enqueue
    assert airlock.compiled == (airlock.enqueue is not _enqueue.enqueue)
    if os.environ.get("AIRLOCK_NO_EXTENSIONS"):
        assert not airlock.compiled
    elif BUILT:
        assert airlock.compiled


# --- the C enqueue itself ----------------------------------------------------------------


@pytest.fixture
def c_enqueue() -> Callable[..., None]:
    speedups = pytest.importorskip("airlock._speedups")
    enqueue: Callable[..., None] = speedups.enqueue
    return enqueue


def noop(*args: Any, **kwargs: Any) -> None:
    pass


@airlock.batch
def send(payloads: list[Any]) -> None:
    pass


def test_it_presents_the_documented_signature_and_docstring(c_enqueue: Any) -> None:
    assert inspect.signature(c_enqueue) == inspect.signature(_enqueue.enqueue).replace(
        parameters=[p.replace(annotation=inspect.Parameter.empty)
                    for p in inspect.signature(_enqueue.enqueue).parameters.values()],
        return_annotation=inspect.Signature.empty,
    )
    assert inspect.getdoc(c_enqueue) == inspect.getdoc(_enqueue.enqueue)


def test_a_plain_call_appends_the_plain_record(c_enqueue: Any) -> None:
    payload = [1]
    with airlock.scope() as scope:
        c_enqueue(noop, payload, "x")
        c_enqueue(noop)
        (first, second) = scope._buffer
        assert first == (noop, ([1], "x"), {}) and first[1][0] is payload
        assert second == (noop, (), {})
        assert first[2] is second[2] is NO_KWARGS  # one shared empty dict (see _intent)
        assert type(first) is tuple and len(first) == 3


def test_an_option_named_at_run_time_is_the_option(c_enqueue: Any) -> None:
    """A call site's keyword names are interned and compared by identity; names built at run
    time (``**{name: value}``) are other objects with the same text, and still the options."""
    key, options = "".join(["_", "key"]), "".join(["_dispatch", "_options"])
    assert key is not sys.intern(key) and options is not sys.intern(options)
    with airlock.scope() as scope:
        c_enqueue(noop, 1, **{key: None})  # no key: the plain record
        c_enqueue(noop, 2, **{key: "k"})
        c_enqueue(noop, 3, **{options: {"queue": "q"}})
        plain, keyed, optioned = scope._buffer
        assert plain == (noop, (1,), {})
        assert keyed[KEY] == "k" and optioned[DISPATCH_OPTIONS] == {"queue": "q"}
    assert scope.stats.dispatched == 3


class WritesKwargs(airlock.Policy):
    """A policy that writes into each intent's kwargs (allowed: they are the intent's)."""

    def allows(self, intent: airlock.Intent) -> bool:
        intent.kwargs["written"] = True
        return True


class RunsTasks:
    """An executor that takes records (``run_task``) and writes into their kwargs."""

    def __init__(self) -> None:
        self.kwargs: list[dict[str, Any]] = []

    def __call__(self, intent: airlock.Intent) -> None:
        intent.task(*intent.args, **intent.kwargs)

    def run_task(self, task: Any, args: Any, kwargs: dict[str, Any], get_intent: Any) -> None:
        self.kwargs.append(kwargs)
        kwargs["written"] = True
        task(*args, **kwargs)


@pytest.mark.parametrize("reader", ["intents", "policy", "run_task", "observer"])
def test_the_shared_empty_kwargs_never_leave_the_core(c_enqueue: Any, reader: str) -> None:
    """Records of calls without keywords share ``NO_KWARGS``; whatever reads them (an Intent,
    a policy writing into its kwargs, an executor's ``run_task``) gets a dict of its own."""
    calls: list[dict[str, Any]] = []

    def task(**kwargs: Any) -> None:
        calls.append(kwargs)

    executor, observer = RunsTasks(), WatchesAll()
    scope = (airlock.scope(WritesKwargs()) if reader == "policy"
             else airlock.scope(executor=executor) if reader == "run_task"
             else airlock.scope(observers=[observer]) if reader == "observer"
             else airlock.scope())
    with scope:
        c_enqueue(task)
        c_enqueue(task, _key="k2")
        if reader == "intents":
            for intent in scope.intents:
                assert intent.kwargs is not NO_KWARGS
                intent.kwargs["written"] = True
    assert NO_KWARGS == {}
    assert all(kwargs is not NO_KWARGS for kwargs in executor.kwargs)
    assert observer.shared == ([False] * 4 if reader == "observer" else [])
    assert calls == ([{}, {}] if reader == "observer" else [{"written": True}] * 2)
    with airlock.scope() as fresh:  # later records are as empty as ever
        c_enqueue(task)
        assert fresh._buffer[0][2] is NO_KWARGS
    assert calls[-1] == {}


class WatchesAll(airlock.Observer):
    """Records whether each intent it hears of holds the shared dict."""

    def __init__(self) -> None:
        self.shared: list[bool] = []

    def enqueued(self, intent: airlock.Intent) -> None:
        self.shared.append(intent.kwargs is NO_KWARGS)

    def dispatched(self, intent: airlock.Intent) -> None:
        self.shared.append(intent.kwargs is NO_KWARGS)


class Target:
    """A stand-in enqueue target: ``_accepting`` and ``_buffer`` as given."""

    def __init__(self, accepting: object, buffer: object) -> None:
        self._accepting = accepting
        self._buffer = buffer


class LoggingList(list[Any]):
    def append(self, item: Any) -> None:
        super().append(("logged", item))


def _outcome(enqueue: Callable[..., None], target: object, *args: Any) -> object:
    token = current_target.set(target)
    try:
        enqueue(*args)
    except Exception as error:
        return type(error), str(error)
    finally:
        current_target.reset(token)
    return None


@pytest.mark.parametrize("accepting", [True, 1, False, None])
def test_targets_out_of_the_ordinary_behave_as_in_python(
    c_enqueue: Any, accepting: object
) -> None:
    makers: tuple[Callable[[], list[Any]], ...] = (list, LoggingList)
    for make_buffer in makers:
        ours, pure = make_buffer(), make_buffer()
        assert _outcome(c_enqueue, Target(accepting, ours), noop, 1) == _outcome(
            _enqueue.enqueue, Target(accepting, pure), noop, 1
        )
        assert ours == pure
    if accepting:  # a subclass's own append runs, as in Python
        assert pure == [("logged", (noop, (1,), {}))]


def test_a_target_without_the_attributes_fails_as_in_python(c_enqueue: Any) -> None:
    class Bare:
        pass

    class NoBuffer:
        _accepting = True

    for target in (Bare(), NoBuffer()):
        ours = _outcome(c_enqueue, target, noop)
        assert ours == _outcome(_enqueue.enqueue, target, noop)
        assert ours is not None and ours[0] is AttributeError  # type: ignore[index]


def test_no_task_fails_as_in_python(c_enqueue: Any) -> None:
    with pytest.raises(TypeError) as ours:
        c_enqueue()
    with pytest.raises(TypeError) as pure:
        _enqueue.enqueue()  # type: ignore[call-arg]
    assert str(ours.value) == str(pure.value)


def _every_option(enqueue: Callable[..., None], task: Any, arg: Any) -> None:
    """One enqueue of each kind, inside the current frame; the refused ones included."""
    enqueue(task, arg)
    enqueue(task, arg, x=arg)
    enqueue(task, arg, _key="k")
    enqueue(task, arg, _key=None)
    enqueue(task, arg, _name="n", _origin="o", _dispatch_options={"phase": 1}, _key=("k", 1))
    enqueue(send, arg)
    enqueue(send, arg, _key="b")
    with airlock.policy(airlock.AllowAll()):
        enqueue(task, arg)
        enqueue(task, arg, _key="p")
    for bad in ((arg,), (task, arg, dict(_key=[arg])), (task, arg, dict(_name=arg))):
        try:
            if len(bad) == 3:
                enqueue(*bad[:2], **bad[2])
            else:
                enqueue(*bad)
        except TypeError:
            pass


def _frames(enqueue: Callable[..., None], task: Any, arg: Any, frames: int) -> None:
    tick = airlock.tick_scope()
    for _ in range(frames):
        with tick:
            _every_option(enqueue, task, arg)
    with contextlib.suppress(airlock.NoScopeError):
        enqueue(task, arg)  # no scope open: refused


@pytest.mark.parametrize("which", ["compiled", "pure"])
def test_reference_counts_are_unchanged_after_the_frames(c_enqueue: Any, which: str) -> None:
    enqueue = c_enqueue if which == "compiled" else _enqueue.enqueue

    def task(*args: Any, **kwargs: Any) -> None:
        pass

    arg = object()
    _frames(enqueue, task, arg, 10)
    gc.collect()
    before = sys.getrefcount(task), sys.getrefcount(arg)
    _frames(enqueue, task, arg, 500)
    gc.collect()
    assert (sys.getrefcount(task), sys.getrefcount(arg)) == before


@pytest.mark.parametrize("which", ["compiled", "pure"])
def test_allocated_blocks_stay_flat(c_enqueue: Any, which: str) -> None:
    enqueue = c_enqueue if which == "compiled" else _enqueue.enqueue
    arg = object()
    # warm (caches, interned strings, free lists), then 26,000 enqueues: a leaked block shows
    grown = blocks_grown(lambda frames: _frames(enqueue, noop, arg, frames), 200, 2_000)
    assert grown < 200, f"{grown} blocks retained over 2,000 frames"


def test_a_ticks_common_frame_is_compiled_where_the_kernel_runs() -> None:
    tick = airlock.tick_scope()
    enter, exit_ = type(tick).__dict__["__enter__"].__get__(tick), tick.__exit__
    compiled_frames = all(repr(m).startswith("<compiled ") for m in (enter, exit_))
    assert compiled_frames == airlock.compiled
    tick.close()


def _tick_lifetimes(ticks: int) -> None:
    """Ticks made, used every way a frame opens and closes (inline or handed to the closures),
    and dropped: each holds its frame callables, which hold it (a cycle the collector frees)."""
    ran: list[int] = []
    for n in range(ticks):
        tick = airlock.tick_scope()
        with tick:  # empty: opens and closes compiled
            pass
        with tick:  # closes through the closure (something to flush)
            airlock.enqueue(ran.append, n)
        with tick:  # opens from KEPT (the last frame's entries go)
            pass
        tick.post(ran.append, -n)
        with tick:  # something posted: the closure opens it
            pass
        with airlock.scope(), tick:  # a scope around: the closure opens it
            pass
        with contextlib.suppress(RuntimeError), tick:  # a raising body: the closure closes
            raise RuntimeError
        tick.close()
    assert len(ran) == 2 * ticks


def test_ticks_and_their_frames_leave_no_blocks_behind() -> None:
    grown = blocks_grown(_tick_lifetimes, 50, 500)
    assert grown < 200, f"{grown} blocks retained over 500 ticks"


def _frame_story(tick: airlock.TickScope) -> list[object]:
    """Frames of plain records: a clean one, one whose second task raises, an effect that
    enqueues while the loop runs, an empty one; what each leaves."""
    seen: list[object] = []

    def boom(n: int) -> None:
        raise ValueError(n)

    def late() -> None:
        airlock.enqueue(seen.append, "late")  # arrives while the loop runs: the next frame's

    def stats() -> tuple[object, ...]:
        s = tick.stats
        return (s.enqueued, s.dispatched, s.failed, s.undispatched, s.balance_error())

    with tick:
        airlock.enqueue(seen.append, 1)
        airlock.enqueue(seen.append, 2, **{})
    seen.append(stats())
    try:
        with tick:
            airlock.enqueue(seen.append, 3)
            airlock.enqueue(boom, 4)
            airlock.enqueue(seen.append, 5)
    except ValueError as exc:
        seen.append((exc.args, exc.failed_intent.args,  # type: ignore[attr-defined]
                     [i.args for i in exc.undispatched_intents]))  # type: ignore[attr-defined]
    seen.append(stats())
    with tick:
        airlock.enqueue(late)
    seen.append(stats())
    with tick:
        pass
    seen.append((stats(), tick.frame, len(tick.intents), tick.pending))
    tick.close()
    return seen


@pytest.mark.parametrize("keep", [True, False])
def test_the_compiled_plain_loop_leaves_what_the_pure_one_does(
    monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    compiled = _frame_story(airlock.tick_scope(keep_intents=keep))
    monkeypatch.setattr("airlock._frame.speedups", lambda: None)
    assert _frame_story(airlock.tick_scope(keep_intents=keep)) == compiled
    assert compiled[:6] == [1, 2, (2, 2, 0, 0, None), 3, ((4,), (4,), [(5,)]), (3, 1, 1, 1, None)]
    assert "late" in compiled  # ran in the frame after the one whose loop it arrived in


@airlock.phase("draw")
def _drawn(seen: list[object], n: object) -> None:
    seen.append(("draw", n))


@airlock.batch
def _sent(payloads: list[object]) -> None:
    _SENT.append(tuple(payloads))


_SENT: list[object] = []


class _BadKey:
    def __hash__(self) -> int:
        raise TypeError("no hash")


def _rich_frame_story(tick: airlock.TickScope) -> list[object]:
    """Frames that flush through the pipeline (keys, batches, phases, a configuration with no
    plain loop), several of each so that a frame after the first runs compiled: clean ones,
    failing tasks, a key that cannot be hashed, an unknown phase, effects that enqueue while
    the flush runs; what each leaves."""
    seen: list[object] = []
    _SENT.clear()

    def boom(n: int) -> None:
        raise ValueError(n)

    def late(n: int) -> None:
        airlock.enqueue(seen.append, ("late", n), _key="late")

    def stats() -> tuple[object, ...]:
        s = tick.stats
        return (s.enqueued, s.dispatched, s.failed, s.undispatched, s.coalesced, s.batched,
                s.balance_error(), tick.frame, tick.pending, len(tick.intents))

    def frame(*effects: tuple[Any, ...]) -> None:
        try:
            with tick:
                for task, *args in effects:
                    options = args.pop() if args and isinstance(args[-1], dict) else {}
                    airlock.enqueue(task, *args, **options)
        except Exception as exc:
            seen.append((type(exc).__name__, str(exc)[:60],
                         [i.args for i in getattr(exc, "undispatched_intents", None) or ()]))
        seen.append(stats())

    for n in range(3):
        frame((seen.append, n, {"_key": "k"}), (seen.append, n + 10, {"_key": "k"}),
              (_sent, n), (_drawn, seen, n), (_sent, n + 1), (seen.append, "plain"))
    frame((seen.append, 1, {"_key": "k"}), (boom, 2, {"_key": "b"}), (seen.append, 3))
    frame((seen.append, 1, {"_key": _BadKey()}), (seen.append, 2))
    frame((seen.append, 1, {"_dispatch_options": {"phase": "nowhere"}}), (seen.append, 2))
    frame((late, 1), (seen.append, 2, {"_key": "x"}))
    frame((late, 2))
    frame()
    frame((boom, 5), (seen.append, 6))
    frame((seen.append, 7, {"_key": "y"}))
    tick.close()
    seen.append(list(_SENT))
    return seen


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("options", [
    {}, {"order_by": airlock.by_phase("draw")}, {"errors": "continue"},
    {"order_by": airlock.by_phase("draw"), "errors": "continue"},
], ids=["defaults", "by_phase", "continue", "by_phase-continue"])
def test_the_compiled_pipeline_frame_leaves_what_the_pure_one_does(
    monkeypatch: pytest.MonkeyPatch, keep: bool, options: dict[str, Any]
) -> None:
    compiled = _rich_frame_story(airlock.tick_scope(keep_intents=keep, **options))
    monkeypatch.setattr("airlock._frame.speedups", lambda: None)
    assert _rich_frame_story(airlock.tick_scope(keep_intents=keep, **options)) == compiled
    assert compiled[-1] == [(0, 1), (1, 2), (2, 3)]  # every frame's batch, merged


def test_compiled_pipeline_frames_leave_no_blocks_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logging.getLogger("airlock"), "disabled", True)  # (captured records
    # would keep each failure's traceback)

    def stories(n: int) -> None:
        for _ in range(n):
            _rich_frame_story(airlock.tick_scope(order_by=airlock.by_phase("draw")))
            _rich_frame_story(airlock.tick_scope(errors="continue"))

    grown = blocks_grown(stories, 20, 200)
    assert grown < 200, f"{grown} blocks retained over 400 ticks of pipeline frames"


def _failing_bookkeeping_story(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A task fails in a plain frame and the failure's own bookkeeping raises too: what
    escapes, and the next frame."""
    def broken(*args: object) -> None:
        raise RuntimeError("bookkeeping failed")

    def boom() -> None:
        raise ValueError("task failed")

    with monkeypatch.context() as patch:
        patch.setattr("airlock._frame.record_failure", broken)
        patch.setattr("airlock._plain.record_failure", broken)
        tick = airlock.tick_scope()
        log: list[int] = []
        seen: list[object] = []
        try:
            with tick:
                airlock.enqueue(log.append, 1)
                airlock.enqueue(boom)
                airlock.enqueue(log.append, 2)
        except RuntimeError as exc:
            context = exc.__context__
            seen += [str(exc), type(context), str(context)]
        seen.append(current_target.get() is tick)
    with tick:  # the frame ended: the claim came back, the context is clean
        airlock.enqueue(log.append, 3)
    seen += [log, tick.frame, tick.stats.dispatched]
    tick.close()
    return seen


def test_a_failure_of_the_failures_bookkeeping_escapes_and_the_tick_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = _failing_bookkeeping_story(monkeypatch)
    monkeypatch.setattr("airlock._frame.speedups", lambda: None)
    assert _failing_bookkeeping_story(monkeypatch) == compiled
    assert compiled == ["bookkeeping failed", ValueError, "task failed", False, [1, 3], 2, 1]


def test_a_refused_opener_goes_through_the_closure() -> None:
    tick = airlock.tick_scope()
    with tick, pytest.raises(airlock.ScopeStateError, match="cannot be nested in itself"):
        tick.__enter__()
    with tick:  # the claim came back
        pass
    assert tick.frame == 2


# --- a fresh scope -----------------------------------------------------------------------


@pytest.fixture
def c_scope() -> Callable[..., airlock.Scope]:
    speedups = pytest.importorskip("airlock._speedups")
    scope: Callable[..., airlock.Scope] = speedups.scope
    return scope


class Custom(airlock.Scope):
    pass


def _state_of(scope: object) -> tuple[object, ...]:
    """A scope's type and every slot (its buffer's too), unset ones as ``"unset"``."""
    def slots(obj: object) -> list[object]:
        names = [n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())
                 if n != "__weakref__"]
        return [getattr(obj, n, "unset") for n in names]

    values = slots(scope)
    buffer = getattr(scope, "_buffer", None)
    return type(scope), values, None if buffer is None else (list(buffer), slots(buffer))


class OwnInit(airlock.Scope):
    """A subclass with a constructor of its own: ``scope(_cls=...)`` calls it (pure path)."""

    __slots__ = ("label",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = "own"


@pytest.mark.parametrize("setup", ["defaults", "policy", "executor", "scope_cls",
                                   "scope_kwargs", "arguments", "_cls", "_cls own init",
                                   "_cls None", "_cls with scope_kwargs"])
def test_a_fresh_scope_is_the_one_python_builds(
    c_scope: Callable[..., airlock.Scope], setup: str
) -> None:
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = {}
    if setup == "policy":
        airlock.configure(policy=airlock.DropAll())
    elif setup == "executor":
        airlock.configure(executor=lambda intent: None)
    elif setup == "scope_cls":
        airlock.configure(scope_cls=Custom)
    elif setup == "scope_kwargs":
        airlock.configure(scope_kwargs={"errors": "continue"})
    elif setup == "arguments":
        args, kwargs = (airlock.DropAll(),), {"errors": "continue"}
    elif setup.startswith("_cls"):  # a class that builds as Scope does: the kernel's
        kwargs = {"_cls": {"_cls": Custom, "_cls own init": OwnInit, "_cls None": None,
                           "_cls with scope_kwargs": Custom}[setup]}
        if setup == "_cls with scope_kwargs":
            airlock.configure(scope_kwargs={"errors": "continue"})
    assert _state_of(c_scope(*args, **kwargs)) == _state_of(_enqueue.scope(*args, **kwargs))
    with pytest.raises(TypeError) as compiled:
        c_scope(order_by=3)
    with pytest.raises(TypeError) as pure:
        _enqueue.scope(order_by=3)
    assert str(compiled.value) == str(pure.value)


def test_the_kernel_builds_a_subclass_that_keeps_scopes_constructor(
    c_scope: Callable[..., airlock.Scope],
) -> None:
    """``scope(_cls=Custom)`` runs no Python once the class was judged (the Textual
    adapter's handler scopes); a class with a constructor of its own gets it called."""
    def python_calls(cls: type[airlock.Scope]) -> tuple[airlock.Scope, list[str]]:
        calls: list[str] = []

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "call":
                calls.append(frame.f_code.co_name)

        sys.setprofile(profile)
        try:
            return c_scope(_cls=cls), calls
        finally:
            sys.setprofile(None)

    python_calls(Custom)  # (the first call per class asks _kernel.builds_like_scope once)
    built, calls = python_calls(Custom)
    assert type(built) is Custom and calls == []
    own, calls = python_calls(OwnInit)
    assert type(own) is OwnInit and own.label == "own" and "__init__" in calls


def fails_after(ran: list[str]) -> None:
    ran.append("boom")
    raise ValueError("boom")


class ContinuesByDefault(airlock.Scope):
    errors = "continue"  # a class attribute: Scope.__init__'s ``self.errors`` hides it


class SlotsHideAttributes(airlock.Scope):
    __slots__ = ()
    observers = ()  # read-only for instances: Scope.__init__ cannot write it


@pytest.mark.parametrize("make", ["compiled", "pure"])
def test_a_subclass_hiding_a_slot_scope_init_writes_is_built_by_its_init(
    make: str, c_scope: Callable[..., airlock.Scope],
) -> None:
    """Review: the kernel wrote the slots in place, so a class attribute of the same name
    won over them (``errors = "continue"`` made a scope that should raise go on)."""
    scope = c_scope if make == "compiled" else _enqueue.scope
    ran: list[str] = []
    with pytest.raises(ValueError, match="boom"), scope(_cls=ContinuesByDefault) as built:
        airlock.enqueue(fails_after, ran, _key="a")
        airlock.enqueue(ran.append, "ok", _key="b")
    assert built.errors == "raise" and ran == ["boom"]
    with pytest.raises(AttributeError, match="read-only"):
        scope(_cls=SlotsHideAttributes)
    assert not _kernel.builds_like_scope(ContinuesByDefault)
    assert _kernel.builds_like_scope(Custom)


def test_the_kernel_keeps_no_class_it_judged_alive() -> None:
    """Review: the kernel's per-class answers held the classes, so a Scope subclass made at
    run time (a factory, a test) was never freed; they are weakly held now."""
    refs = []
    for _ in range(3):
        class Sub(airlock.Scope):
            pass

        class Parent(airlock.Scope):
            pass

        with Parent(), Sub():  # (its with, and its hand-over to a parent: both judged)
            airlock.enqueue(noop)
        airlock.scope(_cls=Sub)
        refs += [weakref.ref(Sub), weakref.ref(Parent)]
        del Sub, Parent
    gc.collect()
    assert [ref() for ref in refs] == [None] * 6


def test_a_class_made_where_a_dead_one_was_is_judged_anew() -> None:
    """The kernel remembers the last class each judge answered for; a class that dies is
    forgotten, so one made later (maybe at the same address) is asked again."""
    exits: list[str] = []
    for round_ in range(10):
        if round_ % 2:
            class Judged(airlock.Scope):
                def exit(self) -> None:  # its own lifecycle: the Python methods run its with
                    exits.append("own")
                    super().exit()
        else:
            class Judged(airlock.Scope):  # type: ignore[no-redef]
                pass
        with Judged():
            airlock.enqueue(noop)
        del Judged
        gc.collect()
    assert exits == ["own"] * 5


def test_airlock_scope_is_the_kernels_where_it_runs() -> None:
    assert airlock.scope is _kernel.scope
    assert (airlock.scope is not _enqueue.scope) == airlock.compiled
    assert inspect.getdoc(airlock.scope) == str(inspect.getdoc(_enqueue.scope)) + (
        "\n\n(The compiled kernel builds the common ``airlock.scope()`` itself; every other "
        "call is\n``airlock._enqueue.scope``'s.)" if airlock.compiled else "")


def test_fresh_scopes_leave_no_blocks_behind(c_scope: Callable[..., airlock.Scope]) -> None:
    def lives(n: int) -> None:
        for i in range(n):
            with c_scope() as scope:
                if i % 2:
                    airlock.enqueue(noop, i)
            assert scope.stats.enqueued == i % 2

    assert blocks_grown(lives, 200, 5_000) < 100


class PlainSub(airlock.Scope):
    """Scope's lifecycle, a slot of its own: the kernel runs its ``with``."""

    __slots__ = ("extra",)


class OwnExit(airlock.Scope):
    def exit(self) -> None:  # its own lifecycle: the Python methods run its with
        super().exit()


class Shadowing(airlock.Scope):
    __slots__ = ("_state",)  # a second _state: the kernel reads Scope's


def test_the_kernel_runs_the_with_of_subclasses_that_keep_scopes_lifecycle() -> None:
    assert _kernel.inlines_lifecycle(airlock.Scope)
    assert _kernel.inlines_lifecycle(PlainSub)
    assert not _kernel.inlines_lifecycle(OwnExit)
    assert not _kernel.inlines_lifecycle(Shadowing)
    for cls in (OwnExit, Shadowing):  # the Python methods run them
        with cls() as scope:
            airlock.enqueue(noop)
        assert scope.stats.dispatched == 1 and scope._state == "flushed"


def _with_story(story: str, cls: type[airlock.Scope] = airlock.Scope) -> list[object]:
    """What ``with`` a ``cls`` leaves in one situation: the log, the scope's state and
    flags, its stats, and the error (type and message) if one escaped."""
    log: list[object] = []
    seen: list[object] = []
    if story == "bookkeeping fails":
        cls = type("Broken", (cls,), {"__slots__": (), "_materialize": _materialize_fails})
    scope = cls(observers=[airlock.Observer()]) if story == "observed" else (
        cls(airlock.DropAll()) if story == "dropping" else cls())
    outer: Any = contextlib.nullcontext()
    if story == "in a scope":
        outer = airlock.scope()
    elif story == "in a tick":
        outer = airlock.tick_scope()
    elif story == "in a policy block's scope":  # the parent carries ambient policies
        outer = contextlib.ExitStack()
        outer.enter_context(airlock.scope())
        outer.enter_context(airlock.policy(airlock.DropAll()))
        outer.enter_context(airlock.scope())
    try:
        with outer, scope as entered:
            seen.append(entered is scope)
            seen.append((scope._state, scope._accepting))
            if story in FLUSH_STORIES:
                _enqueue_flush_story(story, scope, log)
            elif story != "empty":
                airlock.enqueue(log.append, story)
            if story == "raising":
                raise ValueError("in the body")
            if story == "entered twice":
                scope.__enter__()
    except Exception as exc:
        seen.append((type(exc), str(exc).replace(hex(id(scope)), "<id>")))
        seen.append([i.args for i in getattr(exc, "undispatched_intents", ())])
        seen.append(repr(exc.__context__))
    stats = scope.stats
    seen += [log, scope._state, scope._accepting, scope._token is None, scope._plain_count,
             (stats.enqueued, stats.dispatched, stats.dropped, stats.captured, stats.discarded,
              stats.failed, stats.undispatched),
             None if story == "bookkeeping fails" else [i.args for i in scope.intents]]
    assert current_target.get() is not scope
    return seen


def _boom(value: object) -> None:
    raise RuntimeError(f"effect {value} failed")


#: plain flushes of a scope used once (the kernel runs them: ``release_plain``)
FLUSH_STORIES = ["several", "failing", "named mid-flush", "named then failing", "arrival",
                 "bookkeeping fails"]


def _materialize_fails(scope: airlock.Scope) -> list[airlock.Intent]:
    """A scope whose failure bookkeeping breaks (it names the intents of a failed flush)."""
    raise OSError("the bookkeeping broke")


def _enqueue_flush_story(story: str, scope: airlock.Scope, log: list[object]) -> None:
    """Effects whose flush takes each turn of the plain loop: a task that raises, one that
    names the buffer's records (``intents``: the next entry is an Intent), one that appends
    a record as a late enqueue would."""
    def names() -> None:
        log.append(len(scope.intents))

    def appends() -> None:
        scope._buffer.append((log.append, ("arrived",), {}))

    airlock.enqueue(log.append, 1)
    if story.startswith("named"):
        airlock.enqueue(names)
    if story.endswith("failing") or story == "bookkeeping fails":
        airlock.enqueue(_boom, 2)
    if story == "arrival":
        airlock.enqueue(appends)
    airlock.enqueue(log.append, 3)
    airlock.enqueue(log.append, 4)


WITH_STORIES = ["empty", "one effect", "in a scope", "in a tick", "in a policy block's scope",
                "raising", "observed", "dropping", "entered twice", *FLUSH_STORIES]


@pytest.mark.parametrize("cls", [airlock.Scope, PlainSub, OwnExit])
@pytest.mark.parametrize("story", WITH_STORIES)
def test_a_scopes_with_leaves_what_the_pure_one_leaves(
    monkeypatch: pytest.MonkeyPatch, story: str, cls: type[airlock.Scope]
) -> None:
    compiled = _with_story(story, cls)
    monkeypatch.setattr(airlock.Scope, "__enter__", _kernel.PURE_LIFECYCLE[0])
    monkeypatch.setattr(airlock.Scope, "__exit__", _kernel.PURE_LIFECYCLE[1])
    assert _with_story(story, cls) == compiled


def test_scopes_with_is_the_kernels_where_it_runs() -> None:
    enter = inspect.getattr_static(airlock.Scope, "__enter__")
    assert (enter is not _kernel.PURE_LIFECYCLE[0]) == airlock.compiled
    assert inspect.getattr_static(airlock.TickScope, "__enter__") is not enter  # its own
    with contextlib.ExitStack() as stack:  # type(cm).__enter__(cm), as ExitStack calls it
        scope = stack.enter_context(airlock.scope())
        assert current_target.get() is scope
    assert scope.stats.enqueued == 0 and current_target.get() is not scope


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI promises a C compiler")
@pytest.mark.skipif(bool(os.environ.get("AIRLOCK_NO_EXTENSIONS")), reason="the pure-core run")
def test_ci_builds_the_kernel() -> None:
    assert BUILT and airlock.compiled, "the install did not build airlock._speedups"


@pytest.mark.ci_only("the core suite again, on the pure core (every run compares the two cores "
                    "in test_kernel_differential, test_kernel_ledger and test_kernel_stages)")
@pytest.mark.skipif(not airlock.compiled, reason="this run is already on the pure core")
@pytest.mark.skipif(bool(os.environ.get("AIRLOCK_PURE_SUITE_RUN")),
                    reason="the pure-core run itself")
def test_the_core_suite_passes_on_the_pure_core(pure_suite: tuple[int, str]) -> None:
    """The pure core is the reference and the fallback: the whole core suite passes on it
    (``AIRLOCK_NO_EXTENSIONS=1``), in the same run as the compiled one (started when
    collection ends, beside the rest: ``conftest.pure_suite``). CI's run: a local one runs
    ``AIRLOCK_NO_EXTENSIONS=1 .venv/bin/python -m pytest -n 4 tests`` for it."""
    status, output = pure_suite
    assert status == 0, output[-6000:]
    assert " passed" in output.strip().splitlines()[-1]


def test_a_flush_the_kernel_starts_and_python_ends_measures_its_own_time() -> None:
    """The kernel reads the clock ``time.perf_counter_ns`` reads: a plain flush it starts and
    ``run_plain`` finishes (an entry named mid-flush) times the flush, not garbage."""
    import time

    def names() -> None:
        scope.intents  # noqa: B018  (names the next record in place: run_plain goes on)
        time.sleep(0.002)

    before = time.perf_counter_ns()
    with airlock.scope() as scope:
        airlock.enqueue(names)
        airlock.enqueue(noop)
    elapsed = time.perf_counter_ns() - before
    assert scope.stats.dispatched == 2
    assert 2_000_000 <= scope.stats.flush_ns <= elapsed


def test_a_frame_whose_effect_replaces_the_ticks_stats_ends_as_the_pure_one() -> None:
    """An effect that rebinds the tick's stats (private attributes) in the middle of a
    pipeline frame: the compiled close holds the stats it counts into, so the frame ends as
    on the pure core, with nothing freed read (found by review, under valgrind)."""
    outcomes = []
    for compiled in [True, False] if BUILT else [False]:
        with core(compiled):
            tick = airlock.tick_scope(order_by=airlock.by_phase("a", "b"))

            def replace_stats(tick: airlock.TickScope = tick) -> None:
                tick._stats = FlushStats()
                assert tick._ctx is not None
                tick._ctx.stats = FlushStats()

            for _ in range(2):  # the first pipeline frame makes the context
                with tick:
                    airlock.enqueue(noop)
            with tick:
                airlock.enqueue(replace_stats)
            outcomes.append((tick._stats.enqueued, tick._stats.dispatched, tick.frame))
            tick.close()
    assert len(set(outcomes)) == 1


def test_a_held_store_that_counts_below_zero_is_refused_as_len_refuses_it() -> None:
    """A negative count of held effects (private state, set by hand) fails the frame with
    the ``ValueError`` that ``len()`` raises, on both cores (the kernel crashed: review)."""
    for compiled in [True, False] if BUILT else [False]:
        with core(compiled):
            tick = airlock.tick_scope(order_by=airlock.by_phase("a"))
            for _ in range(2):
                with tick:
                    airlock.enqueue(noop)
            tick._held._waiting = -1
            with pytest.raises(ValueError, match="should return >= 0"), tick:
                airlock.enqueue(noop)
            tick._held._waiting = 0
            tick.close()


def _interrupted_after_flush(compiled: bool) -> tuple[list[str], int, int]:
    """What a tick leaves when an interrupt lands in its frame's end after the flush."""
    ran: list[str] = []
    with core(compiled):
        tick = airlock.tick_scope(order_by=airlock.by_phase("a", "b"))

        def effect() -> None:
            ran.append("effect")
            airlock.enqueue(ran.append, "later")  # arrives during the flush

        for _ in range(2):  # the first pipeline frame makes the context
            with tick:
                airlock.enqueue(noop)
        armed = [True]

        def interrupt_rescan(frame: Any, event: str, arg: object) -> None:
            if event == "call" and frame.f_code.co_name == "rescan" and armed[0]:
                armed[0] = False
                raise KeyboardInterrupt("in rescan")

        sys.settrace(interrupt_rescan)  # type: ignore[arg-type]
        try:
            with pytest.raises(KeyboardInterrupt), tick:
                airlock.enqueue(effect)
        finally:
            sys.settrace(None)
        with tick:  # the claim came back
            pass
        tick.close()
    return ran, tick.frame, tick.pending


def test_a_frame_interrupted_after_its_flush_leaves_the_tick_working_as_the_pure_one() -> None:
    """An interrupt in a pipeline frame's end after its effects ran (here in the rescan of
    what arrived during the flush): the frame's entries are kept or dropped first, so they
    never run again, and the claim comes back, so the next frames run; the same on both
    cores (the kernel's tick was stuck: second review)."""
    outcomes = [_interrupted_after_flush(compiled)
                for compiled in ([True, False] if BUILT else [False])]
    assert outcomes[0] == outcomes[-1]
    assert outcomes[0][0] == ["effect", "later"]  # each ran once


class KeyInterrupted:
    """A ``_key`` whose ``__hash__`` is interrupted (a Ctrl-C landing in it) the first time."""

    def __init__(self) -> None:
        self.hashed = 0

    def __hash__(self) -> int:
        self.hashed += 1
        if self.hashed == 1:
            raise KeyboardInterrupt
        return 1


@pytest.mark.parametrize("make", ["compiled", "pure"])
def test_a_keys_own_error_propagates_from_the_enqueue_once(
    make: str, c_enqueue: Callable[..., None],
) -> None:
    """Review: the kernel cleared any error of a key's ``__hash__`` and asked the pure path,
    which hashed again: an interrupt was lost and the enqueue went through."""
    enqueue = c_enqueue if make == "compiled" else _enqueue.enqueue
    for options in ({}, {"_name": "named"}):  # the keyed fast path, and the options path
        key = KeyInterrupted()
        with airlock.scope() as scope:
            with pytest.raises(KeyboardInterrupt):
                enqueue(noop, _key=key, **options)
            with airlock.policy(airlock.AllowAll()), pytest.raises(KeyboardInterrupt):
                key.hashed = 0
                enqueue(noop, _key=key, **options)  # (in a policy block: the viewed path)
        assert key.hashed == 1 and scope.stats.enqueued == 0


def test_a_class_judged_again_by_its_own_finalizer_is_forgotten_safely() -> None:
    """Review: a class judged from a finalizer while the collector frees it dies with one
    weak reference left, whose callback CPython calls without holding it; the kernel's
    callback freed it at its first dict and read it at the next (a crash)."""
    armed: list[type[airlock.Scope]] = []

    def make() -> None:
        class Sub(airlock.Scope):
            done = True  # armed once the class is garbage

            def __del__(self) -> None:
                cls = type(self)
                if not cls.done:
                    cls.done = True
                    with cls():  # judged again, by a finalizer, in the garbage
                        pass

        Sub.me = Sub()  # type: ignore[attr-defined]  # a class <-> instance cycle
        armed.append(Sub)
        with Sub():
            pass

    for _ in range(3):
        make()
        armed.pop().done = False  # type: ignore[attr-defined]
        gc.collect()


class HashCounted:
    """A key that counts how often it is hashed."""

    hashed = 0

    def __hash__(self) -> int:
        HashCounted.hashed += 1
        return 1


class WatchesEnqueues(airlock.Observer):
    def enqueued(self, intent: airlock.Intent) -> None:
        pass


@pytest.mark.parametrize("make", ["compiled", "pure"])
@pytest.mark.parametrize("observed", [False, True])
def test_an_enqueue_in_a_policy_block_hashes_its_key_as_often_on_both_cores(
    make: str, observed: bool, c_enqueue: Callable[..., None],
) -> None:
    """Review: the compiled enqueue in a block hashed the key, then handed a watched scope's
    enqueue to the pure path, which hashed it again."""
    enqueue = c_enqueue if make == "compiled" else _enqueue.enqueue
    HashCounted.hashed = 0
    with airlock.scope(observers=[WatchesEnqueues()] if observed else ()):
        with airlock.policy(airlock.AllowAll()):
            enqueue(noop, _key=HashCounted(), _name="x")
        hashed = HashCounted.hashed
    assert hashed == 1
