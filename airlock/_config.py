"""Process-wide defaults used by ``airlock.scope()`` and ``Scope()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._policies import AllowAll, Policy, check_policy
from .integrations.executors.sync import sync_executor

if TYPE_CHECKING:
    from ._scope import Executor, Scope

__all__ = ["configure", "defaults", "reset_defaults"]

_UNSET: Any = object()


class _Defaults:
    __slots__ = ("executor", "policy", "scope_cls")

    def __init__(self) -> None:
        self.scope_cls: type[Scope] | None = None  # None means airlock.Scope
        self.policy: Policy = AllowAll()
        self.executor: Executor = sync_executor


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
    if policy is not _UNSET:
        defaults.policy = check_policy(policy)
    if executor is not _UNSET:
        if not callable(executor):
            raise TypeError(f"executor must be a callable taking an Intent, got {executor!r}")
        defaults.executor = executor


def reset_defaults() -> None:
    """Restore the built-in defaults (AllowAll, sync_executor, Scope). Meant for tests."""
    defaults.__init__()  # type: ignore[misc]
