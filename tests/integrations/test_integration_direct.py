"""What the task-queue executors do with an effect their backend cannot take (``_direct``):
a direct call, refused with dispatch options; an ``async def`` a backend would never await,
refused before it is sent."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

import airlock

EXECUTORS = {
    "celery": "airlock.integrations.executors.celery:celery_executor",
    "dramatiq": "airlock.integrations.executors.dramatiq:dramatiq_executor",
    "huey": "airlock.integrations.executors.huey:huey_executor",
    "django-q": "airlock.integrations.executors.django_q:django_q_executor",
    "django-tasks": "airlock.integrations.executors.django_tasks:django_tasks_executor",
}


def executor(name: str) -> Any:
    module, _, attr = EXECUTORS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name", EXECUTORS)
def test_a_direct_call_with_dispatch_options_fails_instead_of_running_at_once(
    name: str, effect_log: list[tuple[str, object]],
) -> None:
    ran: list[int] = []
    with pytest.raises(TypeError, match=r"is not a .* task") as info, \
            airlock.scope(executor=executor(name)) as scope:
        airlock.enqueue(lambda: ran.append(1), _dispatch_options={"countdown": 60})
    assert ran == [] and scope.stats.failed == 1 and scope.stats.balance_error() is None
    assert "_dispatch_options" in str(info.value)


@pytest.mark.parametrize("name", EXECUTORS)
def test_a_direct_call_without_options_still_runs(
    name: str, effect_log: list[tuple[str, object]],
) -> None:
    ran: list[int] = []
    with airlock.scope(executor=executor(name)):
        airlock.enqueue(ran.append, 1)
    assert ran == [1]


async def notify(user: int) -> None:  # importable: django-q would pickle and send it
    raise AssertionError("never runs")


def test_django_q_refuses_an_async_def_it_would_never_await(
    effect_log: list[tuple[str, object]],
) -> None:
    with pytest.raises(TypeError, match="'notify' is an async def: django-q") as info, \
            airlock.scope(executor=executor("django-q")) as scope:
        airlock.enqueue(notify, 1)
    assert scope.stats.failed == 1 and "AsyncioExecutor" in str(info.value)


def test_celery_refuses_a_task_whose_body_is_an_async_def(
    effect_log: list[tuple[str, object]],
) -> None:
    from celery import Celery  # type: ignore[import-untyped]

    app = Celery("direct", broker="memory://")
    app.conf.task_always_eager = True

    @app.task  # type: ignore[misc]
    async def push(text: str) -> None:
        raise AssertionError("never runs")

    with pytest.raises(TypeError, match="'push' is an async def: Celery"), \
            airlock.scope(executor=executor("celery")) as scope:
        airlock.enqueue(push, "hello")
    assert scope.stats.failed == 1


@pytest.mark.parametrize("name", EXECUTORS)
def test_airlocks_own_phase_option_is_not_the_backends(
    name: str, effect_log: list[tuple[str, object]],
) -> None:
    """``phase`` is read by ``by_phase`` (and added by a held task's release): a direct call
    with it runs, as before."""
    ran: list[object] = []

    @airlock.phase("net")
    @airlock.debounce(0)
    def save(n: int) -> None:
        ran.append(("save", n))

    tick = airlock.tick_scope(executor=executor(name), order_by=airlock.by_phase("ui", "net"))
    with tick:
        airlock.enqueue(ran.append, "drawn", _dispatch_options={"phase": "ui"})
        airlock.enqueue(save, 1)
    tick.release()
    with tick:
        pass
    tick.close()
    assert ran == ["drawn", ("save", 1)] and tick.stats.balance_error() is None


def test_the_phase_option_is_not_handed_to_a_backend(
    effect_log: list[tuple[str, object]],
) -> None:
    """Huey refuses a task option it does not know: ``phase`` is airlock's (``by_phase``)."""
    from huey import MemoryHuey  # type: ignore[import-untyped]

    huey = MemoryHuey(immediate=False)

    @huey.task()  # type: ignore[misc]
    def store(n: int) -> None: ...

    with airlock.scope(executor=executor("huey"), order_by=airlock.by_phase("ui", "net")) as scope:
        airlock.enqueue(store, 1, _dispatch_options={"phase": "net"})
    assert (scope.stats.dispatched, scope.stats.failed) == (1, 0) and len(huey) == 1
