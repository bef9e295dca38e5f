"""The executor interface: *how* an intent that escaped its scope runs.

Rule: an executor that calls the task in the flushing thread (``sync_executor``, the plain
loops) fails an effect that returns a coroutine (``refuse_coroutine``): nothing would ever
await it, so the effect would be counted dispatched and never run.
"""

from __future__ import annotations

import functools
import inspect
from types import CoroutineType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, runtime_checkable

from ._intent import task_name

if TYPE_CHECKING:
    from ._intent import Intent

__all__ = ["Executor", "check_executor", "refuse_coroutine", "runs_tasks", "sync_executor"]


@runtime_checkable
class Executor(Protocol):
    """Any callable taking the ``Intent``: ``executor(intent)``. A plain function is one.

    ``isinstance(obj, airlock.Executor)`` is True for every callable (every built-in executor,
    any function); it checks the shape only, as the call signature cannot be checked at run time.

    An executor that calls the task itself, in the flushing thread, may also define
    ``run_task(task, args, kwargs, get_intent)``: a flush then hands it each buffered record as
    it is, and builds no ``Intent`` unless the executor calls ``get_intent()`` (which returns
    the one the scope shows). ``sync_executor`` behaves so; ``AsyncioExecutor`` defines it.
    """

    def __call__(self, intent: Intent, /) -> Any:
        """Run (or send) ``intent``; an exception aborts or is reported by the flush."""


def sync_executor(intent: Intent) -> Any:
    """Call ``intent.task(*intent.args, **intent.kwargs)`` in the flushing thread (the default
    executor; also importable as ``airlock.integrations.executors.sync.sync_executor``)."""
    task = intent.task
    result = task(*intent.args, **intent.kwargs)
    if type(result) is CoroutineType:
        refuse_coroutine(task, result)
    return result


def refuse_coroutine(task: Any, coroutine: Any) -> NoReturn:
    """``task`` returned ``coroutine`` to an executor that cannot await it: close it (it never
    ran) and fail the effect."""
    coroutine.close()
    raise TypeError(
        f"effect {task_name(task)!r} returned a coroutine (is it an async def?) and did not "
        "run: the default executor calls effects and cannot await them. Dispatch async "
        "effects with AsyncioExecutor (airlock.integrations.executors.asyncio), or enqueue a "
        "plain function that schedules the coroutine on your event loop"
    )


def runs_tasks(executor: Any) -> bool:
    """True when a flush may hand ``executor`` records instead of Intents (see ``Executor``)."""
    return executor is sync_executor or callable(getattr(executor, "run_task", None))


def check_executor(executor: Any) -> Any:
    """Refuse what cannot be an executor: not callable, or an ``async def`` (calling it only
    makes a coroutine, so the effects would never run)."""
    if not callable(executor):
        raise TypeError(f"executor must be a callable taking an Intent, got {executor!r}")
    func = executor
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func) or (
        not inspect.isroutine(func)
        and inspect.iscoroutinefunction(type(func).__call__)
    ):
        raise TypeError(
            f"executor {executor!r} is an async function: calling it only creates a coroutine, "
            "so no effect would run. Use AsyncioExecutor "
            "(airlock.integrations.executors.asyncio) to run async effects on an event loop"
        )
    return executor
