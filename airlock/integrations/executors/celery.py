"""Celery executor: a Celery task goes through ``apply_async``; a plain callable is called.

``intent.dispatch_options`` become ``apply_async`` options (``countdown``, ``queue``, ``eta``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from .sync import sync_executor

try:
    from celery import Task  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.celery", "celery", "celery") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["celery_executor"]


def celery_executor(intent: Intent) -> Any:
    """Send a Celery task with ``apply_async(args, kwargs, **dispatch_options)``; else call it."""
    task = intent.task
    if isinstance(task, Task):
        return task.apply_async(
            args=intent.args, kwargs=intent.kwargs, **intent.dispatch_options
        )
    return sync_executor(intent)
