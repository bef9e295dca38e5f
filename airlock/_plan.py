"""A scope's flush plan: what its configuration lets enqueue and flush skip, decided once.

Rule: a plan is built when the configuration changes (policy, executor, ``order_by``, errors,
observers; for a tick also its budget and back-pressure), never per enqueue or per flush, and
is frozen: a change builds a new one (``Scope._configure_paths``). It says which paths the
configuration allows: hooks at enqueue, the plain loop, the pipeline on records, a tick's
inline frames. What a flush's own entries ask for (keys, batches, local filters, held tasks)
is flagged by their enqueues and read at flush; whether an ancestor wants Intents is read at
flush too (``_settle.needs_intents``). The plan also picks the flush's last stage, the
dispatcher: the plain dispatch loop, ``dispatch`` (an executor, observers) or a tick's frame
budget (``_budget``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._budget import dispatch_budgeted
from ._dispatch import dispatch
from ._executor import runs_tasks, sync_executor
from ._ordering import sorts_records
from ._policies import Policy, has_enqueue_hook, is_allow_all

if TYPE_CHECKING:
    from ._flush import Dispatcher
    from ._intent import Intent

__all__ = ["FlushPlan", "make_plan"]


@dataclass(frozen=True, slots=True)
class FlushPlan:
    """What a configuration allows (see the module rule)."""

    #: an enqueue builds its Intent at once and runs the hooks: a policy's ``on_enqueue``,
    #: or an observer's ``enqueued``
    enqueue_hooked: bool
    #: some observer has a per-intent hook: the flush tells it each intent's fate
    watching: bool
    #: a buffer of plain records may run the plain loop: allow-all policy, ``sync_executor``,
    #: no ``order_by``, nothing watching, ``errors="raise"`` (it is fail-fast), no budget
    plain_loop: bool
    #: the pipeline may run on records: nothing in the configuration judges, watches,
    #: executes or orders Intents (``plain_loop`` implies it)
    on_records: bool
    #: a tick's frames may open and close inline (``_frame``): the plain loop, or the pipeline
    #: on records (or on the Intents observers watch) with no budget, and no ``post()`` that
    #: may block
    inline_frames: bool
    #: the policy is not allow-all: the filter stage asks it about every intent
    judging: bool = False
    #: the policy has an ``on_enqueue`` of its own: each enqueue runs it, before the observers
    policy_hooked: bool = False
    #: a tick's: a flush takes the entries present when it starts (later arrivals are the
    #: next frame's); a scope used once has no next flush, so its plain loop runs them too
    tick: bool = False
    #: the last stage of the pipeline: None, the dispatch loop (``_dispatch.call_each``) under
    #: the default executor (the compiled kernel's runs both its direct and its watched
    #: variant); else ``dispatch``, or ``dispatch_budgeted`` for a tick with a budget
    dispatcher: Dispatcher | None = None


def make_plan(
    policy: Policy,
    executor: Any,
    order_by: Callable[[Intent], Any] | None,
    errors: str,
    watching: bool,
    *,
    tick: bool = False,
    budgeted: bool = False,
    blocking: bool = False,
) -> FlushPlan:
    """The plan of a configuration; ``tick``: a tick's (``budgeted``: it has a frame budget;
    ``blocking``: a full ``post()`` waits, so frames must record their thread)."""
    allow_all = is_allow_all(policy)
    wants_intents = (  # besides a watching observer: something that takes Intents
        not runs_tasks(executor)
        or not allow_all
        or (order_by is not None and not sorts_records(order_by))
    )
    on_records = not (watching or wants_intents)
    plain_loop = (
        allow_all
        and executor is sync_executor
        and order_by is None
        and not watching
        and errors == "raise"
        and not budgeted
    )
    dispatcher: Dispatcher | None = None
    if tick and budgeted:
        dispatcher = dispatch_budgeted
    elif executor is not sync_executor:
        dispatcher = dispatch
    policy_hooked = has_enqueue_hook(policy)
    return FlushPlan(
        enqueue_hooked=policy_hooked or watching,
        watching=watching,
        plain_loop=plain_loop,
        on_records=on_records,
        inline_frames=tick and (plain_loop or not (wants_intents or budgeted)) and not blocking,
        judging=not allow_all,
        policy_hooked=policy_hooked,
        tick=tick,
        dispatcher=dispatcher,
    )
