"""Django Tasks executor: Django 6's ``django.tasks`` (or the ``django-tasks`` backport).

A task object (anything with ``enqueue``, such as a ``@task``) goes through
``task.using(**dispatch_options).enqueue(*args, **kwargs)``: the options are those of
``Task.using()`` (``priority``, ``run_after``, ``queue_name``, ``backend``) and without any
the task is enqueued as declared. A plain callable is called.

A ``@task`` is not callable, so only a scope whose executor knows task objects can dispatch
it: configure this executor (``AIRLOCK = {"EXECUTOR": ...}`` or ``airlock.configure()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from .sync import sync_executor

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


def django_tasks_executor(intent: Intent) -> Any:
    """``task.using(**dispatch_options).enqueue(*args, **kwargs)``; call a plain callable.

    Returns the backend's ``TaskResult`` for a task object.
    """
    task: Any = intent.task
    enqueue = getattr(task, "enqueue", None)
    if not callable(enqueue):
        return sync_executor(intent)
    options = intent.dispatch_options
    if options:
        enqueue = task.using(**options).enqueue
    return enqueue(*intent.args, **intent.kwargs)
