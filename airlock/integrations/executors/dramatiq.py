"""Dramatiq executor: an actor goes through ``send_with_options``; a plain callable is called.

``intent.dispatch_options`` become message options (``delay``, ``max_retries``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from .sync import sync_executor

try:
    from dramatiq import Actor
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.dramatiq", "dramatiq", "dramatiq") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["dramatiq_executor"]


def dramatiq_executor(intent: Intent) -> Any:
    """Send an actor with ``send_with_options(args, kwargs, **dispatch_options)``; else call it."""
    task = intent.task
    if isinstance(task, Actor):
        return task.send_with_options(
            args=intent.args, kwargs=intent.kwargs, **intent.dispatch_options
        )
    return sync_executor(intent)
