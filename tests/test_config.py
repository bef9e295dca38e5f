"""airlock.configure(): process-wide defaults for scopes created without arguments."""

from __future__ import annotations

import gc
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
        ({"scope_kwargs": [("errors", "continue")]}, "scope_kwargs must be a dict"),
        ({"scope_kwargs": {"executor": print}}, r"cannot set \['executor'\]"),
        ({"scope_cls": Counting, "scope_kwargs": {"colour": "red"}}, r"do not fit Counting\(\)"),
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


def test_get_configuration_is_a_detached_copy() -> None:
    policy = airlock.DropAll()
    airlock.configure(scope_cls=Counting, policy=policy, scope_kwargs={"errors": "continue"})
    config = airlock.get_configuration()
    assert config == {
        "scope_cls": Counting,
        "policy": policy,
        "executor": None,  # not configured: the built-in default applies
        "scope_kwargs": {"errors": "continue"},
    }
    config["scope_kwargs"]["errors"] = "raise"
    config["policy"] = airlock.AllowAll()
    assert airlock.get_configuration()["scope_kwargs"] == {"errors": "continue"}
    assert airlock.get_configuration()["policy"] is policy


def test_reset_configuration_restores_every_default() -> None:
    airlock.configure(
        scope_cls=Counting, policy=airlock.DropAll(), executor=print,
        scope_kwargs={"errors": "continue"},
    )
    airlock.reset_configuration()
    config = airlock.get_configuration()
    assert config == {"scope_cls": None, "policy": None, "executor": None, "scope_kwargs": {}}
    log: list[int] = []
    with airlock.scope() as s:
        airlock.enqueue(log.append, 1)
    assert type(s) is airlock.Scope and s.errors == "raise" and log == [1]


def test_configured_scope_kwargs_reach_every_scope_and_explicit_ones_win() -> None:
    airlock.configure(scope_kwargs={"errors": "continue", "order_by": len})
    assert airlock.scope().errors == "continue"
    assert airlock.scope().order_by is len
    assert airlock.scope(errors="raise").errors == "raise"

    @airlock.scoped
    def handler() -> str:
        current = airlock.get_current_scope()
        assert current is not None
        return current.errors

    assert handler() == "continue"


def test_scope_kwargs_are_checked_against_the_configured_scope_class() -> None:
    class Tagged(airlock.Scope):
        def __init__(self, *args: Any, tag: str = "", **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tag = tag

    airlock.configure(scope_cls=Tagged, scope_kwargs={"tag": "request"})
    s = airlock.scope()
    assert type(s) is Tagged and s.tag == "request"
    with pytest.raises(TypeError, match="do not fit Scope"):
        airlock.configure(scope_cls=airlock.Scope)  # Scope() takes no tag=
    assert airlock.get_configuration()["scope_cls"] is Tagged


def test_get_configuration_reports_only_what_was_configured() -> None:
    assert airlock.get_configuration() == {
        "scope_cls": None, "policy": None, "executor": None, "scope_kwargs": {}
    }
    policy = airlock.DropAll()
    airlock.configure(policy=policy)
    assert airlock.get_configuration() == {
        "scope_cls": None, "policy": policy, "executor": None, "scope_kwargs": {}
    }
    s = airlock.scope()  # the defaults are resolved when a scope is made
    assert type(s) is airlock.Scope and s.policy is policy and s.executor is sync_executor


def test_configure_with_none_keeps_the_value() -> None:
    policy = airlock.DropAll()
    airlock.configure(scope_cls=Counting, policy=policy, executor=print)
    airlock.configure(scope_cls=None, policy=None, executor=None, scope_kwargs=None)
    config = airlock.get_configuration()
    assert (config["scope_cls"], config["policy"], config["executor"]) == (Counting, policy, print)


class KeywordScope(airlock.Scope):
    """airlock-py's documented subclass pattern: keyword arguments only."""

    def __init__(self, **kwargs: Any) -> None:
        self.custom_arg = kwargs.pop("custom_arg", None)
        super().__init__(**kwargs)


def test_a_configured_scope_class_is_built_by_keyword() -> None:
    airlock.configure(scope_cls=KeywordScope)
    log: list[int] = []
    with airlock.scope(airlock.DropAll()) as s:
        airlock.enqueue(log.append, 1)
    assert type(s) is KeywordScope and isinstance(s.policy, airlock.DropAll) and log == []

    @airlock.scoped(executor=lambda intent: log.append(2))
    def handler() -> airlock.Scope | None:
        airlock.enqueue(print)
        return airlock.get_current_scope()

    assert type(handler()) is KeywordScope and log == [2]
    assert type(airlock.scope(_cls=KeywordScope, custom_arg=1)) is KeywordScope


@pytest.mark.parametrize("class_first", [True, False])
def test_scope_kwargs_fit_the_class_configured_before_or_after(class_first: bool) -> None:
    if class_first:
        airlock.configure(scope_cls=KeywordScope)
    airlock.configure(scope_kwargs={"custom_arg": "request"})
    if not class_first:
        airlock.configure(scope_cls=KeywordScope)
    s = airlock.scope()
    assert type(s) is KeywordScope and s.custom_arg == "request"


def test_scope_kwargs_for_no_configured_class_are_checked_when_a_scope_is_made() -> None:
    airlock.configure(scope_kwargs={"colour": "red"})  # a scope_cls may still come
    message = r"scope_kwargs \['colour'\] do not fit Scope\(\).*pass only arguments"
    with pytest.raises(TypeError, match=message):
        airlock.scope()
    with pytest.raises(TypeError, match=message):
        airlock.scoped()(print)()
    with pytest.raises(TypeError, match=r"do not fit Counting\(\)"):
        airlock.scope(_cls=Counting)


def test_a_scope_made_while_a_finalizer_resets_the_configuration_keeps_valid_defaults() -> None:
    """Making a scope allocates (its buffer, itself), and an allocation may collect: a
    finalizer that resets the configuration runs there, freeing the old defaults. The new
    scope holds defaults that are alive (the old or the new ones) and runs its effects."""
    ran: list[object] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            airlock.reset_configuration()  # a new policy and plan; the old ones freed
            ran.extend(object() for _ in range(200))  # (the freed memory reused)

    thresholds = gc.get_threshold()
    Cycle()
    gc.set_threshold(1)  # the next allocation collects: inside airlock.scope()
    try:
        scope = airlock.scope()
    finally:
        gc.set_threshold(*thresholds)
    ran.clear()
    assert isinstance(scope.policy, airlock.AllowAll)
    with scope:
        airlock.enqueue(ran.append, "ran")
    assert ran == ["ran"]
