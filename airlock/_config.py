"""Process-wide defaults used by ``airlock.scope()`` and ``Scope()``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._policies import AllowAll, Policy, check_policy, has_enqueue_hook, is_allow_all
from .integrations.executors.sync import sync_executor

if TYPE_CHECKING:
    from ._intent import Intent
    from ._observe import Observer
    from ._scope import Executor, Scope

__all__ = ["configure", "defaults", "hot_path_flags", "reset_defaults"]

_UNSET: Any = object()


def hot_path_flags(
    policy: Policy,
    executor: Executor,
    order_by: Callable[[Intent], Any] | None,
    errors: str,
    observers: tuple[Observer, ...],
) -> tuple[bool, bool]:
    """(enqueue must build hooked intents, flush may run the plain loop) for a configuration."""
    enqueue_hooked = has_enqueue_hook(policy) or bool(observers)
    fast_flush = (
        is_allow_all(policy)
        and executor is sync_executor
        and order_by is None
        and not observers
        and errors == "raise"  # the plain loop is fail-fast
    )
    return enqueue_hooked, fast_flush


class _Defaults:
    __slots__ = ("_paths", "executor", "policy", "scope_cls")

    def __init__(self) -> None:
        self.scope_cls: type[Scope] | None = None  # None means airlock.Scope
        self.policy: Policy = AllowAll()
        self.executor: Executor = sync_executor
        self._paths: tuple[bool, bool] | None = None

    def paths(self) -> tuple[bool, bool]:
        """``hot_path_flags`` of a scope created with every default (cached)."""
        paths = self._paths
        if paths is None:
            paths = self._paths = hot_path_flags(self.policy, self.executor, None, "raise", ())
        return paths


defaults = _Defaults()


def configure(
    *, scope_cls: Any = _UNSET, policy: Any = _UNSET, executor: Any = _UNSET
) -> None:
    """Set process-wide defaults for scopes created without explicit arguments."""
    from ._scope import Scope

    if scope_cls is not _UNSET:
        if not (isinstance(scope_cls, type) and issubclass(scope_cls, Scope)):
            raise TypeError(f"scope_cls must be a subclass of airlock.Scope, got {scope_cls!r}")
        defaults.scope_cls = scope_cls
    defaults._paths = None
    if policy is not _UNSET:
        defaults.policy = check_policy(policy)
    if executor is not _UNSET:
        if not callable(executor):
            raise TypeError(f"executor must be a callable taking an Intent, got {executor!r}")
        defaults.executor = executor


def reset_defaults() -> None:
    """Restore the built-in defaults (AllowAll, sync_executor, Scope). Meant for tests."""
    defaults.__init__()  # type: ignore[misc]
