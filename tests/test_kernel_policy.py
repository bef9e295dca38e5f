"""The kernel's policy blocks (``airlock._speedups``: ``policy``, ``policy_enter``,
``policy_exit``) against the pure core's (``_context.policy`` and ``PolicyBlock``'s own
``__enter__``/``__exit__``): the same blocks, views, outcomes and errors.

Runs wherever the extension is built, whatever ``AIRLOCK_NO_EXTENSIONS`` says; skipped only
where the extension is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from blocks import blocks_grown

import airlock
from airlock import _context, _kernel
from airlock._context import PolicyBlock, PolicyView, current_target

speedups = pytest.importorskip("airlock._speedups")


@contextmanager
def blocks_of(which: str) -> Iterator[Callable[[Any], PolicyBlock]]:
    """``airlock.policy`` and ``PolicyBlock``'s ``with`` of one implementation."""
    before = (vars(PolicyBlock)["__enter__"], vars(PolicyBlock)["__exit__"])
    if which == "compiled":
        PolicyBlock.__enter__, PolicyBlock.__exit__ = speedups.policy_methods()  # type: ignore[method-assign]
        make: Callable[[Any], PolicyBlock] = speedups.policy
    else:
        PolicyBlock.__enter__, PolicyBlock.__exit__ = _kernel.PURE_BLOCK_LIFECYCLE  # type: ignore[method-assign]
        make = _context.policy
    try:
        yield make
    finally:
        PolicyBlock.__enter__, PolicyBlock.__exit__ = before  # type: ignore[method-assign]


class Refuses(airlock.Policy):
    def allows(self, intent: airlock.Intent) -> bool:
        return intent.args != ("refused",)


class Hooked(airlock.Policy):
    def __init__(self) -> None:
        self.seen: list[object] = []

    def on_enqueue(self, intent: airlock.Intent) -> None:
        self.seen.append(intent.args)


def noop(*args: Any) -> None:
    pass


def _view() -> tuple[object, ...] | None:
    """The current target if it is a view: its scope, policies and flags."""
    target = current_target.get()
    if type(target) is not PolicyView:
        return None
    return (target.scope, target.policies, target.hooked, target.filtering)


def _story(make: Callable[[Any], PolicyBlock], scope: airlock.Scope) -> list[object]:
    """Blocks nested three deep (allow-all, refusing, hooked) with enqueues at each level,
    the views seen, and what the flush ran."""
    seen: list[object] = []
    allow, refuse, hooked = airlock.AllowAll(), Refuses(), Hooked()
    ran: list[object] = []
    with scope:
        with make(allow):
            seen.append(_view())
            airlock.enqueue(ran.append, "allowed")
            with make(refuse):
                seen.append(_view())
                airlock.enqueue(ran.append, "refused")
                airlock.enqueue(ran.append, "kept")
                with make(hooked):
                    seen.append(_view())
                    airlock.enqueue(ran.append, "hooked")
                seen.append(_view())
            seen.append(_view())
        seen.append(_view())
        seen.append([(i.args, len(i.local_policies)) for i in scope.intents])
    seen.append(ran)
    seen.append(hooked.seen)
    stats = scope.stats
    seen.append((stats.enqueued, stats.dispatched, stats.dropped))
    return [_named(x, scope, allow, refuse, hooked) for x in seen]


