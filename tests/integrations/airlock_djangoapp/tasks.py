"""Django Tasks for the integration tests (Django 6's ``django.tasks``, else the backport).

Import it only once Django is configured: ``@task`` checks its backend when it is declared.
"""

from __future__ import annotations

from importlib.util import find_spec

from .effects import LOG

if find_spec("django.tasks") is not None:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
else:
    from django_tasks import task  # type: ignore[no-redef,import-not-found,unused-ignore]


@task()
def send_welcome(user_id: int, greeting: str = "hello") -> str:
    """Log that it ran (on the worker, or at once with the immediate backend)."""
    LOG.append(("send_welcome", (user_id, greeting)))
    return f"{greeting} {user_id}"


@task(queue_name="mail", backend="db")
def send_digest(user_id: int) -> None:
    LOG.append(("send_digest", user_id))
