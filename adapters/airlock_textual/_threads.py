"""Threads: what a thread worker and a ``call_from_thread`` callback see as the airlock target.

What Textual 8 carries (measured, see ``test_textual_threads.py``):
- A thread worker (``@work(thread=True)``, ``run_worker(fn, thread=True)``) runs in the loop's
  default executor, which does not copy the caller's context: the thread has its own context,
  with no airlock scope (nor Textual's active app).
- ``app.call_from_thread(cb)`` runs ``cb`` on the app's loop, in a new task whose context is a
  copy of the *calling thread's* context: again no airlock scope, unless the thread had one.

Rules (the adapter applies them through ``_hook.py`` and ``AirlockApp.call_from_thread``):
- A thread worker runs with the app's tick as its airlock target: ``airlock.enqueue`` there
  joins the tick's open frame or its next one (the core's rule for threads that carry a
  tick), and the effect runs on the app's thread when that frame flushes.
- A ``call_from_thread`` callback runs on the app's thread with the tick as its target when
  the calling thread had no airlock scope (a thread that carries one keeps it).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from airlock import Scope, get_current_scope, reset_current_scope, set_current_scope

__all__ = ["call_with_target", "carry_target"]


def _is_async_work(work: Any) -> bool:
    """Textual's own test of a thread worker's work (``Worker._run_threaded``)."""
    return inspect.iscoroutinefunction(work) or (
        hasattr(work, "func") and inspect.iscoroutinefunction(work.func)
    )


def carry_target(work: Any, target: Scope) -> Any:
    """``work`` of the same kind (coroutine function, awaitable or function) that runs with
    ``target`` as the airlock target; anything else is returned as it is (Textual refuses it)."""
    if _is_async_work(work):

        async def run_async_work() -> Any:
            token = set_current_scope(target)
            try:
                return await work()
            finally:
                reset_current_scope(token)

        return run_async_work
    if inspect.isawaitable(work):
        return _await_with_target(work, target)
    if callable(work):

        def run_work() -> Any:
            token = set_current_scope(target)
            try:
                return work()
            finally:
                reset_current_scope(token)

        return run_work
    return work


async def _await_with_target(awaitable: Awaitable[Any], target: Scope) -> Any:
    token = set_current_scope(target)
    try:
        return await awaitable
    finally:
        reset_current_scope(token)


async def call_with_target(callback: Callable[[], Any], target: Scope) -> Any:
    """Call ``callback()`` (awaiting its result if need be) with ``target`` as the airlock
    target, unless a scope is already current here."""
    token = set_current_scope(target) if get_current_scope() is None else None
    try:
        result = callback()
        if inspect.isawaitable(result):
            result = await result
        return result
    finally:
        if token is not None:
            reset_current_scope(token)
