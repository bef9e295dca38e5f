"""Huey executor: a Huey task is enqueued on its Huey; a plain callable is called.

``intent.dispatch_options`` become task options. With ``eta`` or ``delay`` the task goes
through ``schedule(args, kwargs, **options)``; otherwise it is enqueued now with the other
options (``priority``, ``retries``, ``retry_delay``, ``expires``, ``timeout``, ``id``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from .sync import sync_executor

try:
    from huey.api import TaskWrapper  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.huey", "huey", "huey") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["huey_executor"]


def huey_executor(intent: Intent) -> Any:
    """Enqueue a Huey task (``schedule`` when timed) with the intent's options; else call it."""
    task = intent.task
    if not isinstance(task, TaskWrapper):
        return sync_executor(intent)
    options = intent.dispatch_options
    if "eta" in options or "delay" in options:
        return task.schedule(args=intent.args, kwargs=intent.kwargs, **options)
    return task.huey.enqueue(task.task_class(intent.args, intent.kwargs, **options))
