"""The slow enqueue path: the entry an enqueue needs, its checks and its hooks.

Rules:
- Everything ``enqueue``'s fast paths leave (hooks, local policies with ``on_enqueue``, task
  objects, held tasks, inactive scopes) comes to ``enqueue_intent``; a tick's ``post()`` and
  its enqueues between frames build their entry with ``make_entry`` too, on the calling
  thread.
- An entry is the record the enqueue needs (see ``_record``: a plain record when nothing else
  is asked for, else the full record), or an Intent only when an ``on_enqueue`` or an
  observer's ``enqueued`` must see one now (``run_enqueue_hooks``).
- An enqueue into a scope that is not active goes to its ``_enqueue_inactive`` (a tick's takes
  it for the next frame): ``late_enqueue_target()``, else refused (``refusal``). An entry made
  for an active scope that ended while its hooks ran goes to its ``_enqueue_made``: the same,
  without running the hooks again for the same scope; observers that heard it ``enqueued``
  hear it ``discarded`` (``leave_hooked``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._batch import Batch
from ._cadence import Cadence
from ._context import POLICY_GUARD, current_target
from ._errors import ScopeStateError, UsageError
from ._intent import NO_OPTIONS, Intent, IntentOptions
from ._observe import tell_after_flush
from ._policies import Policy, any_judges, has_enqueue_hook
from ._record import ARGS, KWARGS, PLAIN, TASK
from ._states import ACTIVE
from ._stats import effect_label

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = [
    "check_holds", "enqueue_intent", "enqueue_late", "enqueue_made", "leave_hooked", "make_entry",
    "refusal", "run_enqueue_hooks",
]

_set_target = current_target.set
_reset_target = current_target.reset


def enqueue_intent(
    scope: Scope, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
    options: IntentOptions | None, local_policies: tuple[Policy, ...],
) -> None:
    """The slow enqueue path into ``scope``: hooks, local policies, metadata, batches,
    inactive scopes. An entry made while ``scope`` was active goes to its ``_enqueue_made``
    if it stopped being active meanwhile. (The compiled kernel's ``enqueue_observed`` inlines
    it, with ``make_entry`` and ``run_enqueue_hooks``, for a watched scope's plain call: keep
    in sync.)"""
    if scope._state is not ACTIVE:
        scope._enqueue_inactive(task, args, kwargs, options, local_policies)
        return
    if not local_policies:  # a PolicyView over this scope already includes the ambient ones
        local_policies = scope._ambient_policies
    entry = make_entry(scope, task, args, kwargs, options, local_policies)
    buffer = scope._buffer
    if len(entry) != PLAIN:
        buffer.note(entry, bool(local_policies) and any_judges(local_policies))
    if scope._state is ACTIVE:  # again, read last (the rule of ``_buffer``): the hooks ran
        buffer.append(entry)  # Python code, during which another thread may have ended it
        return
    scope._enqueue_made(entry, options, local_policies)


def make_entry(
    scope: Scope, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
    options: IntentOptions | None, local_policies: tuple[Policy, ...],
) -> Any:
    """A buffer entry of ``scope``: the record the enqueue needs (plain when nothing else is
    asked for), or a hooked Intent when an ``on_enqueue`` or an observer must see one now.

    Checks a batch's payload and a held task's place; the buffer's ``add`` sets the flags the
    entry needs.
    """
    hooked = scope._plan.enqueue_hooked or (
        local_policies and any(has_enqueue_hook(p) for p in local_policies)
    )
    if type(task) is Batch:
        task.check_payload(kwargs)
    elif type(task) is Cadence:
        check_holds(scope, task)
    elif (
        not hooked and options is None and not local_policies and callable(task)
    ):  # task objects (not callable) go to the executor as full records
        return (task, args, kwargs)
    name, origin, dispatch_options, key = options or NO_OPTIONS
    if not hooked:
        return (task, args, kwargs, name, dispatch_options, origin, key, local_policies, scope)
    intent = Intent(task, args, kwargs, name, dispatch_options, origin, key, local_policies, scope)
    run_enqueue_hooks(scope, intent)
    return intent


def run_enqueue_hooks(scope: Scope, intent: Intent) -> None:
    """The local policies' and the scope policy's ``on_enqueue``, then observers' ``enqueued``."""
    # Hooks may run on several threads at once (threads that carry the scope's context,
    # a tick's posts): the guard against enqueueing from a policy is the caller's own
    # context, not a flag on the scope that another thread would see.
    local_policies = intent.local_policies
    if local_policies or scope._plan.policy_hooked:
        token = _set_target(POLICY_GUARD)
        try:
            for local in local_policies:
                local.on_enqueue(intent)
            scope._policy.on_enqueue(intent)
        finally:
            _reset_target(token)
    if scope._plan.watching:
        scope._observing.tell("enqueued", intent)


def enqueue_late(
    scope: Scope,
    task: Any,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    options: IntentOptions | None = None,
    local_policies: tuple[Policy, ...] = (),
) -> None:
    """An enqueue into ``scope`` while it is not active (``Scope._enqueue_inactive``):
    forwarded to ``late_enqueue_target()``, else refused through ``enqueue_refused``."""
    target = scope.late_enqueue_target()
    if target is not None:
        if target is scope:
            raise UsageError(
                f"{type(scope).__qualname__}.late_enqueue_target() returned the scope "
                "itself; return another scope (or None to refuse late enqueues)"
            )
        enqueue_intent(target, task, args, {} if kwargs is None else kwargs, options,
                       local_policies)
        return
    scope.enqueue_refused(task, refusal(scope, task, options))


def enqueue_made(
    scope: Scope, entry: Any, options: IntentOptions | None, local_policies: tuple[Policy, ...]
) -> None:
    """An entry made for ``scope`` while it was active, which it no longer is: what an enqueue
    into it now does (``enqueue_late``: forwarded, else refused). A tick overrides it."""
    try:
        enqueue_late(scope, entry[TASK], entry[ARGS], entry[KWARGS], options, local_policies)
    finally:  # (after its fate: an observer's interrupt cannot keep it from the target)
        leave_hooked(scope, entry)


def leave_hooked(scope: Scope, entry: Any) -> None:
    """An entry that will not be in ``scope``'s buffer after all: if its observers heard it
    ``enqueued`` (an Intent, hooked), they hear it ``discarded`` now, so no intent they heard
    of is left without a fate. (Forwarded, the target's observers hear of it there.)"""
    if type(entry) is Intent and scope._plan.watching:
        tell_after_flush(scope, "discarded", entry)


def check_holds(scope: Scope, task: Cadence) -> None:
    """Refuse a held task (``@airlock.debounce``/``throttle``) where no tick would hold it:
    a scope that is not a tick and has none around it."""
    holder: Scope | None = scope
    while holder is not None:
        if holder._across_frames:
            return
        holder = holder._parent
    raise UsageError(
        f"{task!r} is held across frames, which only a tick_scope() does, and no tick "
        f"encloses {scope!r}; enqueue it inside a frame (`with tick:`), hand it to a tick "
        f"with tick.post(), or call {task.__name__}.func(...) to run it now"
    )


def refusal(scope: Scope, task: Any, options: IntentOptions | None) -> ScopeStateError:
    """The error of an enqueue refused because ``scope`` takes no more intents."""
    return ScopeStateError(
        f"cannot enqueue {effect_label(task, options)} into {scope!r}: it "
        f"{scope._done_state()} and takes no more intents. Code that outlived its scope "
        "(a task, timer or thread) must open its own: `with airlock.scope():`"
    )
