"""Stage 0 of a flush: withdraw. An intent a policy withdraws leaves before coalescing, as if
it had never been enqueued (so it supersedes nothing); it counts as ``dropped``.

Rules:
- ``withdraws(intent) -> bool`` is an optional policy method (the ``Policy`` protocol does not
  require it): True when the intent's enqueue was undone since, as a rolled-back database
  transaction undoes the work it was enqueued for. A policy that defines it judges
  (``is_allow_all`` is False), so its flushes run the filter stages.
- The policies asked are the scope's and the entry's local policies (those open where it was
  enqueued), at every flush it reaches: a captured intent too, unlike the filter stage, whose
  local verdict was given where it was flushed. A withdrawal is a fact about the enqueue that
  may come true later (a rollback after the inner scope ended), not that scope's decision.
  Policies run under the policy guard: they cannot enqueue. One that raises fails that intent
  (see ``FlushContext.fail``).
- Unlike ``allows`` (stage 2, asked about the intents that coalescing kept), ``withdraws`` is
  asked about every intent, before the last one of a key is chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._context import POLICY_GUARD, current_target
from ._record import local_policies_of, named_once

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = ["withdraw", "withdraws_of"]


def withdraws_of(policy: Any) -> Any:
    """The policy's ``withdraws`` method, or None when it has none."""
    withdraws = getattr(policy, "withdraws", None)
    return withdraws if callable(withdraws) else None


def withdraw(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """``entries`` without the intents a policy withdraws (counted ``dropped``, told)."""
    scope_withdraws = withdraws_of(ctx.policy)
    if scope_withdraws is None and not ctx.filtering:
        return entries  # no policy here withdraws anything
    # each distinct tuple of local policies (a policy block's entries share one) -> the
    # ``withdraws`` methods among them, looked up once per flush
    local: dict[int, list[Any]] = {}
    for entry in entries:
        policies = local_policies_of(entry)
        if policies and id(policies) not in local:
            local[id(policies)] = [
                method for policy in policies if (method := withdraws_of(policy)) is not None
            ]
    if scope_withdraws is None and not any(local.values()):
        return entries  # the local policies here judge, but none withdraws
    scope_asked = [] if scope_withdraws is None else [scope_withdraws]

    def asked_of(entry: Any) -> list[Any]:
        """The ``withdraws`` methods that judge ``entry`` here."""
        policies = local_policies_of(entry)
        return local[id(policies)] + scope_asked if policies else scope_asked

    stats, watching = ctx.stats, ctx.watching
    # the records a policy will see, named in one pass over the buffer (as the filter does)
    named = named_once(entries, lambda entry: bool(asked_of(entry)), ctx.intents_for)
    kept: list[Any] = []
    keep = kept.append
    remaining = iter(entries)
    token = current_target.set(POLICY_GUARD)
    try:
        for entry in remaining:
            asked = asked_of(entry)
            if not asked:
                keep(entry)
                continue
            intent = named.get(id(entry), entry)  # (else an Intent already)
            try:
                gone = any(method(intent) for method in asked)
            except BaseException as exc:
                if ctx.fail_or_stop(intent, exc, lambda: [*kept, *remaining]) < 0:
                    continue
                raise
            if gone:
                stats.dropped += 1
                if watching:
                    ctx.tell("dropped", intent)
            else:
                keep(intent)
    finally:
        current_target.reset(token)
    return kept
