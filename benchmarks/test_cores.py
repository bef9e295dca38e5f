"""``benchmarks.cores``: the in-process switch between the compiled kernel and the pure core
covers every place the core binds the kernel, and a tick made under it keeps its frames (the
report's ``airlock tick (pure)`` contender is built that way)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import airlock
from airlock import _dispatch, _enqueue, _native, _pipeline

from .contenders.ours import AirlockTick, AirlockTickPure
from .cores import SWITCHED, compiled_frames, core, kernel
from .effects import Recorder, noop
from .expect import expected_calls
from .workloads import WORKLOADS

#: bindings read once, at import (``_kernel`` picks ``enqueue`` with them), or the definitions
AT_IMPORT = {("airlock._kernel", "_native"), ("airlock._kernel", "speedups"),
             ("airlock._native", "speedups"), ("airlock", "_speedups")}
KERNEL = kernel()
needs_kernel = pytest.mark.skipif(KERNEL is None, reason="airlock._speedups is not built here")


def _holds_the_kernel(value: object) -> bool:
    return value is _native.speedups or (KERNEL is not None and (
        value is KERNEL or getattr(value, "__module__", None) == KERNEL.__name__
    ))


def _bindings() -> set[tuple[str, str]]:
    """(module, attribute) of every loaded airlock module attribute that holds the kernel, one
    of its functions, or ``_native.speedups`` (which decides whether it runs)."""
    return {
        (name, attribute)
        for name, module in list(sys.modules.items())
        if (name == "airlock" or name.startswith("airlock."))
        and (KERNEL is None or name != KERNEL.__name__)  # the kernel's own namespace
        for attribute, value in list(vars(module).items())
        if _holds_the_kernel(value)
    }


def test_every_binding_of_the_kernel_is_switched() -> None:
    switched = {(module.__name__, name) for module, name in SWITCHED
                if isinstance(module, ModuleType)}  # (Scope's methods: below)
    found = _bindings() - AT_IMPORT
    assert found <= switched, (
        f"the core binds the kernel where core() does not switch it: {sorted(found - switched)}"
    )
    if airlock.compiled:  # (the pure core's fused order-and-merge stage is None there)
        assert found == switched - {("airlock._pipeline", "order_and_merge")}
    methods = {name for cls, name in SWITCHED if isinstance(cls, type)}
    assert methods == {"__enter__", "__exit__"}
    assert all(_holds_the_kernel(getattr(airlock.Scope, name)) == airlock.compiled
               for name in methods)


def test_the_pure_core_runs_inside_the_block_and_the_ticks_made_there_keep_it() -> None:
    before = airlock.enqueue
    with core(False):
        assert airlock.enqueue is _enqueue.enqueue
        assert not any(_holds_the_kernel(getattr(module, name)) for module, name in SWITCHED)
        tick = airlock.tick_scope()
    assert airlock.enqueue is before
    assert not compiled_frames(tick)
    log: list[int] = []
    with tick:
        airlock.enqueue(log.append, 1)
    assert log == [1] and tick.stats.dispatched == 1
    tick.close()


@needs_kernel
def test_the_kernel_runs_inside_the_block_whatever_the_process_runs() -> None:
    assert KERNEL is not None
    before = airlock.enqueue
    with core(True):
        assert airlock.enqueue is KERNEL.enqueue
        assert _pipeline.coalesce is KERNEL.coalesce and _dispatch.call_each is KERNEL.call_each
        tick = airlock.tick_scope()
    assert airlock.enqueue is before
    assert compiled_frames(tick)
    tick.close()


def test_the_bindings_come_back_when_the_block_raises() -> None:
    before = [inspect.getattr_static(module, name) for module, name in SWITCHED]
    with pytest.raises(ValueError, match="inside"), core(False):
        raise ValueError("inside")
    assert [inspect.getattr_static(module, name) for module, name in SWITCHED] == before
    with airlock.scope() as scope:  # Scope's methods are descriptors again: they bind
        pass
    assert scope.stats.enqueued == 0


def _free_variables(frame: Callable[[], None]) -> dict[str, Any]:
    code = frame.__code__
    cells = frame.__closure__ or ()
    return dict(zip(code.co_freevars, (cell.cell_contents for cell in cells), strict=True))


def test_the_pure_tick_contender_runs_the_pure_core_beside_the_compiled_one() -> None:
    pure, compiled = AirlockTickPure(), AirlockTick()
    assert pure.name == "airlock tick (pure)"
    assert [w.name for w in WORKLOADS if pure.supports(w.name)] == ["intents", "empty"]
    intents = _free_variables(pure.build("intents", 3, noop))
    assert intents["enqueue"] is _enqueue.enqueue and not compiled_frames(intents["tick"])
    assert not compiled_frames(_free_variables(pure.build("empty", 0, noop))["tick"])
    theirs = _free_variables(compiled.build("intents", 3, noop))
    assert theirs["enqueue"] is airlock.enqueue
    assert compiled_frames(theirs["tick"]) == airlock.compiled


def test_the_pure_tick_contenders_frames_read_no_switched_binding_when_they_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Built under ``core(False)``, its frames keep the pure core outside the block: they
    never read a binding ``core()`` switches (the stages and the dispatch loop are read when
    a flush runs; a plain frame reaches none)."""
    recorder = Recorder()
    frames = [AirlockTickPure().build("intents", k, recorder) for k in (1, 10)]
    frames.append(AirlockTickPure().build("empty", 0, recorder))

    def read(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a frame read a binding that core() switches")

    for module, name in SWITCHED:
        monkeypatch.setattr(module, name, read)
    for frame in frames:
        frame()
        frame()
    assert recorder.calls == expected_calls("intents", 1) * 2 + expected_calls("intents", 10) * 2
