"""django_tasks_executor against Django's Tasks framework (Django 6's ``django.tasks``, or the
``django-tasks`` backport on older Django): the immediate backend, and django-tasks-db's
database backend run by its ``db_worker``."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

import airlock
from airlock.integrations.executors.django_tasks import django_tasks_executor

pytestmark = pytest.mark.usefixtures("django_project")

Log = list[tuple[str, object]]


@pytest.fixture
def tasks(effect_log: Log) -> Any:
    from airlock_djangoapp import tasks
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    return tasks


def queued() -> list[tuple[str, str, int, str]]:
    """(task path, queue, priority, status) of each task in the database backend."""
    from django_tasks_db.models import DBTaskResult

    return [
        (r.task_path.rpartition(".")[2], r.queue_name, r.priority, str(r.status))
        for r in DBTaskResult.objects.order_by("enqueued_at")
    ]


def run_worker(queue: str = "default") -> None:
    """django-tasks-db's worker: run every task that is due, then exit."""
    from django.core.management import call_command

    # as command-line words: argparse would check the default --backend ("default") otherwise
    call_command(
        "db_worker", "--backend=db", f"--queue-name={queue}", "--batch", "--no-startup-delay",
        verbosity=0,
    )


def test_the_executor_is_an_airlock_executor() -> None:
    assert isinstance(django_tasks_executor, airlock.Executor)


def test_a_task_runs_at_flush_on_the_immediate_backend(tasks: Any, effect_log: Log) -> None:
    with airlock.scope(executor=django_tasks_executor) as scope:
        airlock.enqueue(tasks.send_welcome, 7, greeting="hi")
        assert effect_log == []
    assert effect_log == [("send_welcome", (7, "hi"))]
    (intent,) = scope.intents
    assert intent.name == "send_welcome"
    assert intent.qualified_name == "airlock_djangoapp.tasks.send_welcome"
    result = django_tasks_executor(airlock.Intent(tasks.send_welcome, (8,)))
    assert result.return_value == "hello 8"


def test_dispatch_options_go_through_using(tasks: Any, effect_log: Log) -> None:
    with airlock.scope(executor=django_tasks_executor):
        airlock.enqueue(
            tasks.send_welcome, 1,
            _dispatch_options={"backend": "db", "queue_name": "mail", "priority": 5},
        )
        airlock.enqueue(tasks.send_digest, 2)  # its own backend and queue, as declared
    assert effect_log == []  # queued in the database, not run
    assert queued() == [
        ("send_welcome", "mail", 5, "READY"), ("send_digest", "mail", 0, "READY"),
    ]
    run_worker("mail")
    assert sorted(effect_log) == [("send_digest", 2), ("send_welcome", (1, "hello"))]
    assert {status for *_, status in queued()} == {"SUCCESSFUL"}


def test_run_after_holds_the_task_back_on_the_worker(tasks: Any, effect_log: Log) -> None:
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    with airlock.scope(executor=django_tasks_executor):
        airlock.enqueue(tasks.send_welcome, 3, _dispatch_options={"backend": "db",
                                                                  "run_after": later})
    run_worker()
    assert effect_log == [] and queued() == [("send_welcome", "default", 0, "READY")]


def test_a_discarded_scope_enqueues_nothing(tasks: Any, effect_log: Log) -> None:
    with pytest.raises(RuntimeError), airlock.scope(executor=django_tasks_executor):
        airlock.enqueue(tasks.send_digest, 4)
        raise RuntimeError("abort")
    assert queued() == [] and effect_log == []


def test_block_tasks_blocks_a_task_by_name(tasks: Any, effect_log: Log) -> None:
    policy = airlock.BlockTasks({"send_digest"})
    with airlock.scope(policy, executor=django_tasks_executor) as scope:
        airlock.enqueue(tasks.send_digest, 5)
        airlock.enqueue(tasks.send_welcome, 5)
    assert scope.stats.dropped == 1 and queued() == []
    assert effect_log == [("send_welcome", (5, "hello"))]


def test_a_plain_callable_is_called(effect_log: Log) -> None:
    calls: list[int] = []
    with airlock.scope(executor=django_tasks_executor):
        airlock.enqueue(calls.append, 1)
    assert calls == [1]


def test_a_task_under_an_executor_that_cannot_send_it_fails_at_flush(tasks: Any) -> None:
    with pytest.raises(TypeError, match="not callable"), airlock.scope():
        airlock.enqueue(tasks.send_welcome, 1)


def test_a_request_enqueues_tasks_after_its_response(tasks: Any, effect_log: Log) -> None:
    from airlock_djangoapp import effects
    from django.test import Client, override_settings

    executor = "airlock.integrations.executors.django_tasks.django_tasks_executor"
    effects.TASKS[:] = [tasks.send_digest]
    try:
        with override_settings(AIRLOCK={"EXECUTOR": executor}):
            assert Client().get("/enqueue-tasks/").status_code == 200
            assert Client().get("/status/400/").status_code == 400
    finally:
        effects.TASKS.clear()
    assert queued() == [("send_digest", "mail", 0, "READY")]


class EnqueueOnly:
    """A task object with ``enqueue`` and no ``using`` (a thin wrapper over a real task)."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self.name = "app.tasks.enqueue_only"

    def enqueue(self, *args: Any, **kwargs: Any) -> Any:
        return self.task.enqueue(*args, **kwargs)


def test_a_task_without_using_is_enqueued_without_its_options_and_logged_once(
    tasks: Any, effect_log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    task = EnqueueOnly(tasks.send_welcome)
    with caplog.at_level("WARNING", logger="airlock"), airlock.scope(
        executor=django_tasks_executor
    ) as scope:
        airlock.enqueue(task, 1, _dispatch_options={"priority": 5})
        airlock.enqueue(task, 2, _dispatch_options={"priority": 5})
    assert effect_log == [("send_welcome", (1, "hello")), ("send_welcome", (2, "hello"))]
    assert scope.stats.dispatched == 2 and scope.stats.failed == 0
    warnings = [r.getMessage() for r in caplog.records if "has no using()" in r.getMessage()]
    assert len(warnings) == 1 and "app.tasks.enqueue_only" in warnings[0]
    assert "['priority']" in warnings[0]