def _named(value: object, *known: object) -> object:
    """``value`` with the story's scope and policies named by position (comparable across
    two runs)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_named(v, *known) for v in value)
    for index, obj in enumerate(known):
        if value is obj:
            return f"known {index}"
    return value


@pytest.mark.parametrize("scope", ["scope", "tick"])
def test_nested_blocks_give_the_views_and_outcomes_python_gives(scope: str) -> None:
    def run(which: str) -> list[object]:
        target = airlock.scope() if scope == "scope" else airlock.tick_scope()
        with blocks_of(which) as make:
            return _story(make, target)

    assert run("compiled") == run("pure")


class PolicyMeta(type(airlock.Policy)):  # type: ignore[misc]
    """A policy metaclass with hook names of its own (the kernel then asks ``getattr``)."""

    def on_enqueue(cls, intent: airlock.Intent) -> None:
        pass

    def allows(cls, intent: airlock.Intent) -> bool:
        return True


class MetaAllowsAll(airlock.AllowAll, metaclass=PolicyMeta):
    pass


class MetaRefuses(Refuses, metaclass=PolicyMeta):
    pass


class StaticHook(airlock.Policy):
    @staticmethod
    def on_enqueue(intent: airlock.Intent) -> None:
        pass


class ClassHook(airlock.Policy):
    @classmethod
    def on_enqueue(cls, intent: airlock.Intent) -> None:
        pass


@pytest.mark.parametrize("policy", [airlock.AllowAll, Refuses, Hooked, MetaAllowsAll,
                                    MetaRefuses, StaticHook, ClassHook])
def test_a_block_judges_its_policys_class_as_python_does(policy: type[airlock.Policy]) -> None:
    """Whether a policy hooks enqueues and whether it may refuse, read off its class: the same
    view flags on both implementations, for a class of a metaclass of its own and for hooks
    that are not plain functions."""

    def flags(which: str) -> object:
        with airlock.scope(), blocks_of(which) as make, make(policy()):
            return _view()[2:]  # type: ignore[index]

    assert flags("compiled") == flags("pure")


def test_the_common_block_is_the_kernels() -> None:
    assert (airlock.policy is speedups.policy) == airlock.compiled
    assert (vars(PolicyBlock)["__enter__"] is not _kernel.PURE_BLOCK_LIFECYCLE[0]) == (
        airlock.compiled)
    block = speedups.policy(airlock.AllowAll())
    assert type(block) is PolicyBlock and block._token is None


def _error(run: Callable[[], object]) -> tuple[type[BaseException], str] | None:
    try:
        run()
    except Exception as exc:  # compared by type and message
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("case", [
    "a class", "no allows", "not callable", "outside a scope", "open twice", "in a guard",
])
def test_every_error_is_pythons(case: str) -> None:
    class NotCallable:
        on_enqueue = allows = 3

    class NoAllows:
        def on_enqueue(self, intent: object) -> None:
            pass

    not_callable, no_allows = NotCallable(), NoAllows()  # (their reprs are in the errors)

    def run(which: str) -> object:
        with blocks_of(which) as make:
            if case == "a class":
                return _error(lambda: make(airlock.AllowAll))
            if case == "no allows":
                return _error(lambda: make(no_allows))
            if case == "not callable":
                return _error(lambda: make(not_callable))
            if case == "outside a scope":
                return _error(lambda: make(airlock.AllowAll()).__enter__())
            if case == "in a guard":
                token = current_target.set(_context.POLICY_GUARD)
                try:
                    return _error(lambda: make(airlock.AllowAll()).__enter__())
                finally:
                    current_target.reset(token)
            block = make(airlock.AllowAll())
            with airlock.scope(), block:
                return _error(lambda: block.__enter__())

    compiled = run("compiled")
    assert compiled is not None and compiled == run("pure")


def test_a_ticks_ambient_policies_join_the_block_as_in_python() -> None:
    """A tick's frame opened inside a block keeps that block's policies (ambient); a block in
    the frame adds to them (the kernel leaves this to the pure method)."""
    def run(which: str) -> list[object]:
        tick = airlock.tick_scope()
        ran: list[object] = []
        with blocks_of(which) as make, airlock.scope(), make(Refuses()), tick:
            airlock.enqueue(ran.append, "refused")
            with make(airlock.AllowAll()):
                views = _view()
                airlock.enqueue(ran.append, "refused")
                airlock.enqueue(ran.append, "kept")
        assert views is not None
        return [ran, len(views[1]), views[2:]]  # type: ignore[index]

    assert run("compiled") == run("pure") == [["kept"], 2, (False, True)]


def test_a_decorated_function_opens_a_fresh_block_per_call() -> None:
    def run(which: str) -> list[object]:
        ran: list[object] = []
        with blocks_of(which) as make:
            @make(Refuses())
            def recurse(depth: int) -> None:
                airlock.enqueue(ran.append, "refused" if depth == 1 else depth)
                if depth:
                    recurse(depth - 1)

            with airlock.scope():
                recurse(2)
            return ran

    assert run("compiled") == run("pure") == [2, 0]


def test_an_error_in_the_block_closes_it() -> None:
    with blocks_of("compiled") as make, airlock.scope() as scope:
        with pytest.raises(ValueError, match="inside"), make(airlock.DropAll()):
            raise ValueError("inside")
        assert current_target.get() is scope


def test_blocks_leave_no_blocks_behind() -> None:
    tick = airlock.tick_scope(keep_intents=False)

    def blocks(n: int) -> None:
        with blocks_of("compiled") as make:
            for i in range(n):
                with tick, make(Refuses()), make(airlock.AllowAll()):
                    airlock.enqueue(noop, i)

    assert blocks_grown(blocks, 200, 5_000) < 100


class RebindsOuterView(airlock.Policy):
    """A policy whose ``withdraws`` lookup (Python code, run while the block opens) gives the
    enclosing view a new ``policies`` tuple: the one the opening block was copying from."""

    def __getattr__(self, name: str) -> Any:
        if name == "withdraws":
            view = current_target.get()
            if type(view) is PolicyView:
                view.policies = (*view.policies, airlock.AllowAll())
        raise AttributeError(name)


def test_a_blocks_policy_that_rebinds_the_outer_view_leaves_the_new_view_whole() -> None:
    """Review: the compiled block read the outer view's scope and policies borrowed, and a
    policy's own lookup freed them before they were copied (a crash)."""

    def run(which: str) -> list[object]:
        outer, inner = Refuses(), RebindsOuterView()
        with airlock.scope() as scope, blocks_of(which) as make, make(outer), make(inner):
            view = _view()
        assert view is not None
        return [_named(view[:2], scope, inner, outer)]

    assert run("compiled") == run("pure") == [("known 0", ("known 1", "known 2"))]
