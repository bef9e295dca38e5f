"""Intents: a side effect as data — what to call, with what, and where it came from."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

if TYPE_CHECKING:
    from ._policies import Policy
    from ._scope import Scope

__all__ = [
    "Intent", "IntentOptions", "qualified_task_name", "registered_name", "safe_repr", "task_name",
]

_MAX_REPR = 60  # each argument in str(intent)
_MAX_FULL_REPR = 1000  # each field in repr(intent): airlock-py's form, bounded
#: Where task objects keep the name their framework registered them under.
_REGISTERED_NAME_ATTRIBUTES = (
    "module_path",  # Django's @task (its ``name`` is the bare function name)
    "name",  # Celery (the registered dotted name), Huey
    "actor_name",  # Dramatiq
)
_DEFINED = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, type)
_FUNCTIONS = frozenset(_DEFINED[:3])


def registered_name(task: object) -> str | None:
    """The name a task framework registered ``task`` under (``"myapp.tasks.send_email"``)."""
    for attribute in _REGISTERED_NAME_ATTRIBUTES:
        name = getattr(task, attribute, None)
        if isinstance(name, str) and name:
            return name
    return None


def _named(task: object) -> object:
    """``task``, or the function a wrapper without a name holds (``functools.partial``, Huey)."""
    if not isinstance(getattr(task, "__name__", None), str):
        func = getattr(task, "func", None)
        if callable(func):
            return func
    return task


def task_name(task: Callable[..., Any]) -> str:
    """The name an intent gets when ``_name`` is not given.

    A registered dotted name gives its last component (``"myapp.tasks.send_email"`` ->
    ``"send_email"``); a function gives its ``__name__``; any other callable its type's name.
    """
    if type(task) in _FUNCTIONS:  # the common case, and functions carry no registered name
        return task.__name__
    registered = registered_name(task)
    if registered is not None:
        return registered.rpartition(".")[2]
    name = getattr(_named(task), "__name__", None)
    return name if isinstance(name, str) else type(task).__name__


def qualified_task_name(task: Callable[..., Any]) -> str:
    """The full name: the registered name, else ``module.qualname`` of a function or class."""
    if type(task) not in _FUNCTIONS:
        registered = registered_name(task)
        if registered is not None:
            return registered
    named = _named(task)
    if isinstance(named, _DEFINED):
        module = named.__module__  # None for a bound builtin method such as list.append
        return f"{module}.{named.__qualname__}" if module else named.__qualname__
    qualname = getattr(named, "__qualname__", None)  # e.g. a Batch, named after its handler
    if isinstance(qualname, str):
        return qualname
    return f"{type(task).__module__}.{type(task).__qualname__}"


class IntentOptions(NamedTuple):
    """The underscored ``enqueue`` options, bundled for the slow path (None when all unset)."""

    name: str | None
    origin: str | None
    dispatch_options: dict[str, Any] | None
    key: object


NO_OPTIONS = IntentOptions(None, None, None, None)


def safe_repr(obj: object, limit: int = 120) -> str:
    """``repr(obj)`` for a message: never raising (a repr that fails, or that reads state
    another thread is changing, gives the type's name) and cut at ``limit`` characters."""
    try:
        text = repr(obj)
    except Exception:
        return f"<{type(obj).__qualname__} object>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class _IntentFields:
    """The storage of an Intent, writable while ``Intent.__new__`` fills it in."""

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
    _name: str | None
    _dispatch_options: Mapping[str, Any] | None
    origin: str | None
    key: object
    #: Local policies active at enqueue time, innermost first.
    local_policies: tuple[Policy, ...]
    #: The scope the intent was enqueued into (its provenance).
    scope: Scope | None


_set_dispatch_options = _IntentFields.__dict__["_dispatch_options"].__set__


class Intent(_IntentFields):
    """One enqueued effect, as immutable data.

    Assigning an attribute raises ``AttributeError``; intents are unhashable (``kwargs`` may
    hold anything) and compare by identity. Build one positionally or by keyword:
    ``Intent(task=f, args=(1,), kwargs={}, origin=None, dispatch_options=None)``; ``args``
    given as a list is stored as a tuple.

    Intents are built lazily: a plain ``enqueue()`` stores a ``(task, args, kwargs)`` tuple and
    the scope turns it into an ``Intent`` only when a policy, hook, executor or accessor needs
    one. Once built, an intent keeps its identity for the rest of its life (through capture,
    filtering and dispatch).
    """

    __slots__ = ()

    def __new__(
        cls,
        task: Callable[..., Any],
        args: Iterable[Any] = (),
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
        dispatch_options: Mapping[str, Any] | None = None,
        origin: str | None = None,
        key: object = None,
        local_policies: tuple[Policy, ...] = (),
        scope: Scope | None = None,
    ) -> Intent:
        # Filled in as a plain slotted object, then given its frozen class: assigning through
        # Intent.__setattr__ (or object.__setattr__) would cost three times as much.
        self = _IntentFields()
        self.task = task
        self.args = args if type(args) is tuple else tuple(args)
        self.kwargs = {} if kwargs is None else kwargs
        self._name = name
        self._dispatch_options = dispatch_options
        self.origin = origin
        self.key = key
        self.local_policies = local_policies
        self.scope = scope
        self.__class__ = cls
        return self  # type: ignore[return-value]

    def __setattr__(self, attribute: str, value: object) -> NoReturn:
        raise AttributeError(
            f"Intent is immutable: cannot set {attribute!r}; build a new Intent instead"
        )

    def __delattr__(self, attribute: str) -> NoReturn:
        raise AttributeError(f"Intent is immutable: cannot delete {attribute!r}")

    __hash__ = None  # type: ignore[assignment]  # kwargs may be unhashable

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the intent's own data (task, arguments, name, options, origin, key), not
        the scope or local policies it was enqueued under: they are the sender's process."""
        return (
            Intent,
            (
                self.task, self.args, self.kwargs, self._name, self._dispatch_options,
                self.origin, self.key,
            ),
        )

    def __copy__(self) -> Intent:
        """A twin in the same process: the same data, scope and local policies."""
        return Intent(
            self.task, self.args, self.kwargs, self._name, self._dispatch_options,
            self.origin, self.key, self.local_policies, self.scope,
        )

    @property
    def name(self) -> str:
        """``_name`` if it was given, else the task's short name (see ``qualified_name``)."""
        return self._name if self._name is not None else task_name(self.task)

    @property
    def qualified_name(self) -> str:
        """The task's full name: its registered dotted name, else ``module.qualname``."""
        return qualified_task_name(self.task)

    @property
    def dispatch_options(self) -> dict[str, Any]:
        """Backend options for the executor (``_dispatch_options``); empty dict if none."""
        options = self._dispatch_options
        if options is None:
            options = {}
            _set_dispatch_options(self, options)
        return options  # type: ignore[return-value]

    def passes_local_policies(self) -> bool:
        """True when every local policy active at enqueue time allows this intent."""
        return all(policy.allows(self) for policy in self.local_policies)

    def __str__(self) -> str:
        parts = [safe_repr(a, _MAX_REPR) for a in self.args]
        parts += [f"{k}={safe_repr(v, _MAX_REPR)}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    def __repr__(self) -> str:
        """``Intent('name', args=(...), kwargs={...})`` as airlock-py shows it, then the
        options that are set."""
        extra = ""
        if self._dispatch_options:
            extra += f", dispatch_options={safe_repr(self._dispatch_options, _MAX_FULL_REPR)}"
        if self.key is not None:
            extra += f", key={safe_repr(self.key, _MAX_FULL_REPR)}"
        if self.origin is not None:
            extra += f", origin={self.origin!r}"
        args, kwargs = safe_repr(self.args, _MAX_FULL_REPR), safe_repr(self.kwargs, _MAX_FULL_REPR)
        return f"Intent({self.name!r}, args={args}, kwargs={kwargs}{extra})"
