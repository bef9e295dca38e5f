"""Stage 2 of a flush: filter. An entry goes on when its local policies (those open where it
was enqueued into this scope) and the scope's policy allow it; otherwise it counts as
``dropped``. A policy that raises fails that intent (see ``FlushContext.fail``).

Policies judge ``Intent`` objects: a record is materialized only when some policy will
actually look at it (an ``AllowAll`` never does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._context import POLICY_GUARD, current_target
from ._policies import is_allow_all
from ._record import is_own, local_policies_of, named_once

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = ["filter_by_policies"]


def filter_by_policies(entries: list[Any], ctx: FlushContext) -> list[Any]:
    policy = ctx.policy
    policy_allows = None if is_allow_all(policy) else policy.allows
    if policy_allows is None and not ctx.filtering:
        return entries  # no policy here can refuse anything
    kept: list[Any] = []
    keep = kept.append
    owner, stats, watching = ctx.owner, ctx.stats, ctx.watching
    # the records a policy will see, named in one pass over the buffer
    named = named_once(
        entries, lambda e: policy_allows is not None or _judged_here(e, owner), ctx.intents_for
    )
    remaining = iter(entries)
    token = current_target.set(POLICY_GUARD)
    try:
        for entry in remaining:
            local = local_policies_of(entry)
            if local and not is_own(entry, owner):
                local = ()  # a captured intent passed its local policies where it was enqueued
                # (_judged_here: keep in sync)
            if not local and policy_allows is None:
                keep(entry)
                continue
            intent = named.get(id(entry), entry)  # (else an Intent already)
            try:
                allowed = all(p.allows(intent) for p in local) and (
                    policy_allows is None or policy_allows(intent)
                )
            except BaseException as exc:
                if ctx.fail_or_stop(intent, exc, lambda: [*kept, *remaining]) < 0:
                    continue
                raise
            if allowed:
                keep(intent)
            else:  # (inline: a judging policy may drop every intent of a flush)
                stats.dropped += 1
                if watching:
                    ctx.tell("dropped", intent)
    finally:
        current_target.reset(token)
    return kept


def _judged_here(entry: Any, owner: Any) -> bool:
    """The entry's local policies judge it in this flush (it was enqueued here)."""
    return bool(local_policies_of(entry)) and is_own(entry, owner)
