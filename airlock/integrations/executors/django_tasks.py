"""Django Tasks executor: Django 6's ``django.tasks`` (or the ``django-tasks`` backport).

A task object (anything with ``enqueue``, such as a ``@task``) goes through
``task.using(**dispatch_options).enqueue(*args, **kwargs)``: the options are those of
``Task.using()`` (``priority``, ``run_after``, ``queue_name``, ``backend``) and without any
the task is enqueued as declared. A task object with ``enqueue`` but no ``using`` is enqueued
without its options (a warning says so, once per task). A plain callable is called.

A ``@task`` is not callable, so only a scope whose executor knows task objects can dispatch
it: configure this executor (``AIRLOCK = {"EXECUTOR": ...}`` or ``airlock.configure()``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..._intent import qualified_task_name
from .._extras import missing_extra
from ._direct import backend_options, call_directly

try:
    import django.tasks  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
except ImportError:  # Django < 6: the backport
    try:
        import django_tasks  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess
        raise missing_extra(
            "airlock.integrations.executors.django_tasks",
            "django-tasks (or Django 6)",
            "django-tasks",
        ) from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["django_tasks_executor"]

logger = logging.getLogger("airlock")


def django_tasks_executor(intent: Intent) -> Any:
    """``task.using(**dispatch_options).enqueue(*args, **kwargs)``; call a plain callable.

    Returns the backend's ``TaskResult`` for a task object.
    """
    task: Any = intent.task
    enqueue = getattr(task, "enqueue", None)
    if not callable(enqueue):
        return call_directly(intent, "django-tasks")
    options = backend_options(intent)
    if options:
        using = getattr(task, "using", None)
        if callable(using):
            enqueue = using(**options).enqueue
        else:
            _warn_options_ignored(task, options)
    return enqueue(*intent.args, **intent.kwargs)


_warned: set[str] = set()


def _warn_options_ignored(task: Any, options: dict[str, Any]) -> None:
    """A task object with ``enqueue`` but no ``using()`` cannot take options: say so once
    per task (the effect still goes out, enqueued as declared)."""
    name = qualified_task_name(task)
    if name not in _warned:
        _warned.add(name)
        logger.warning(
            "airlock: %s has no using(), so its dispatch options %s are ignored; it is "
            "enqueued as declared (logged once per task)", name, sorted(options),
        )
