"""Intents: a side effect as data — what to call, with what, and where it came from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ._policies import Policy
    from ._scope import Scope

__all__ = ["Intent", "IntentOptions", "task_name"]

_MAX_REPR = 60


def task_name(task: Callable[..., Any]) -> str:
    """The name an intent gets when ``_name`` is not given."""
    name = getattr(task, "name", None)  # Celery/Dramatiq tasks carry a registered name
    if isinstance(name, str):
        return name
    name = getattr(task, "__qualname__", None) or getattr(task, "__name__", None)
    if isinstance(name, str):
        return name
    return type(task).__qualname__


class IntentOptions(NamedTuple):
    """The underscored ``enqueue`` options, bundled for the slow path (None when all unset)."""

    name: str | None
    origin: str | None
    dispatch_options: dict[str, Any] | None
    key: object


NO_OPTIONS = IntentOptions(None, None, None, None)


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


class Intent:
    """One enqueued effect.

    Intents are built lazily: a plain ``enqueue()`` stores a ``(task, args, kwargs)`` tuple and
    the scope turns it into an ``Intent`` only when a policy, hook, executor or accessor needs
    one. Once built, an intent keeps its identity for the rest of its life (through capture,
    filtering and dispatch).
    """

    __slots__ = (
        "_dispatch_options",
        "_name",
        "args",
        "key",
        "kwargs",
        "local_policies",
        "origin",
        "scope",
        "task",
    )

    task: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    origin: str | None
    key: object
    local_policies: tuple[Policy, ...]
    scope: Scope | None

    def __init__(
        self,
        task: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
        dispatch_options: Mapping[str, Any] | None = None,
        origin: str | None = None,
        key: object = None,
        local_policies: tuple[Policy, ...] = (),
        scope: Scope | None = None,
    ) -> None:
        self.task = task
        self.args = args
        self.kwargs = {} if kwargs is None else kwargs
        self._name = name
        self._dispatch_options = dispatch_options
        self.origin = origin
        self.key = key
        #: Local policies active at enqueue time, innermost first.
        self.local_policies = local_policies
        #: The scope the intent was enqueued into (its provenance).
        self.scope = scope

    @property
    def name(self) -> str:
        """``_name`` if it was given, else the task's name."""
        return self._name if self._name is not None else task_name(self.task)

    @property
    def dispatch_options(self) -> dict[str, Any]:
        """Backend options for the executor (``_dispatch_options``); empty dict if none."""
        options = self._dispatch_options
        if options is None:
            options = self._dispatch_options = {}
        return options  # type: ignore[return-value]

    def passes_local_policies(self) -> bool:
        """True when every local policy active at enqueue time allows this intent."""
        return all(policy.allows(self) for policy in self.local_policies)

    def __str__(self) -> str:
        parts = [_short_repr(a) for a in self.args]
        parts += [f"{k}={_short_repr(v)}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    def __repr__(self) -> str:
        extra = ""
        if self._dispatch_options:
            extra += f" dispatch_options={self._dispatch_options!r}"
        if self.key is not None:
            extra += f" key={self.key!r}"
        if self.origin is not None:
            extra += f" origin={self.origin!r}"
        return f"<Intent {self}{extra}>"
