"""What the task-queue executors do with an effect their backend cannot take.

Rules:
- An effect that is not a task of the backend is called in the flushing thread
  (``sync_executor``: an ``async def`` one fails there). The backend's dispatch options cannot
  apply to a direct call: an effect enqueued with one that would run directly fails with
  ``TypeError`` (it would otherwise run at once, its ``countdown``/``queue`` unheard).
  Airlock's own (``phase``, read by ``by_phase``) are not the backend's.
- An ``async def`` function handed to a backend that calls it without awaiting it (django-q,
  Celery) fails with ``TypeError`` before it is sent: its body would never run.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from ..._intent import task_name
from .sync import sync_executor

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["AIRLOCK_OPTIONS", "backend_options", "call_directly", "refuse_async"]


#: dispatch options airlock reads itself (``by_phase``): never the backend's
AIRLOCK_OPTIONS = frozenset({"phase"})


def backend_options(intent: Intent) -> dict[str, Any]:
    """``intent``'s dispatch options meant for the backend (airlock's own left out)."""
    options = intent.dispatch_options
    if not options or AIRLOCK_OPTIONS.isdisjoint(options):
        return dict(options) if options else {}
    return {name: value for name, value in options.items() if name not in AIRLOCK_OPTIONS}


def call_directly(intent: Intent, backend: str) -> Any:
    """Call ``intent``'s task in the flushing thread: it is not a ``backend`` task."""
    options = backend_options(intent)
    if options:
        raise TypeError(
            f"{intent} has dispatch options {sorted(options)}, but {task_name(intent.task)!r} "
            f"is not a {backend} task, so the executor would call it at once in the flushing "
            f"thread, where no option applies. Make it a {backend} task (the {backend} "
            "decorator outermost, above @airlock.scoped), or enqueue it without "
            "_dispatch_options"
        )
    return sync_executor(intent)


def refuse_async(task: Any, function: Any, backend: str) -> None:
    """Fail ``task`` (its body ``function``) if it is an ``async def``: ``backend`` would call
    it without awaiting, and its body would never run."""
    if function is not None and inspect.iscoroutinefunction(inspect.unwrap(function)):
        raise TypeError(
            f"effect {task_name(task)!r} is an async def: {backend} calls its task without "
            "awaiting it, so its body would never run. Make the task a plain function (it "
            "may run a coroutine with asyncio.run), or dispatch it with AsyncioExecutor "
            "(airlock.integrations.executors.asyncio)"
        )
