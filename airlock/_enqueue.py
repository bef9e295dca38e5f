"""The public entry points: ``enqueue()``, ``scope()`` and ``scoped()``.

``enqueue`` is the hot path. Inside an open scope with nothing to observe it does one
``ContextVar.get``, a handful of identity checks and one ``list.append`` of a plain record; a
``_key`` alone, or a batch's payload (keyed or not), appends a full record there too. Every
other case (no scope, hooks, local policies, other options, task objects) takes
``_enqueue_general``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from ._batch import Batch
from ._cadence import Cadence
from ._config import defaults
from ._context import NO_SCOPE, POLICY_GUARD, PolicyView, current_target
from ._entry import enqueue_intent
from ._errors import NoScopeError, PolicyEnqueueError
from ._intent import IntentOptions, safe_repr
from ._policies import Policy
from ._scope import Executor, Scope, effect_label
from ._states import ACTIVE

__all__ = ["check_task", "enqueue", "scope", "scoped"]

F = TypeVar("F", bound=Callable[..., Any])

_get_target = current_target.get
_RESERVED_SET = frozenset(("_name", "_origin", "_dispatch_options", "_key"))


def _documented_enqueue(
    task: Callable[..., Any] | Batch,
    /,
    *args: Any,
    _name: str | None = None,
    _origin: str | None = None,
    _dispatch_options: dict[str, Any] | None = None,
    _key: object = None,
    **kwargs: Any,
) -> None:
    """Ask for ``task(*args, **kwargs)`` to run when the current scope flushes.

    ``_name`` names the intent (default: the task's name), ``_origin`` says where it came
    from, ``_dispatch_options`` go to the executor, and a non-None ``_key`` coalesces: of
    the intents with one key in a flush, only the last enqueued survives. Raises
    ``NoScopeError`` outside a scope and ``TypeError`` for a task that is not callable.
    """
    # The signature and docstring that ``enqueue`` presents to type checkers, ``inspect`` and
    # documentation tools. The runtime ``enqueue`` reads the underscored options from
    # ``kwargs`` instead: keyword-only parameters cost the plain call about as much as
    # everything else it does.


if TYPE_CHECKING:
    enqueue = _documented_enqueue
else:

    def enqueue(task, /, *args, **kwargs):
        # ``_accepting`` is read after the record is built, right before its append (the
        # rule of ``_buffer``: a scope ending on another thread meanwhile refuses it)
        target = _get_target()
        if callable(task):
            if not kwargs:
                record = (task, args, kwargs)
                if target._accepting:
                    target._buffer.append(record)
                    return
            elif len(kwargs) == 1 and "_key" in kwargs and target._accepting:  # keyed
                key = kwargs.pop("_key")
                if key is None:
                    record = (task, args, kwargs)
                    if target._accepting:
                        target._buffer.append(record)
                        return
                else:
                    try:
                        hash(key)
                    except TypeError:
                        _check_key(key)  # raises the clear error
                    if target._buffer.add_keyed(  # its full record (False: refused meanwhile)
                        (task, args, kwargs, None, None, None, key, (), target)
                    ):
                        return
                kwargs["_key"] = key  # the general path decides
        elif type(task) is Batch and target._accepting:  # a batch's payload
            if not kwargs:
                if target._buffer.add_batched(
                    (task, args, kwargs, None, None, None, None, (), target)
                ):
                    return
            elif len(kwargs) == 1 and kwargs.get("_key") is not None:  # keyed (a sound request)
                key = kwargs.pop("_key")
                try:
                    hash(key)
                except TypeError:
                    _check_key(key)  # raises the clear error
                if target._buffer.add_batched(
                    (task, args, kwargs, None, None, None, key, (), target)
                ):
                    return
                kwargs["_key"] = key
        _enqueue_general(target, task, args, kwargs)

    enqueue.__signature__ = inspect.signature(_documented_enqueue)
    enqueue.__doc__ = _documented_enqueue.__doc__


def _enqueue_general(
    target: Any, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Every enqueue the fast path does not take: options, kwargs, batches, task objects,
    hooked scopes, local policies, inactive scopes and every error.

    Into an open scope with no hooks (``_accepting``, or a policy view over one whose policies
    have none), an enqueue with options appends its full record here, without an Intent (see
    ``_record``); everything else goes through ``_entry.enqueue_intent``."""
    values = None
    if kwargs and not _RESERVED_SET.isdisjoint(kwargs):
        values = _pop_options(kwargs)
        if values is not None and (callable(task) or (type(task) is Batch and not kwargs)):
            name, origin, dispatch_options, key = values
            full = (task, args, kwargs, name, dispatch_options, origin, key, (), target)
            keyed, batch = key is not None, type(task) is Batch
            if target._accepting:  # read last (the rule of ``_buffer``): no call or jump on
                buffer = target._buffer  # buffer.add(full, False), inlined (-9% instructions
                buffer.keyed |= keyed  # on the options frame): keep in sync with Buffer.note
                buffer.batching |= batch
                buffer.rich = True  # before the append: a plain run of another thread stops at it
                buffer.append(full)
                return
    elif callable(task):  # with keywords of its own (a batch without any took ``enqueue``'s
        plain = (task, args, kwargs)  # own record path)
        if target._accepting:  # read last (the rule of ``_buffer``)
            target._buffer.append(plain)
            return
    check_task(task, "airlock.enqueue()")
    if type(target) is PolicyView:
        if (
            target.accepting and (callable(task) or type(task) is Batch)
            and _append_viewed(target, task, args, kwargs, values)
        ):
            return
        scope, local_policies = target.scope, target.policies
    elif target is NO_SCOPE or target is POLICY_GUARD:
        _refuse(target, effect_label(task, _options(values)))
    else:
        scope, local_policies = target, ()
    enqueue_intent(scope, task, args, kwargs, _options(values), local_policies)


def _append_viewed(
    view: PolicyView, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
    values: tuple[Any, Any, Any, Any] | None,
) -> bool:
    """An enqueue inside ``airlock.policy(...)`` whose policies have no ``on_enqueue``: a full
    record carrying them, for the flush's filter stage. False: the scope stopped accepting
    meanwhile (nothing appended)."""
    scope = view.scope
    name, origin, dispatch_options, key = values or _NO_VALUES
    batch, keyed, filtering = type(task) is Batch, key is not None, view.filtering
    if batch:
        task.check_payload(kwargs)
    record = (task, args, kwargs, name, dispatch_options, origin, key, view.policies, scope)
    # ``view.accepting``, read last (the rule of ``_buffer``): no call or jump on
    if scope._state is ACTIVE and not scope._plan.enqueue_hooked:
        buffer = scope._buffer  # buffer.add(record, filtering), inlined (-12% instructions on
        buffer.batching |= batch  # the policy-block frame): keep in sync with Buffer.note
        buffer.keyed |= keyed
        buffer.filtering |= filtering
        buffer.rich = True
        buffer.append(record)
        return True
    return False


def _options(values: tuple[Any, Any, Any, Any] | None) -> IntentOptions | None:
    return None if values is None else _new_options(IntentOptions, values)


#: How the executors send a task object that is not callable: Celery (``apply_async``,
#: ``delay``), Dramatiq (``send_with_options``, ``send``), Huey (``schedule``, or a
#: ``task_class`` on a ``huey``: see ``_is_task_object``), Django Tasks (``enqueue``). Any
#: executor may be the one that flushes it (a scope's can be replaced, an ancestor may
#: capture it), so the check is by shape, not by the current executor.
_SEND_METHODS = ("apply_async", "delay", "send_with_options", "send", "schedule", "enqueue")


def _is_task_object(task: Any) -> bool:
    """A task object an executor sends though it is not callable (a Django 6 ``@task``, an
    object with ``delay``, ``send``..., or a Huey ``task_class`` on a ``huey``)."""
    return any(callable(getattr(task, method, None)) for method in _SEND_METHODS) or (
        callable(getattr(task, "task_class", None))
        and callable(getattr(getattr(task, "huey", None), "enqueue", None))
    )


def check_task(task: Any, caller: str) -> None:
    """Refuse, at the call, a task no executor could run: not callable, not a batch effect or
    held task, not a task object (see ``_SEND_METHODS``). ``caller`` names the call in the
    message."""
    if callable(task) or type(task) in _FLUSH_ONLY or _is_task_object(task):
        return
    raise TypeError(
        f"{caller} needs a callable task, got {safe_repr(task)} ({type(task).__qualname__}); "
        "pass the function itself, not its result (or a task object with apply_async, delay, "
        "send, send_with_options, schedule or enqueue, for an executor that sends it)"
    )


#: tasks that are not callable and run only through a flush
_FLUSH_ONLY = (Batch, Cadence)
_new_options = tuple.__new__
_NO_VALUES = (None, None, None, None)


def _pop_options(kwargs: dict[str, Any]) -> tuple[Any, Any, Any, Any] | None:
    """Take the underscored options out of ``kwargs``, checking their types: ``(name,
    origin, dispatch_options, key)``, or None when all are unset."""
    pop = kwargs.pop
    key = pop("_key", None)
    if kwargs:
        name = pop("_name", None)
        origin = pop("_origin", None)
        dispatch_options = pop("_dispatch_options", None)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"_name must be a string, got {name!r}")
        if origin is not None and not isinstance(origin, str):
            raise TypeError(f"_origin must be a string, got {origin!r}")
        if dispatch_options is not None and not isinstance(dispatch_options, dict):
            raise TypeError(f"_dispatch_options must be a dict, got {dispatch_options!r}")
    else:  # only _key was given (the common case)
        name = origin = dispatch_options = None
    if key is not None:
        _check_key(key)
    elif name is None and origin is None and dispatch_options is None:
        return None
    return (name, origin, dispatch_options, key)


