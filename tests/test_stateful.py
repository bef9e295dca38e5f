"""Random programs against a reference model: nesting, capture, local policies, coalescing.

The model below restates the rules in a few lines. Flushing scope S:
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

import itertools
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
            assert real.is_discarded
            return
        self.stack.pop()  # the model flushes with its ancestors left on the stack
        expected_stats = self.flush(entry)
        real.__exit__(None, None, None)
        assert real.is_flushed
        stats = real.stats.as_dict()
        assert {k: stats[k] for k in expected_stats} == expected_stats

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
                entry.real.discard()
        assert airlock.get_current_scope() is None


NestingMachine.TestCase.settings = settings(
    max_examples=120, stateful_step_count=40, deadline=None
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
