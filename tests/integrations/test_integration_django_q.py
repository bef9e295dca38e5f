"""django_q_executor against django-q2 in sync mode (real task packing, signing and ORM results)."""

from __future__ import annotations

from typing import Any

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


TAGGED: list[tuple[int, object]] = []


def tag(value: int, group: object = None) -> int:
    """An importable effect with a keyword django-q would take as its own option."""
    TAGGED.append((value, group))
    return value


@pytest.fixture
def async_task_calls(monkeypatch: pytest.MonkeyPatch, effect_log: Log) -> list[Any]:
    """Each ``django_q.tasks.async_task`` call (args, kwargs), passed on to the real one."""
    import django_q.tasks

    real = django_q.tasks.async_task
    calls: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(django_q.tasks, "async_task", recording)
    return calls


def test_a_plain_call_without_options_is_async_task_with_args_and_kwargs(
    async_task_calls: list[Any], effect_log: Log
) -> None:
    """As airlock-py calls it: ``async_task(task, *args, **kwargs)``, no ``q_options``."""
    from airlock_djangoapp.effects import add

    from airlock.integrations.executors.django_q import django_q_executor

    with airlock.scope(executor=django_q_executor):
        airlock.enqueue(add, 2, b=3)
    assert async_task_calls == [((add, 2), {"b": 3})]
    assert effect_log == [("add", 5)]


def test_a_task_keyword_django_q_would_take_fails_the_intent_instead_of_vanishing(
    async_task_calls: list[Any],
) -> None:
    from airlock.integrations.executors.django_q import django_q_executor

    TAGGED.clear()
    with airlock.scope(executor=django_q_executor, errors="continue") as scope:
        airlock.enqueue(tag, 1, group="mine")
        airlock.enqueue(tag, 2, group="theirs", _dispatch_options={"group": "theirs"})
        airlock.enqueue(tag, 3)
    assert TAGGED == [(2, "theirs"), (3, None)]  # q_options holding "group" protects it
    [(intent, error)] = scope.stats.failures
    assert intent.args == (1,) and "rename the task's parameter" in str(error)
    assert "['group']" in str(error)
