"""django_q_executor against django-q2 in sync mode (real task packing, signing and ORM results)."""

from __future__ import annotations

import pytest

import airlock

Log = list[tuple[str, object]]


def test_importable_function_goes_through_async_task(effect_log: Log) -> None:
    from airlock_djangoapp.effects import add
    from django_q.tasks import fetch_group

    from airlock.integrations.executors.django_q import django_q_executor

    with airlock.scope(executor=django_q_executor):
        airlock.enqueue(add, 2, b=3, _dispatch_options={"group": "airlock", "task_name": "t1"})
        assert effect_log == []
    assert effect_log == [("add", 5)]
    [task] = fetch_group("airlock")  # django-q stored the result under the group we passed
    assert task.result == 5 and task.name == "t1" and task.success


def test_discarded_scope_sends_nothing(effect_log: Log) -> None:
    from airlock_djangoapp.effects import add
    from django_q.models import Task

    from airlock.integrations.executors.django_q import django_q_executor

    before = Task.objects.count()
    with pytest.raises(RuntimeError), airlock.scope(executor=django_q_executor):
        airlock.enqueue(add, 1, 1)
        raise RuntimeError("abort")
    assert effect_log == [] and Task.objects.count() == before


def test_non_importable_callables_are_called_directly(effect_log: Log) -> None:
    from airlock_djangoapp.effects import add

    from airlock.integrations.executors.django_q import django_q_executor, is_importable

    calls: list[int] = []

    def local(x: int) -> None:
        calls.append(x)

    with airlock.scope(executor=django_q_executor):
        airlock.enqueue(local, 1)
        airlock.enqueue(lambda: calls.append(2))
    assert calls == [1, 2]
    assert is_importable(add) and not is_importable(local) and not is_importable(calls.append)


def test_the_executor_is_an_airlock_executor() -> None:
    from airlock.integrations.executors.django_q import django_q_executor

    assert isinstance(django_q_executor, airlock.Executor)
