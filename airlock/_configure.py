"""``configure()``, ``get_configuration()`` and ``reset_configuration()``: the public face of
the process-wide defaults in ``_config``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._config import check_scope_kwargs, defaults
from ._executor import Executor, check_executor
from ._policies import Policy, check_policy
from ._scope import Scope

__all__ = ["configure", "get_configuration", "reset_configuration"]


def configure(
    *,
    scope_cls: type[Scope] | None = None,
    policy: Policy | None = None,
    executor: Executor | None = None,
    scope_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Set process-wide defaults for scopes created without explicit arguments.

    ``scope_cls`` is the class ``airlock.scope()`` builds (by keyword), ``policy`` and
    ``executor`` what a scope gets when it is given none, ``scope_kwargs`` extra constructor
    arguments for every ``airlock.scope()`` (its own keyword arguments win). An argument left
    out or None keeps its value. ``scope_kwargs`` are checked against the configured
    ``scope_cls`` once one is set, else when a scope is created.
    """
    if scope_cls is not None and not (
        isinstance(scope_cls, type) and issubclass(scope_cls, Scope)
    ):
        raise TypeError(f"scope_cls must be a subclass of airlock.Scope, got {scope_cls!r}")
    if policy is not None:
        policy = check_policy(policy)
    if executor is not None:
        check_executor(executor)
    kwargs = defaults.scope_kwargs if scope_kwargs is None else _checked_scope_kwargs(scope_kwargs)
    receiver = scope_cls or defaults.scope_cls
    if receiver is not None and kwargs:  # else checked when a scope is made (see scope())
        check_scope_kwargs(receiver, kwargs)
    given = {"scope_cls": scope_cls, "policy": policy, "executor": executor,
             "scope_kwargs": None if scope_kwargs is None else kwargs}
    for name, value in given.items():
        if value is not None:
            setattr(defaults, name, value)
            defaults.configured[name] = value
    defaults.replan()
    defaults._fits = None


def _checked_scope_kwargs(scope_kwargs: Any) -> dict[str, Any]:
    if not isinstance(scope_kwargs, Mapping) or not all(
        isinstance(key, str) for key in scope_kwargs
    ):
        raise TypeError(
            f"scope_kwargs must be a dict of keyword arguments for the scope class, "
            f"got {scope_kwargs!r}"
        )
    reserved = sorted({"policy", "executor"} & set(scope_kwargs))
    if reserved:
        raise TypeError(
            f"scope_kwargs cannot set {reserved}; pass configure(policy=..., executor=...) instead"
        )
    return dict(scope_kwargs)


def get_configuration() -> dict[str, Any]:
    """What ``configure()`` set: ``scope_cls``, ``policy``, ``executor`` (None where not
    configured: the built-in default applies) and ``scope_kwargs`` (a copy). Changing the
    result changes nothing; use ``configure()``."""
    configured = defaults.configured
    return {
        "scope_cls": configured.get("scope_cls"),
        "policy": configured.get("policy"),
        "executor": configured.get("executor"),
        "scope_kwargs": dict(defaults.scope_kwargs),
    }


def reset_configuration() -> None:
    """Forget everything ``configure()`` set: scopes get the built-in defaults again
    (``Scope``, ``AllowAll()``, ``sync_executor``, no ``scope_kwargs``). Meant for tests: call
    it in a fixture's teardown."""
    defaults.reset()
