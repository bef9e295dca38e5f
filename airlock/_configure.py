"""``configure()``, ``get_configuration()`` and ``reset_configuration()``: the public face of
the process-wide defaults in ``_config``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from ._config import defaults
from ._policies import check_policy
from ._scope import Scope

__all__ = ["configure", "get_configuration", "reset_configuration"]

_UNSET: Any = object()


def configure(
    *,
    scope_cls: Any = _UNSET,
    policy: Any = _UNSET,
    executor: Any = _UNSET,
    scope_kwargs: Any = _UNSET,
) -> None:
    """Set process-wide defaults for scopes created without explicit arguments.

    ``scope_cls`` is the class ``airlock.scope()`` builds, ``policy`` and ``executor`` what a
    scope gets when it is given none, ``scope_kwargs`` extra constructor arguments for every
    ``airlock.scope()`` (its own keyword arguments win). Arguments left out keep their value.
    """
    if scope_cls is not _UNSET and not (
        isinstance(scope_cls, type) and issubclass(scope_cls, Scope)
    ):
        raise TypeError(f"scope_cls must be a subclass of airlock.Scope, got {scope_cls!r}")
    if policy is not _UNSET:
        policy = check_policy(policy)
    if executor is not _UNSET and not callable(executor):
        raise TypeError(f"executor must be a callable taking an Intent, got {executor!r}")
    if scope_kwargs is not _UNSET:
        scope_kwargs = _checked_scope_kwargs(scope_kwargs)
    _check_constructor_accepts(
        defaults.scope_cls if scope_cls is _UNSET else scope_cls,
        defaults.scope_kwargs if scope_kwargs is _UNSET else scope_kwargs,
    )
    if scope_cls is not _UNSET:
        defaults.scope_cls = scope_cls
    if policy is not _UNSET:
        defaults.policy = policy
    if executor is not _UNSET:
        defaults.executor = executor
    if scope_kwargs is not _UNSET:
        defaults.scope_kwargs = scope_kwargs
    defaults._paths = None


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


def _check_constructor_accepts(scope_cls: type[Scope] | None, scope_kwargs: dict[str, Any]) -> None:
    """Raise ``TypeError`` now if ``scope_cls(**scope_kwargs)`` could never be called."""
    if not scope_kwargs:
        return
    cls = scope_cls or Scope
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # pragma: no cover - a constructor inspect cannot read
        return
    try:
        signature.bind_partial(**scope_kwargs)
    except TypeError as exc:
        raise TypeError(
            f"scope_kwargs {sorted(scope_kwargs)} do not fit {cls.__qualname__}(): {exc}; "
            "pass only arguments its constructor accepts"
        ) from None


def get_configuration() -> dict[str, Any]:
    """A copy of the process-wide defaults: ``scope_cls``, ``policy``, ``executor``,
    ``scope_kwargs``. Changing the copy changes nothing; use ``configure()``."""
    return {
        "scope_cls": defaults.scope_cls or Scope,
        "policy": defaults.policy,
        "executor": defaults.executor,
        "scope_kwargs": dict(defaults.scope_kwargs),
    }


def reset_configuration() -> None:
    """Restore the built-in defaults (``Scope``, ``AllowAll()``, ``sync_executor``, no
    ``scope_kwargs``). Meant for tests: call it in a fixture's teardown."""
    defaults.__init__()  # type: ignore[misc]
