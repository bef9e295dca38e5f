"""Intents: a side effect as data — what to call, with what, and where it came from."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

if TYPE_CHECKING:
    from ._policies import Policy
    from ._scope import Scope

__all__ = [
    "NO_KWARGS", "Intent", "IntentOptions", "qualified_task_name", "registered_name",
    "safe_repr", "task_name",
]

_MAX_REPR = 60  # each argument in str(intent)
_MAX_FULL_REPR = 1000  # each field in repr(intent): airlock-py's form, bounded
#: Where task objects keep the name their framework registered them under.
_REGISTERED_NAME_ATTRIBUTES = (
    "module_path",  # Django's @task (its ``name`` is the bare function name)
    "name",  # Celery (the registered dotted name), Huey
    "actor_name",  # Dramatiq
)
#: The keyword arguments of every record the compiled kernel stores for a call without any:
#: one shared empty dict, not a new one per enqueue (the batch frame: -10.8% instructions).
#: It never leaves the core: an Intent built from such a record gets a dict of its own
#: (``Intent.__new__``), and so does an executor's ``run_task`` (``_dispatch``).
NO_KWARGS: dict[str, Any] = {}
#: ``tuple.__new__``: an Intent from its nine fields, without ``Intent.__new__``'s defaults
_new_record = tuple.__new__
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


class _IntentFields(NamedTuple):
    """An Intent's fields, in the order of a buffer's full record (``_record``)."""

    task: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    #: the ``_name`` given (None: the task's short name, see ``Intent.name``)
    name: str | None
    #: backend options for the executor (``_dispatch_options``); an empty dict if none
    dispatch_options: dict[str, Any]
    origin: str | None
    key: object
    #: local policies active at enqueue time, innermost first
    local_policies: tuple[Policy, ...]
    #: the scope the intent was enqueued into (its provenance)
    scope: Scope | None


class Intent(_IntentFields):
    """One enqueued effect, as immutable data: a named record of nine fields.

    Assigning an attribute raises ``AttributeError``; intents are unhashable (``kwargs`` may
    hold anything) and compare by identity. Build one positionally or by keyword:
    ``Intent(task=f, args=(1,), kwargs={}, origin=None, dispatch_options=None)``; ``args``
    given as a list is stored as a tuple.

    Intents are built lazily: an ``enqueue()`` stores a tuple record (``_record``: a full one
    has the fields of an Intent, in order) and the scope names it an ``Intent`` only when a
    policy, hook, executor or accessor needs one. Once built, an intent keeps its identity for
    the rest of its life (through capture, filtering and dispatch).
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
        return _new_record(cls, (
            task,
            args if type(args) is tuple else tuple(args),
            {} if kwargs is None or kwargs is NO_KWARGS else kwargs,
            name,
            {} if dispatch_options is None else dispatch_options,
            origin,
            key,
            local_policies,
            scope,
        ))

    def __setattr__(self, attribute: str, value: object) -> NoReturn:
        raise AttributeError(
            f"Intent is immutable: cannot set {attribute!r}; build a new Intent instead"
        )

    def __delattr__(self, attribute: str) -> NoReturn:
        raise AttributeError(f"Intent is immutable: cannot delete {attribute!r}")

    # compared by identity, not as tuples of their fields; never ordered
    __eq__ = object.__eq__
    __ne__ = object.__ne__

    def _unordered(self, other: object) -> Any:
        return NotImplemented

    __lt__ = __le__ = __gt__ = __ge__ = _unordered
    __hash__ = None  # type: ignore[assignment]  # kwargs may be unhashable

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the intent's own data (task, arguments, name, options, origin, key), not
        the scope or local policies it was enqueued under: they are the sender's process."""
        return (Intent, self[:7])

    def __copy__(self) -> Intent:
        """A twin in the same process: the same data, scope and local policies."""
        return _new_record(Intent, self)

    @property  # the field holds the name given, or None
    def name(self) -> str:
        """``_name`` if it was given, else the task's short name (see ``qualified_name``)."""
        given = self[3]
        return given if given is not None else task_name(self[0])

    @property
    def qualified_name(self) -> str:
        """The task's full name: its registered dotted name, else ``module.qualname``."""
        return qualified_task_name(self.task)

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
        if self.dispatch_options:
            extra += f", dispatch_options={safe_repr(self.dispatch_options, _MAX_FULL_REPR)}"
        if self.key is not None:
            extra += f", key={safe_repr(self.key, _MAX_FULL_REPR)}"
        if self.origin is not None:
            extra += f", origin={self.origin!r}"
        args, kwargs = safe_repr(self.args, _MAX_FULL_REPR), safe_repr(self.kwargs, _MAX_FULL_REPR)
        return f"Intent({self.name!r}, args={args}, kwargs={kwargs}{extra})"
