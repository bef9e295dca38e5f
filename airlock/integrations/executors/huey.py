"""Huey executor: a task is recognised by what it offers, not by its class.

A Huey task (anything with a ``task_class`` and a ``huey`` that can ``enqueue``) is enqueued
on its Huey with ``intent.dispatch_options`` as task options. With ``eta`` or ``delay`` it goes
through ``schedule(args, kwargs, **options)`` (Huey's ``schedule()`` refuses a call without
one of them); otherwise it is enqueued now with the other options (``priority``, ``retries``,
``retry_delay``, ``expires``, ``timeout``, ``id``). Anything else is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from ._direct import backend_options, call_directly

try:
    import huey  # type: ignore[import-untyped]  # noqa: F401 - fail early if missing
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.huey", "huey", "huey") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["huey_executor"]


def huey_executor(intent: Intent) -> Any:
    """Enqueue a Huey task (``schedule`` when timed) with the intent's options; else call it."""
    task = intent.task
    options = backend_options(intent)
    schedule = getattr(task, "schedule", None)
    if ("eta" in options or "delay" in options) and callable(schedule):
        return schedule(args=intent.args, kwargs=intent.kwargs, **options)
    task_class = getattr(task, "task_class", None)
    enqueue = getattr(getattr(task, "huey", None), "enqueue", None)
    if callable(task_class) and callable(enqueue):
        return enqueue(task_class(intent.args, intent.kwargs, **options))
    return call_directly(intent, "Huey")
