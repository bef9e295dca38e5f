"""Celery executor: dispatch by what the task can do, not by its class.

Anything with ``apply_async`` (a task, a signature ``add.s(1)``, a chain, a group, a chord)
goes through ``apply_async(args=..., kwargs=..., **dispatch_options)``; else anything with
``delay`` through ``delay(*args, **kwargs)``; else it is called (see ``_direct``: with
dispatch options, it fails instead). ``intent.dispatch_options`` become ``apply_async`` options
(``countdown``, ``queue``, ``eta``...). A task whose body is an ``async def`` fails: Celery
would never await it.

A publish to a broker that is down raises in the flush (counted ``failed``), after Celery's
publish retries: about 0.6 s each with the defaults. ``retry_policy={"max_retries": 0}`` among
the dispatch options makes it fail at once (docs/integrations/celery.md has the numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from ._direct import backend_options, call_directly, refuse_async

try:
    import celery  # type: ignore[import-untyped]  # noqa: F401 - fail early if missing
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.celery", "celery", "celery") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["celery_executor"]


def celery_executor(intent: Intent) -> Any:
    """``apply_async(args, kwargs, **dispatch_options)``, else ``delay(*args, **kwargs)``,
    else call the task."""
    task = intent.task
    apply_async = getattr(task, "apply_async", None)
    if callable(apply_async):
        refuse_async(task, getattr(task, "run", None), "Celery")
        return apply_async(args=intent.args, kwargs=intent.kwargs, **backend_options(intent))
    delay = getattr(task, "delay", None)
    if callable(delay) and not backend_options(intent):
        return delay(*intent.args, **intent.kwargs)
    return call_directly(intent, "Celery")
