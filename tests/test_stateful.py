"""Random programs against reference models: nesting, capture, local policies, coalescing;
and ticks: frames, arrivals and policy switches in any order.

The nesting model restates the rules in a few lines. Flushing scope S:
1. its buffer (own and captured intents, arrival order) is coalesced: per ``_key`` only the
   last survives, at its position;
2. each intent must pass S's policy, and its local policies if it is S's own (captured ones
   passed theirs when their scope flushed); an enqueue's local policies are every
   ``airlock.policy`` open around it, innermost first (they reach into nested scopes);
3. what is left is offered to the open ancestors, innermost first; each returns what may go on
   and captures the rest (plain: capture all; independent: none; selective: the dangerous);
4. the rest is dispatched in order. An exception in the block discards the buffer instead.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import airlock
from airlock import Intent, Scope

Log = list[tuple[str, int]]


def task_a(log: Log, ident: int) -> None:
    log.append(("task_a", ident))


def task_b(log: Log, ident: int) -> None:
    log.append(("task_b", ident))


TASKS = {"task_a": task_a, "task_b": task_b}


class IndependentScope(Scope):
    def before_descendant_flushes(self, exiting: Scope, intents: list[Intent]) -> list[Intent]:
        return intents


class SelectiveScope(Scope):
    def before_descendant_flushes(self, exiting: Scope, intents: list[Intent]) -> list[Intent]:
        return [i for i in intents if not i.dispatch_options.get("dangerous")]


SCOPE_CLASSES: dict[str, type[Scope]] = {
    "plain": Scope,
    "independent": IndependentScope,
    "selective": SelectiveScope,
}
POLICIES = {
    "allow": airlock.AllowAll,
    "drop": airlock.DropAll,
    "block_b": lambda: airlock.BlockTasks(["task_b"]),
}


def model_allows(policy: str, name: str) -> bool:
    return policy == "allow" or (policy == "block_b" and name != "task_b")


@dataclass
class ModelIntent:
    ident: int
    name: str
    key: str | None
    dangerous: bool
    local_policies: tuple[str, ...]
    origin: ModelScope


@dataclass(eq=False)
class ModelScope:
    kind: str
    policy: str
    real: Scope
    buffer: list[ModelIntent] = field(default_factory=list)

    def offer(self, intents: list[ModelIntent]) -> list[ModelIntent]:
        """What passes this ancestor; the rest is captured into its buffer."""
        if self.kind == "independent":
            allowed = intents
        elif self.kind == "selective":
            allowed = [i for i in intents if not i.dangerous]
        else:
            allowed = []
        self.buffer += [i for i in intents if i not in allowed]
        return allowed


@dataclass
class PolicyEntry:
    policy: str
    manager: Any


class NestingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.log: Log = []
        self.expected: Log = []
        self.stack: list[ModelScope | PolicyEntry] = []
        self.ids = itertools.count()

    # -- helpers ---------------------------------------------------------------------------

    def scopes(self) -> list[ModelScope]:
        return [e for e in self.stack if isinstance(e, ModelScope)]

    def local_policies(self) -> tuple[str, ...]:
        return tuple(e.policy for e in reversed(self.stack) if isinstance(e, PolicyEntry))

    def flush(self, scope: ModelScope) -> dict[str, int]:
        intents = scope.buffer
        last = {i.key: i for i in intents if i.key is not None}
        survivors = [i for i in intents if i.key is None or last[i.key] is i]
        kept = [
            i for i in survivors
            if (i.origin is not scope or all(model_allows(p, i.name) for p in i.local_policies))
            and model_allows(scope.policy, i.name)
        ]
        rest = kept
        for ancestor in reversed(self.scopes()):
            if not rest:
                break
            rest = ancestor.offer(rest)
        self.expected += [(i.name, i.ident) for i in rest]
        return {
            "enqueued": len(intents),
            "coalesced": len(intents) - len(survivors),
            "dropped": len(survivors) - len(kept),
            "dispatched": len(rest),
        }

    # -- rules -----------------------------------------------------------------------------

    @rule(kind=st.sampled_from(sorted(SCOPE_CLASSES)), policy=st.sampled_from(sorted(POLICIES)))
    def open_scope(self, kind: str, policy: str) -> None:
        real = SCOPE_CLASSES[kind](POLICIES[policy]())
        real.__enter__()
        self.stack.append(ModelScope(kind, policy, real))

    @precondition(lambda self: self.scopes())
    @rule(policy=st.sampled_from(sorted(POLICIES)))
    def open_local_policy(self, policy: str) -> None:
        manager = airlock.policy(POLICIES[policy]())
        manager.__enter__()
        self.stack.append(PolicyEntry(policy, manager))

    @rule(
        name=st.sampled_from(sorted(TASKS)),
        key=st.sampled_from([None, None, "k1", "k2"]),
        dangerous=st.booleans(),
    )
    def enqueue(self, name: str, key: str | None, dangerous: bool) -> None:
        ident = next(self.ids)
        options: dict[str, Any] = {}
        if key is not None:
            options["_key"] = key
        if dangerous:
            options["_dispatch_options"] = {"dangerous": True}
        scopes = self.scopes()
        if not scopes:
            with pytest.raises(airlock.NoScopeError):
                airlock.enqueue(TASKS[name], self.log, ident, **options)
            return
        airlock.enqueue(TASKS[name], self.log, ident, **options)
        scopes[-1].buffer.append(
            ModelIntent(ident, name, key, dangerous, self.local_policies(), scopes[-1])
        )

    @precondition(lambda self: self.stack)
    @rule(fail=st.booleans())
    def close_top(self, fail: bool) -> None:
        entry = self.stack[-1]
        error = ValueError("the block failed") if fail else None
        if isinstance(entry, PolicyEntry):
            self.stack.pop()
            # the block's exception propagates (the manager does not swallow it)
            exc_type = None if error is None else ValueError
            assert not entry.manager.__exit__(exc_type, error, None)
            return
        real = entry.real
        if error is not None:
            real.__exit__(ValueError, error, None)
            self.stack.pop()
            assert real.is_discarded and real.stats.balance_error() is None
            return
        self.stack.pop()  # the model flushes with its ancestors left on the stack
        expected_stats = self.flush(entry)
        real.__exit__(None, None, None)
        assert real.is_flushed
        stats = real.stats.as_dict()
        assert {k: stats[k] for k in expected_stats} == expected_stats
        assert real.stats.balance_error() is None

    @precondition(lambda self: self.scopes())
    @rule()
    def check_provenance(self) -> None:
        for scope in self.scopes():
            real = scope.real
            own = [i.ident for i in scope.buffer if i.origin is scope]
            captured = [i.ident for i in scope.buffer if i.origin is not scope]
            assert [i.args[1] for i in real.own_intents] == own
            assert [i.args[1] for i in real.captured_intents] == captured
            assert [i.args[1] for i in real.intents] == [i.ident for i in scope.buffer]
            for intent, model in zip(real.intents, scope.buffer, strict=True):
                assert intent.key == model.key
                assert intent.scope is model.origin.real
                assert [type(p).__name__ for p in intent.local_policies] == [
                    type(POLICIES[p]()).__name__ for p in model.local_policies
                ]

    @invariant()
    def dispatched_exactly_as_modelled(self) -> None:
        assert self.log == self.expected

    def teardown(self) -> None:
        while self.stack:
            entry = self.stack.pop()
            if isinstance(entry, PolicyEntry):
                entry.manager.__exit__(None, None, None)
            else:
                entry.real.__exit__(ValueError, ValueError("teardown"), None)
                assert entry.real.is_discarded
        assert airlock.get_current_scope() is None


#: random programs per machine: CI runs four times as many as a local run
PROGRAMS = 4 if os.environ.get("CI") else 1

NestingMachine.TestCase.settings = settings(
    max_examples=40 * PROGRAMS, stateful_step_count=40, deadline=None
)
test_nesting_programs = NestingMachine.TestCase


# -- tick properties -----------------------------------------------------------------------------


def effect(log: list[Any], tag: Any) -> None:
    log.append(tag)


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.sampled_from([None, "a", "b", "c"]), max_size=30))
def test_coalescing_keeps_the_last_per_key_in_survivor_order(keys: list[str | None]) -> None:
    log: list[Any] = []
    tick = airlock.tick_scope()
    with tick:
        for index, key in enumerate(keys):
            airlock.enqueue(effect, log, index, _key=key)
    last = {key: index for index, key in enumerate(keys) if key is not None}
    survivors = [i for i, key in enumerate(keys) if key is None or last[key] == i]
    assert log == survivors
    assert tick.stats.coalesced == len(keys) - len(survivors)


@settings(max_examples=100, deadline=None)
@given(frames=st.lists(st.lists(st.integers(0, 3), max_size=6), min_size=1, max_size=6))
def test_reentrant_enqueues_always_land_in_the_next_frame(frames: list[list[int]]) -> None:
    """Each top-level effect spawns ``n`` children during the flush; they run next frame."""
    ran: list[tuple[int, str]] = []  # (frame, tag)
    tick = airlock.tick_scope()

    def child(tag: str) -> None:
        ran.append((tick.frame, tag))

    def parent(tag: str, children: int) -> None:
        ran.append((tick.frame, tag))
        for c in range(children):
            airlock.enqueue(child, f"{tag}.{c}")

    expected: list[tuple[int, str]] = []
    spawned: list[str] = []
    for number, spawns in enumerate([*frames, []]):
        expected += [(number, tag) for tag in spawned]
        spawned = []
        with tick:
            for index, children in enumerate(spawns):
                tag = f"f{number}e{index}"
                airlock.enqueue(parent, tag, children)
                expected.append((number, tag))
                spawned += [f"{tag}.{c}" for c in range(children)]
    assert ran == expected
    assert tick.pending == 0


@settings(max_examples=100, deadline=None)
@given(
    limit=st.integers(1, 5),
    frames=st.lists(st.integers(0, 12), min_size=1, max_size=8),
)
def test_nothing_is_lost_across_budgets_and_carry(limit: int, frames: list[int]) -> None:
    log: list[Any] = []
    tick = airlock.tick_scope(max_per_frame=limit)
    sent = itertools.count()
    enqueued: list[int] = []
    for count in frames:
        before = len(log)
        with tick:
            for _ in range(count):
                n = next(sent)
                enqueued.append(n)
                airlock.enqueue(effect, log, n)
        assert len(log) - before <= limit
        assert tick.stats.carried == tick.pending
    while tick.pending:
        with tick:
            pass
    assert log == enqueued


class TickMachine(RuleBasedStateMachine):
    """Frames, arrivals and policy switches in any order; the tick must match this model.

    A frame starts with what waited for it (re-entrant and stale-context enqueues, then
    posts). At close, the policy in force then decides the whole frame: AllowAll dispatches
    the coalesced buffer in order, DropAll drops it; an error discards it. Effects may enqueue
    (their children wait for the next frame) or switch the policy (for the next frame on).
    Whether a frame took the inline or the general path must never show.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tick = airlock.tick_scope()
        self.log: list[str] = []
        self.expected: list[str] = []
        self.mute = False  # the model's policy
        self.buffer: list[tuple[str, str, str | None]] = []  # (kind, tag, key) of the frame
        self.waiting: list[tuple[str, str, str | None]] = []  # re-entrant, stale context
        self.posted: list[tuple[str, str, str | None]] = []
        self.stale: Any = None  # a context copied inside a frame: the tick stays its target
        self.tags = itertools.count()

    # effects the tick runs
    def run(self, tag: str) -> None:
        self.log.append(tag)

    def parent(self, tag: str) -> None:
        self.log.append(tag)
        airlock.enqueue(self.run, f"{tag}.child")

    def switch(self, tag: str, mute: bool) -> None:
        self.log.append(tag)
        self.tick.policy = airlock.DropAll() if mute else airlock.AllowAll()

    # what a frame or the time between frames may do
    def _act(self, action: str, in_frame: bool) -> None:
        tag = f"t{next(self.tags)}"
        if action in ("mute now", "unmute now"):
            self.tick.policy = airlock.DropAll() if action == "mute now" else airlock.AllowAll()
            self.mute = action == "mute now"
        elif action == "post":
            self.tick.post(self.run, tag)
            self.posted.append(("plain", tag, None))  # open frame or not: the next frame
        elif action == "stale":
            if self.stale is not None:
                self.stale.run(airlock.enqueue, self.run, tag)
                (self.buffer if in_frame else self.waiting).append(("plain", tag, None))
        elif action == "parent":
            airlock.enqueue(self.parent, tag)
            self.buffer.append(("parent", tag, None))
        elif action in ("mute", "unmute"):
            airlock.enqueue(self.switch, tag, action == "mute")
            self.buffer.append((action, tag, None))
        elif action == "named":
            airlock.enqueue(self.run, tag, _name="named")
            self.buffer.append(("plain", tag, None))
        else:
            key = None if action == "plain" else action
            airlock.enqueue(self.run, tag, _key=key)
            self.buffer.append(("plain", tag, key))

    @rule(
        actions=st.lists(st.sampled_from([
            "plain", "plain", "plain", "k1", "k2", "named", "parent", "mute", "unmute",
            "mute now", "unmute now", "post", "stale",
        ]), max_size=8),
        fail=st.sampled_from([False, False, False, True]),
    )
    def frame(self, actions: list[str], fail: bool) -> None:
        self.tick.__enter__()
        self.buffer = [*self.waiting, *self.posted]
        self.waiting, self.posted = [], []
        self.stale = contextvars.copy_context()
        for action in actions:
            self._act(action, in_frame=True)
        if fail:
            assert not self.tick.__exit__(ValueError, ValueError("frame failed"), None)
            assert self.tick.stats.discarded == len(self.buffer)
            return
        self.tick.__exit__(None, None, None)
        last = {key: i for i, (_, _, key) in enumerate(self.buffer) if key is not None}
        survivors = [e for i, e in enumerate(self.buffer) if e[2] is None or last[e[2]] == i]
        muted = self.mute
        if not muted:
            for kind, tag, _ in survivors:
                self.expected.append(tag)
                if kind == "parent":
                    self.waiting.append(("plain", f"{tag}.child", None))
                elif kind in ("mute", "unmute"):
                    self.mute = kind == "mute"
        stats = self.tick.stats
        assert (stats.enqueued, stats.coalesced) == (
            len(self.buffer), len(self.buffer) - len(survivors)
        )
        assert (stats.dispatched, stats.dropped) == (
            (0, len(survivors)) if muted else (len(survivors), 0)
        )

    @rule(action=st.sampled_from(["mute now", "unmute now", "post", "stale"]))
    def between_frames(self, action: str) -> None:
        self._act(action, in_frame=False)

    @invariant()
    def dispatched_as_modelled(self) -> None:
        assert self.log == self.expected


TickMachine.TestCase.settings = settings(
    max_examples=50 * PROGRAMS, stateful_step_count=20, deadline=None
)
test_tick_programs = TickMachine.TestCase
