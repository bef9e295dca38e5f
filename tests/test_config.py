"""airlock.configure(): process-wide defaults for scopes created without arguments."""

from __future__ import annotations

from typing import Any

import pytest

import airlock
from airlock import Intent
from airlock.integrations.executors.sync import sync_executor


class Counting(airlock.Scope):
    """A Scope subclass to configure as the default."""


def test_builtin_defaults() -> None:
    s = airlock.scope()
    assert type(s) is airlock.Scope
    assert isinstance(s.policy, airlock.AllowAll)
    assert s.executor is sync_executor
    assert s.errors == "raise" and s.order_by is None and s.observers == ()


def test_configured_defaults_apply_to_new_scopes() -> None:
    ran: list[str] = []

    def executor(intent: Intent) -> Any:
        ran.append(intent.name)

    policy = airlock.BlockTasks(["blocked"])
    airlock.configure(scope_cls=Counting, policy=policy, executor=executor)
    with airlock.scope() as s:
        airlock.enqueue(print, _name="allowed")
        airlock.enqueue(print, _name="blocked")
    assert type(s) is Counting and s.policy is policy and s.executor is executor
    assert ran == ["allowed"]


def test_explicit_arguments_beat_configured_defaults() -> None:
    airlock.configure(policy=airlock.DropAll())
    log: list[int] = []
    with airlock.scope(policy=airlock.AllowAll()):
        airlock.enqueue(log.append, 1)
    assert log == [1]


def test_configure_leaves_unmentioned_defaults_alone() -> None:
    airlock.configure(policy=airlock.DropAll())
    airlock.configure(scope_cls=Counting)
    s = airlock.scope()
    assert isinstance(s.policy, airlock.DropAll) and type(s) is Counting


def test_tick_scope_uses_configured_policy_and_executor() -> None:
    airlock.configure(policy=airlock.DropAll())
    tick = airlock.tick_scope()
    assert isinstance(tick.policy, airlock.DropAll)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope_cls": dict}, "scope_cls must be a subclass of airlock.Scope"),
        ({"scope_cls": airlock.Scope()}, "scope_cls must be a subclass"),
        ({"policy": 3}, "not an airlock policy"),
        ({"executor": "celery"}, "executor must be a callable"),
    ],
)
def test_configure_rejects_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        airlock.configure(**kwargs)
    assert type(airlock.scope()) is airlock.Scope


def test_scope_constructor_validates_its_arguments() -> None:
    with pytest.raises(TypeError, match="executor must be a callable"):
        airlock.Scope(executor=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="order_by must be a key function"):
        airlock.Scope(order_by="phase")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="errors must be 'raise' or 'continue'"):
        airlock.Scope(errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not an airlock observer: missing"):
        airlock.Scope(observers=[object()])  # type: ignore[list-item]
