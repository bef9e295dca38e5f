"""Process-wide defaults used by ``airlock.scope()`` and ``Scope()`` (set by ``_configure``)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from ._executor import sync_executor
from ._plan import FlushPlan, make_plan
from ._policies import AllowAll, Policy

if TYPE_CHECKING:
    from ._executor import Executor
    from ._scope import Scope

__all__ = ["check_scope_kwargs", "defaults"]


def check_scope_kwargs(scope_cls: type[Scope], scope_kwargs: dict[str, Any]) -> None:
    """Raise ``TypeError`` if ``scope_cls(**scope_kwargs)`` could never be called."""
    try:
        signature = inspect.signature(scope_cls)
    except (TypeError, ValueError):  # pragma: no cover - a constructor inspect cannot read
        return
    try:
        signature.bind_partial(**scope_kwargs)
    except TypeError as exc:
        raise TypeError(
            f"scope_kwargs {sorted(scope_kwargs)} do not fit {scope_cls.__qualname__}(): "
            f"{exc}; pass only arguments its constructor accepts"
        ) from None


class _Defaults:
    __slots__ = (
        "_fits", "configured", "executor", "plan", "policy", "scope_cls", "scope_kwargs"
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the built-in defaults (``reset_configuration``)."""
        self.scope_cls: type[Scope] | None = None  # None means airlock.Scope
        self.policy: Policy = AllowAll()
        self.executor: Executor = sync_executor
        #: Extra constructor arguments for every ``airlock.scope()``.
        self.scope_kwargs: dict[str, Any] = {}
        #: what ``configure()`` set, by name (``get_configuration()`` reports None for the rest)
        self.configured: dict[str, Any] = {}
        self.replan()
        #: the class ``scope_kwargs`` were last found to fit (they are checked once per class)
        self._fits: type[Scope] | None = None

    def replan(self) -> None:
        """Build ``plan``, the plan of a scope created with every default, for the current
        policy and executor (at configuration time, not per scope)."""
        self.plan: FlushPlan = make_plan(self.policy, self.executor, None, "raise", False)

    def check_kwargs_fit(self, scope_cls: type[Scope]) -> None:
        """``check_scope_kwargs`` of the configured ``scope_kwargs`` for the class that is
        about to receive them (once per class)."""
        if self._fits is not scope_cls:
            check_scope_kwargs(scope_cls, self.scope_kwargs)
            self._fits = scope_cls


defaults = _Defaults()
