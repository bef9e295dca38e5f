"""django-q2 executor: an importable function goes through ``async_task``; others are called.

django-q runs any function its cluster can import, so "a task" here means a function reachable
by its module and name. Lambdas, closures and bound methods cannot be shipped to a cluster and
are called directly. ``intent.dispatch_options`` are passed as ``q_options`` (``group``,
``timeout``, ``hook``, ``sync``, ``task_name``...), so they never collide with task kwargs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from .sync import sync_executor

try:
    import django_q  # type: ignore[import-untyped]  # noqa: F401 - fail early if missing
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.django_q", "django-q2", "django-q") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["django_q_executor", "is_importable"]


def is_importable(task: object) -> bool:
    """True when ``task`` is the object found at ``task.__module__`` + ``task.__qualname__``."""
    module = sys.modules.get(getattr(task, "__module__", None) or "")
    qualname = getattr(task, "__qualname__", None)
    if module is None or not isinstance(qualname, str) or "<" in qualname:
        return False
    found: object = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is task


def django_q_executor(intent: Intent) -> Any:
    """``async_task(task, *args, q_options=dispatch_options, **kwargs)``; call non-importables."""
    if not is_importable(intent.task):
        return sync_executor(intent)
    from django_q.tasks import async_task  # type: ignore[import-untyped]  # needs Django apps

    return async_task(
        intent.task, *intent.args, q_options=dict(intent.dispatch_options), **intent.kwargs
    )
