"""The seed documents' examples that need a task queue (000 and 002: Celery, and the import
paths of every built-in executor), run as written; the other examples are
``tests/test_seeds.py``'s. Celery runs as an eager in-memory app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery  # type: ignore[import-untyped]

import airlock
from airlock import Intent
from airlock.integrations.executors.celery import celery_executor

logger = logging.getLogger(__name__)


@pytest.fixture
def celery_app() -> Iterator[Celery]:
    app = Celery("seeds", broker="memory://", backend="cache+memory://")
    app.conf.task_always_eager = True
    yield app


def test_000_celery_executor_under_drop_all(celery_app: Celery) -> None:
    ran: list[int] = []

    @celery_app.task
    def my_task(some_param: int) -> None:
        ran.append(some_param)

    with airlock.scope(policy=airlock.DropAll(), executor=celery_executor):
        airlock.enqueue(my_task, some_param=123)
    assert ran == []
    with airlock.scope(executor=celery_executor):
        airlock.enqueue(my_task, some_param=123)
    assert ran == [123]


def test_002_priority_executor(celery_app: Celery) -> None:
    queued: list[str] = []
    ran_now: list[str] = []

    @celery_app.task(name="low_task")
    def low_task() -> None:
        queued.append("low_task")

    def urgent_task() -> None:
        ran_now.append("urgent_task")

    def priority_executor(intent: Intent) -> None:
        """Execute high-priority tasks immediately, queue low-priority."""
        priority = intent.dispatch_options.get("priority", 5)
        if priority >= 8:
            intent.task(*intent.args, **intent.kwargs)
        else:
            celery_executor(intent)

    with airlock.scope(executor=priority_executor):
        airlock.enqueue(urgent_task, _dispatch_options={"priority": 10})
        airlock.enqueue(low_task)
    assert ran_now == ["urgent_task"] and queued == ["low_task"]


def with_retry(executor: Callable[[Intent], Any], retries: int = 3) -> Callable[[Intent], None]:
    """Wrap executor with retry logic (seed 002)."""

    def retrying_executor(intent: Intent) -> None:
        for attempt in range(retries):
            try:
                executor(intent)
                return
            except Exception:
                if attempt == retries - 1:
                    raise
                logger.warning(f"Retry {attempt + 1}/{retries}")

    return retrying_executor


def test_002_with_retry_composition(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    def flaky(succeed_on: int) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) < succeed_on:
            raise TimeoutError

    with airlock.scope(executor=with_retry(celery_executor, retries=3)):
        airlock.enqueue(flaky, 3)
    assert attempts == [1, 2, 3]
    assert caplog.messages == ["Retry 1/3", "Retry 2/3"]

    attempts.clear()
    with pytest.raises(TimeoutError), airlock.scope(executor=with_retry(celery_executor, 2)):
        airlock.enqueue(flaky, 5)
    assert attempts == [1, 2]


def test_002_builtin_executor_import_paths() -> None:
    from airlock.integrations.executors.django_q import django_q_executor
    from airlock.integrations.executors.dramatiq import dramatiq_executor
    from airlock.integrations.executors.huey import huey_executor
    from airlock.integrations.executors.sync import sync_executor

    for executor in (sync_executor, celery_executor, django_q_executor, huey_executor,
                     dramatiq_executor):
        assert callable(executor) and isinstance(executor, airlock.Executor)
