"""django-q2 executor: an importable function goes through ``async_task``; others are called.

django-q runs any function its cluster can import, so "a task" here means a function reachable
by its module and name. Lambdas, closures and bound methods cannot be shipped to a cluster and
are called directly. ``intent.dispatch_options`` are passed as ``q_options`` (``group``,
``timeout``, ``hook``, ``sync``, ``task_name``...); a call with no options is
``async_task(task, *args, **kwargs)``, as airlock-py makes it. django-q takes a task keyword
argument named like one of its options for itself, so such a call fails (``TypeError``)
instead of losing the argument.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from ._direct import backend_options, call_directly, refuse_async

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


#: keyword arguments ``async_task`` takes as its own options (unless ``q_options`` has them)
_Q_OPTION_NAMES = frozenset((
    "ack_failure", "broker", "cached", "chain", "cluster", "group", "hook", "iter_cached",
    "iter_count", "q_options", "save", "sync", "task_name", "timeout",
))


def django_q_executor(intent: Intent) -> Any:
    """``async_task(task, *args, **kwargs)``, with ``q_options=dispatch_options`` when there
    are options; call non-importables. A task keyword django-q would take as its own option
    (``group``, ``timeout``...) fails the intent with ``TypeError``."""
    if not is_importable(intent.task):
        return call_directly(intent, "django-q")
    refuse_async(intent.task, intent.task, "django-q")
    from django_q.tasks import async_task  # type: ignore[import-untyped]  # needs Django apps

    options = backend_options(intent)
    taken = sorted(
        name for name in _Q_OPTION_NAMES.intersection(intent.kwargs)
        if name in ("q_options", "task_name") or name not in options
    )
    if taken:  # django-q would pass them to itself, not to the task: refuse, never lose them
        raise TypeError(
            f"django-q takes the keyword argument(s) {taken} of {intent} as its own "
            "options, so the task would never get them; rename the task's parameter(s)"
        )
    if options:
        return async_task(intent.task, *intent.args, q_options=dict(options), **intent.kwargs)
    return async_task(intent.task, *intent.args, **intent.kwargs)
