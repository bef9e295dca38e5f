"""Process-wide defaults used by ``airlock.scope()`` and ``Scope()`` (set by ``_configure``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._executor import sync_executor
from ._policies import AllowAll, Policy, has_enqueue_hook, is_allow_all

if TYPE_CHECKING:
    from ._executor import Executor
    from ._intent import Intent
    from ._scope import Scope

__all__ = ["defaults", "hot_path_flags"]


def hot_path_flags(
    policy: Policy,
    executor: Executor,
    order_by: Callable[[Intent], Any] | None,
    errors: str,
    watching: bool,
) -> tuple[bool, bool]:
    """(enqueue must build hooked intents, flush may run the plain loop) for a configuration.

    ``watching``: an observer has a per-intent hook (see ``watches_intents``)."""
    enqueue_hooked = has_enqueue_hook(policy) or watching
    fast_flush = (
        is_allow_all(policy)
        and executor is sync_executor
        and order_by is None
        and not watching
        and errors == "raise"  # the plain loop is fail-fast
    )
    return enqueue_hooked, fast_flush


class _Defaults:
    __slots__ = ("_paths", "executor", "policy", "scope_cls", "scope_kwargs")

    def __init__(self) -> None:
        self.scope_cls: type[Scope] | None = None  # None means airlock.Scope
        self.policy: Policy = AllowAll()
        self.executor: Executor = sync_executor
        #: Extra constructor arguments for every ``airlock.scope()``.
        self.scope_kwargs: dict[str, Any] = {}
        self._paths: tuple[bool, bool] | None = None

    def paths(self) -> tuple[bool, bool]:
        """``hot_path_flags`` of a scope created with every default (cached)."""
        paths = self._paths
        if paths is None:
            paths = self._paths = hot_path_flags(self.policy, self.executor, None, "raise", False)
        return paths


defaults = _Defaults()