def _check_key(key: object) -> None:
    try:
        hash(key)
    except TypeError:
        raise TypeError(
            f"_key must be hashable (intents with equal keys coalesce), got {key!r} "
            f"({type(key).__qualname__}); use a string, number or tuple"
        ) from None


def options_from(kwargs: dict[str, Any]) -> IntentOptions | None:
    """``_pop_options`` as ``IntentOptions`` (for ``TickScope.post``)."""
    values = _pop_options(kwargs)
    return None if values is None else _new_options(IntentOptions, values)


def _refuse(target: Any, label: str) -> NoReturn:
    if target is POLICY_GUARD:
        raise PolicyEnqueueError(
            f"a policy tried to enqueue {label}; policies only observe and filter — "
            "enqueue from domain code instead"
        )
    raise NoScopeError(
        f"airlock.enqueue() of {label} was called without an active airlock.scope() (no "
        "scope open in this context), so nothing would run it; open a scope around the code "
        "that enqueues: `with airlock.scope():` (in a game or UI loop, the frame's `with tick:`)"
    )


def scope(
    policy: Policy | None = None,
    *,
    executor: Executor | None = None,
    _cls: type[Scope] | None = None,
    **scope_kwargs: Any,
) -> Scope:
    """Create a scope (use it as ``with airlock.scope(...) as s:``).

    ``_cls`` picks the Scope class (default: ``airlock.configure(scope_cls=...)`` or ``Scope``),
    built with keyword arguments only: ``policy``, ``executor`` and the others given here,
    after ``configure(scope_kwargs=...)``'s (the ones given here win).
    """
    if (
        policy is None and executor is None and _cls is None and not scope_kwargs
        and defaults.scope_cls is None and not defaults.scope_kwargs
    ):
        return Scope()  # the common call, without building keyword arguments
    cls = _cls or defaults.scope_cls or Scope
    if defaults.scope_kwargs:
        defaults.check_kwargs_fit(cls)
        scope_kwargs = {**defaults.scope_kwargs, **scope_kwargs}
    # by keyword: a subclass may take only ``**kwargs`` (airlock-py's documented pattern)
    return cls(policy=policy, executor=executor, **scope_kwargs)


@overload
def scoped(func: F, /) -> F: ...
@overload
def scoped(
    policy: Policy | None = None,
    *,
    executor: Executor | None = None,
    _cls: type[Scope] | None = None,
    **scope_kwargs: Any,
) -> Callable[[F], F]: ...
def scoped(*args: Any, **kwargs: Any) -> Any:
    """Run each call of the decorated function (sync or async) in a fresh scope.

    ``@airlock.scoped`` or ``@airlock.scoped(policy=..., executor=...)``.
    """
    if len(args) == 1 and not kwargs and callable(args[0]) and not hasattr(args[0], "allows"):
        return _scoped_decorator((), {})(args[0])
    return _scoped_decorator(args, kwargs)


def _scoped_decorator(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*a: Any, **kw: Any) -> Any:
                with scope(*args, **kwargs):
                    return await func(*a, **kw)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*a: Any, **kw: Any) -> Any:
            with scope(*args, **kwargs):
                return func(*a, **kw)

        return run  # type: ignore[return-value]

    return decorate
