"""The ledger: every intent ends in exactly one known outcome, and every flush's stats balance.

A Hypothesis state machine drives random programs — nested scopes (plain, independent,
selective) and ticks, local policies, keys, batches, phases, budgets, posts, held tasks
(debounce, throttle) on a clock the program moves, ``release()``, the imperative lifecycle,
``close()`` — with injected faults: effects, executors, policies, observers and
``order_by`` that raise, and KeyboardInterrupt. After every step it checks that no intent has
more than one outcome and that the last flush's ``FlushStats.balance_error()`` is None; at the
end, once everything is settled, that every intent has exactly one.

Where outcomes come from: an effect records that it ran (dispatched) or raised (failed); a
faulty executor or policy records the intents it raised for (failed); an aborted flush's
exception lists the rest (``undispatched_intents``); a ``Ledger`` observer, on the scopes that
have one, records dropped, coalesced and discarded intents. Scopes without observers keep the
plain paths in play: what their flushes drop, coalesce or discard is only counted (their stats),
and at the end exactly that many intents have no recorded outcome.

A program's state and operations are a ``LedgerProgram`` (one method per operation, run in
the program's own context); ``LedgerMachine`` draws the operations and runs each on its
programs. ``tests/test_kernel_ledger.py`` runs the same programs on the compiled kernel and on
the pure core side by side and compares everything each saw (``World.log``).

``CI`` set in the environment selects the ``ci`` profile (2,000 programs); the default is
small, so the local test run stays fast.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable, Sized
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import airlock
from airlock import Intent, Scope

settings.register_profile(
    "airlock-ledger-ci", max_examples=2000, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "airlock-ledger-local", max_examples=20, stateful_step_count=30, deadline=None,
)
PROFILE = "airlock-ledger-ci" if os.environ.get("CI") else "airlock-ledger-local"

#: outcomes that end an intent's life
TERMINAL = ("dispatched", "failed", "undispatched", "dropped", "coalesced", "discarded")


# -- the world's effects and faulty parts ----------------------------------------------------


class World:
    """Where effects, executors, policies and observers write what happened to each intent.

    ``log`` holds everything one program saw, in order: its steps, each intent's outcome, each
    error it caught (type and message), each flush's stats and what ``release()`` and
    ``discard()`` returned.
    """

    def __init__(self) -> None:
        self.outcomes: dict[int, list[str]] = {}
        self.log: list[tuple[object, ...]] = []

    def record(self, ident: int, outcome: str) -> None:
        self.outcomes.setdefault(ident, []).append(outcome)
        self.log.append(("outcome", ident, outcome))

    def raised(self, error: BaseException) -> None:
        self.log.append(("raised", type(error), stable(str(error))))


WORLD = World()  # the running program's (``LedgerProgram.run``): effects are module-level


def run(ident: int) -> None:
    WORLD.record(ident, "dispatched")


@airlock.phase("a")
def run_a(ident: int) -> None:
    WORLD.record(ident, "dispatched")


@airlock.phase("b")
def run_b(ident: int) -> None:
    WORLD.record(ident, "dispatched")


def fail(ident: int) -> None:
    WORLD.record(ident, "failed")
    raise RuntimeError(f"effect {ident} failed")


def interrupt(ident: int) -> None:
    WORLD.record(ident, "failed")
    raise KeyboardInterrupt


@airlock.batch(phase="b")
def send(idents: list[int]) -> None:
    for ident in idents:
        WORLD.record(ident, "dispatched")


HELD = ("debounce", "throttle", "debounce_fail")

TASKS: dict[str, Callable[..., Any] | airlock.Batch | airlock.Cadence] = {
    "run": run, "run_a": run_a, "run_b": run_b, "fail": fail, "interrupt": interrupt,
    "batch": send, "debounce": airlock.debounce(0.5)(run),
    "throttle": airlock.throttle(0.5)(run_b), "debounce_fail": airlock.debounce(0.3)(fail),
}


def idents_of(intent: Intent) -> list[int]:
    """The idents an intent stands for: one, or a merged batch call's payloads."""
    first = intent.args[0]
    return list(first) if isinstance(first, list) else [first]


def faulty_executor(intent: Intent) -> None:
    """Raises for idents that are 1 modulo 4 (before running anything)."""
    idents = idents_of(intent)
    if any(i % 4 == 1 for i in idents):
        for ident in idents:
            WORLD.record(ident, "failed")
        raise OSError("executor broke")
    intent.task(*intent.args, **intent.kwargs)


class Gate(airlock.Policy):
    """Drops idents that are 0 modulo 3; with ``faulty``, raises for those 2 modulo 7."""

    def __init__(self, faulty: bool) -> None:
        self.faulty = faulty

    def allows(self, intent: Intent) -> bool:
        (ident,) = idents_of(intent)
        if self.faulty and ident % 7 == 2:
            WORLD.record(ident, "failed")
            raise LookupError(f"policy broke on {ident}")
        return ident % 3 != 0

    def __repr__(self) -> str:
        return f"Gate(faulty={self.faulty})"


class Refuse(airlock.Policy):
    """Refuses idents that are 4 modulo 5 at enqueue: the enqueue raises, nothing is buffered."""

    def on_enqueue(self, intent: Intent) -> None:
        if idents_of(intent)[0] % 5 == 4:
            raise airlock.PolicyViolation("refused at enqueue")


def make_policy(kind: str) -> airlock.Policy:
    return {
        "allow": airlock.AllowAll,
        "drop": airlock.DropAll,
        "gate": lambda: Gate(False),
        "faulty gate": lambda: Gate(True),
        "refuse": Refuse,
    }[kind]()


class Ledger(airlock.Observer):
    """Records the outcomes only an observer sees: dropped, coalesced, discarded."""

    def dropped(self, intent: Intent) -> None:
        for ident in idents_of(intent):
            WORLD.record(ident, "dropped")

    def coalesced(self, intent: Intent) -> None:
        for ident in idents_of(intent):
            WORLD.record(ident, "coalesced")

    def discarded(self, intent: Intent) -> None:
        for ident in idents_of(intent):
            WORLD.record(ident, "discarded")


class Faulty(airlock.Observer):
    """Raises from every hook for idents that are 2 modulo 3 (and from ``flushed``)."""

    def __init__(self, error: type[BaseException]) -> None:
        self.error = error

    def _maybe(self, intent: Intent) -> None:
        if any(i % 3 == 2 for i in idents_of(intent)):
            raise self.error("observer broke")

    enqueued = coalesced = dropped = dispatched = discarded = _maybe

    def failed(self, intent: Intent, error: BaseException) -> None:
        self._maybe(intent)

    def flushed(self, scope: Scope) -> None:
        raise self.error("observer broke at flushed")


def faulty_order(intent: Intent) -> Any:
    """An ``order_by`` that raises for ident 5 modulo 11 and mixes key types for 7 mod 11."""
    ident = idents_of(intent)[0]
    if ident % 11 == 5:
        raise ValueError("order_by broke")
    return "late" if ident % 11 == 7 else ident % 3


ORDERS: dict[str, Callable[[Intent], Any] | None] = {
    "none": None, "phases": airlock.by_phase("a", "b"), "faulty": faulty_order,
}


class Independent(Scope):
    def before_descendant_flushes(self, exiting: Scope, intents: list[Intent]) -> list[Intent]:
        return intents


class Selective(Scope):
    def before_descendant_flushes(self, exiting: Scope, intents: list[Intent]) -> list[Intent]:
        return [i for i in intents if idents_of(i)[0] % 2]


SCOPE_CLASSES: dict[str, type[Scope]] = {"plain": Scope, "independent": Independent,
                                         "selective": Selective}


@dataclass
class Config:
    """How one scope or tick is built."""

    policy: str
    errors: str
    order: str
    executor: str
    observers: str  # "none", "ledger", "ledger+faulty", "ledger+interrupt"

    @property
    def observed(self) -> bool:
        return self.observers != "none"

    def kwargs(self) -> dict[str, Any]:
        observers: list[airlock.Observer] = []
        if self.observed:
            observers.append(Ledger())
        if self.observers == "ledger+faulty":
            observers.append(Faulty(RuntimeError))
        elif self.observers == "ledger+interrupt":
            observers.append(Faulty(KeyboardInterrupt))
        return {
            "policy": make_policy(self.policy),
            "errors": self.errors,
            "order_by": ORDERS[self.order],
            "executor": faulty_executor if self.executor == "faulty" else None,
            "observers": observers,
        }


configs = st.builds(
    Config,
    policy=st.sampled_from(
        ["allow", "allow", "allow", "allow", "drop", "gate", "faulty gate", "refuse"]
    ),
    errors=st.sampled_from(["raise", "continue"]),
    order=st.sampled_from(["none", "none", "phases", "faulty"]),
    executor=st.sampled_from(["sync", "sync", "faulty"]),
    observers=st.sampled_from(["none", "none", "ledger", "ledger+faulty", "ledger+interrupt"]),
)


@dataclass(eq=False)
class Open:
    """A scope or a tick's frame open on the machine's stack."""

    real: Scope
    config: Config


@dataclass(eq=False)
class LocalPolicy:
    manager: Any


# -- a program: the model's state and operations --------------------------------------------


def stable(message: str) -> str:
    """``message`` without what differs between two runs of one program (addresses, thread
    idents)."""
    return re.sub(r"thread \d+", "thread ?", re.sub(r"0x[0-9a-fA-F]+", "0x?", message))


def stats_fields(stats: airlock.FlushStats) -> tuple[object, ...]:
    """Every field of ``stats`` but the flush's duration; failures as (idents, error type,
    message)."""
    return tuple(
        (name, [(idents_of(intent), type(error), stable(str(error)))
                for intent, error in stats.failures] if name == "failures"
         else getattr(stats, name))
        for name in airlock.FlushStats.__slots__ if name != "flush_ns"
    )


class LedgerProgram:
    """One run of the model: its state and its operations (one method each), on whichever
    implementation ``implementation`` switches to (default: the one this process runs).

    ``run`` performs each operation in the program's own ``World`` and its own copy of the
    context (its open scopes are the current target there only), so two programs can run the
    same operations step by step: ``LedgerMachine`` draws the operations, and
    ``tests/test_kernel_ledger.py`` runs them on the compiled kernel and on the pure core and
    compares the worlds' logs.
    """

    def __init__(
        self, implementation: Callable[[], AbstractContextManager[object]] = nullcontext
    ) -> None:
        self.implementation = implementation
        self.context = contextvars.copy_context()
        self.world = World()
        self.clock = 0.0  # the ticks' clock, moved by ``advance_clock``
        self.ids = itertools.count()
        self.enqueued: set[int] = set()  # enqueue()/post() returned normally
        self.batch_payloads: set[int] = set()  # the enqueued intents of the batch task
        self.silent = 0  # outcomes counted by unobserved flushes, not recorded per intent
        self.stack: list[Open | LocalPolicy] = []
        self.exited: list[tuple[Scope, Config]] = []  # exit()ed, not yet flushed/discarded
        self.ticks: list[tuple[airlock.TickScope, Config]] = []
        self.last_error: str | None = None

    def run(self, operation: str, *args: Any) -> None:
        """Perform ``operation`` (a method's name) with ``args``, logged as one step."""
        global WORLD
        WORLD = self.world
        self.world.log.append(("step", operation, args))
        with self.implementation():
            self.context.run(getattr(self, operation), *args)

    # -- helpers ---------------------------------------------------------------------------

    def opened(self) -> list[Open]:
        return [e for e in self.stack if isinstance(e, Open)]

    def open_ticks(self) -> list[airlock.TickScope]:
        """The ticks with a frame open on the stack."""
        return [e.real for e in self.opened() if isinstance(e.real, airlock.TickScope)]

    def busy(self, tick: airlock.TickScope) -> bool:
        return tick.is_active or any(e.real is tick for e in self.opened())

    def settle(self, real: Scope, config: Config, action: Callable[[], Any]) -> None:
        """Run a flush/discard/frame end; record what an abort left undispatched; check stats."""
        try:
            action()
        except BaseException as exc:
            self.world.raised(exc)
            for intent in getattr(exc, "undispatched_intents", None) or ():
                for ident in idents_of(intent):
                    self.world.record(ident, "undispatched")
        self.check_stats(real, config)

    def check_stats(self, real: Scope, config: Config) -> None:
        stats = real.stats
        self.world.log.append(("stats", stats_fields(stats)))
        self.last_error = stats.balance_error()
        assert self.last_error is None, f"{real!r}: {self.last_error}"
        if not config.observed:
            self.silent += stats.dropped + stats.coalesced + stats.discarded

    def new_ident(self) -> int:
        return next(self.ids)

    # -- operations ------------------------------------------------------------------------

    def open_scope(self, kind: str, config: Config, imperative: bool) -> None:
        real = SCOPE_CLASSES[kind](**config.kwargs())
        if imperative:
            real.enter()
        else:
            real.__enter__()
        self.stack.append(Open(real, config))

    def new_tick(self, config: Config, budget: int | None) -> None:
        tick = airlock.tick_scope(
            **config.kwargs(), max_per_frame=budget, clock=lambda: self.clock
        )
        self.ticks.append((tick, config))

    def open_frame(self, index: int) -> None:
        tick, config = self.ticks[index]
        if self.busy(tick):
            return
        if tick.is_closed:
            with pytest.raises(airlock.ScopeStateError, match="closed") as refused:
                tick.__enter__()
            self.world.raised(refused.value)
            return
        tick.__enter__()
        self.stack.append(Open(tick, config))

    def open_local_policy(self, kind: str) -> None:
        manager = airlock.policy(make_policy(kind))
        manager.__enter__()
        self.stack.append(LocalPolicy(manager))

    def enqueue(self, task: str, key: str | None, named: bool) -> None:
        if task == "interrupt" and not named:
            task = "run"  # keep interrupts rarer than the other faults
        ident = self.new_ident()
        options: dict[str, Any] = {}
        if key is not None:
            options["_key"] = key
        if named:
            options["_name"] = f"n{ident % 4}"
        try:
            airlock.enqueue(TASKS[task], ident, **options)  # type: ignore[arg-type]
        except (airlock.NoScopeError, airlock.PolicyViolation) as refused:
            self.world.raised(refused)
            assert not self.opened() or ident % 5 == 4
            return
        except airlock.UsageError as refused:  # a held task where no tick holds it
            self.world.raised(refused)
            assert "held across frames" in str(refused) and task in HELD
            return
        self.enqueued.add(ident)
        if task == "batch":
            self.batch_payloads.add(ident)

    def post(self, index: int, task: str) -> None:
        tick, _ = self.ticks[index]
        ident = self.new_ident()
        try:
            tick.post(TASKS[task], ident)  # type: ignore[arg-type]
        except (airlock.ScopeStateError, airlock.PolicyViolation) as refused:
            self.world.raised(refused)
            return  # closed, or refused at the door
        self.enqueued.add(ident)
        if task == "batch":
            self.batch_payloads.add(ident)

    def advance_clock(self, seconds: float) -> None:
        self.clock += seconds

    def release(self, index: int, which: str) -> None:
        tick, _ = self.ticks[index]
        tasks = () if which == "all" else (TASKS[which],)
        self.world.log.append(("released", tick.release(*tasks)))

    def rival_opens_the_tick(self, index: int, rival: str) -> None:
        """Another thread or greenlet opens a tick: refused while one of its frames is open
        here (it runs nothing and its context stays clean), else it runs a frame there."""
        tick, config = self.ticks[index]
        ident = self.new_ident()
        busy = self.busy(tick)
        seen: list[object] = []
        accepted: list[bool] = []

        def frame() -> None:
            try:
                with tick:
                    try:
                        airlock.enqueue(run, ident)
                    except airlock.PolicyViolation:  # refused at the door: never enqueued
                        accepted.append(False)
                    else:
                        accepted.append(True)
            except airlock.ScopeStateError as exc:
                seen.append(exc)
            except BaseException as exc:  # an effect's fault: settled below, as a frame end
                seen.append(exc)
                for intent in getattr(exc, "undispatched_intents", None) or ():
                    for undone in idents_of(intent):
                        self.world.record(undone, "undispatched")
            seen.append(airlock.get_current_scope())

        if rival == "greenlet":
            greenlet = pytest.importorskip("greenlet")
            greenlet.greenlet(frame).switch()
        else:
            thread = threading.Thread(target=frame)
            thread.start()
            thread.join()
        assert seen[-1] is None  # the rival's context never points at the tick afterwards
        for error in seen[:-1]:
            self.world.raised(error)  # type: ignore[arg-type]
        self.world.log.append(("accepted", accepted))
        refused = isinstance(seen[0], airlock.ScopeStateError)
        if busy or tick.is_closed:
            assert refused, f"{rival} opened a frame of a busy or closed tick: {seen}"
            assert ident not in self.world.outcomes  # it ran nothing
            return
        if not refused:
            if accepted == [True]:
                self.enqueued.add(ident)
            self.check_stats(tick, config)

    def fork(self) -> None:
        """A forked child starts with no pending effect of the parent: its idle ticks wait for
        nothing and their frames run nothing of the parent's."""
        read, write = os.pipe()
        with warnings.catch_warnings():  # 3.12+: forking with threads alive may deadlock
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: report, never return into Hypothesis
            try:
                before = len(self.world.outcomes)
                waiting = sum(tick.pending for tick, _ in self.ticks)
                for tick, _ in self.ticks:
                    if not (self.busy(tick) or tick.is_closed):
                        try:
                            with tick:
                                pass
                        except BaseException:  # a faulty observer: not an effect
                            pass
                report = f"{waiting} {len(self.world.outcomes) - before}"
            except BaseException as exc:
                report = f"error {exc!r}"
            os.write(write, report.encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as answer:
            report = answer.read()
        os.waitpid(pid, 0)
        assert report == "0 0", f"the child saw the parent's effects: {report}"

    def discard_open_frame(self, index: int) -> None:
        """``tick.discard()`` inside a frame: counted (or observed) with that frame's end."""
        dropped = self.open_ticks()[index].discard()
        self.world.log.append(("discard", [idents_of(intent) for intent in dropped]))

    def close_top(self, how: str) -> None:
        entry = self.stack.pop()
        if isinstance(entry, LocalPolicy):
            entry.manager.__exit__(None, None, None)
            return
        real, config = entry.real, entry.config
        if isinstance(real, airlock.TickScope) or how != "exit":
            error: BaseException | None = {
                "error": ValueError("block failed"), "interrupt": KeyboardInterrupt(),
            }.get(how)
            self.settle(real, config, lambda: real.__exit__(
                None if error is None else type(error), error, None
            ))
            return
        real.exit()
        self.exited.append((real, config))

    def settle_exited(self, index: int, discard: bool) -> None:
        real, config = self.exited.pop(index)
        self.settle(real, config, real.discard if discard else real.flush)

    def close_tick(self, index: int) -> None:
        tick, config = self.ticks[index]
        if tick.is_closed or self.busy(tick):
            return
        self.settle(tick, config, tick.close)

    def finish(self) -> None:
        """Close and settle everything; then every intent has exactly one outcome, except
        those counted silently by unobserved flushes."""
        while self.stack:
            entry = self.stack.pop()
            if isinstance(entry, LocalPolicy):
                entry.manager.__exit__(None, None, None)
            else:
                self.settle(entry.real, entry.config,
                            functools.partial(entry.real.__exit__, None, None, None))
        for real, config in self.exited:
            self.settle(real, config, real.discard)
        for tick, config in self.ticks:
            if not tick.is_closed:
                self.settle(tick, config, tick.close)
            assert tick.pending == 0
        assert airlock.get_current_scope() is None
        self.no_intent_has_two_outcomes()
        unaccounted = self.enqueued - set(self.world.outcomes)
        assert len(unaccounted) == self.silent, (
            f"{len(unaccounted)} intent(s) without an outcome, {self.silent} counted "
            f"silently by unobserved flushes: {sorted(unaccounted)[:20]}"
        )

    # -- checks ----------------------------------------------------------------------------

    def no_intent_has_two_outcomes(self) -> None:
        for ident, outcomes in self.world.outcomes.items():
            assert ident in self.enqueued, f"intent {ident} was never enqueued: {outcomes}"
            assert len(outcomes) <= 1, f"intent {ident} has outcomes {outcomes}"
            assert outcomes[0] in TERMINAL

    def when_idle_every_intent_is_accounted_for(self) -> None:
        if self.stack or self.exited:
            return
        waiting = sum(tick.pending for tick, _ in self.ticks)
        unaccounted = self.enqueued - set(self.world.outcomes)
        # a budgeted frame carries a batch's merged payloads as one call: ``pending`` counts
        # it once (the frame counted the others ``batched``); they run with it later
        assert waiting <= len(unaccounted) - self.silent
        assert len(unaccounted) - self.silent - waiting <= len(unaccounted & self.batch_payloads)


# -- the machine: random programs ------------------------------------------------------------


def index_into(data: st.DataObject, items: Sized) -> int:
    return data.draw(st.integers(0, len(items) - 1))


class LedgerMachine(RuleBasedStateMachine):
    """Draws a random program and runs each step on every program of ``programs`` (one here;
    a subclass may run several, which take the same steps). The rules' preconditions and
    draws read the first program."""

    def __init__(self) -> None:
        super().__init__()
        self.programs = self.make_programs()
        self.program = self.programs[0]

    def make_programs(self) -> list[LedgerProgram]:
        return [LedgerProgram()]

    def each(self, operation: str, *args: Any) -> None:
        for program in self.programs:
            program.run(operation, *args)

    @initialize()
    def quiet(self) -> None:
        logging.disable(logging.CRITICAL)  # faults are logged by design; keep the output short

    # -- rules -----------------------------------------------------------------------------

    @rule(kind=st.sampled_from(sorted(SCOPE_CLASSES)), config=configs,
          imperative=st.booleans())
    def open_scope(self, kind: str, config: Config, imperative: bool) -> None:
        self.each("open_scope", kind, config, imperative)

    @rule(config=configs, budget=st.sampled_from([None, None, 1, 2]))
    def new_tick(self, config: Config, budget: int | None) -> None:
        self.each("new_tick", config, budget)

    @precondition(lambda self: self.program.ticks)
    @rule(data=st.data())
    def open_frame(self, data: st.DataObject) -> None:
        self.each("open_frame", index_into(data, self.program.ticks))

    @precondition(lambda self: self.program.opened())
    @rule(kind=st.sampled_from(["allow", "drop", "gate", "faulty gate", "refuse"]))
    def open_local_policy(self, kind: str) -> None:
        self.each("open_local_policy", kind)

    @rule(
        task=st.sampled_from(["run", "run", "run_a", "run_b", "batch", "batch", "fail",
                              "interrupt", "debounce", "throttle", "debounce_fail"]),
        key=st.sampled_from([None, None, None, "k1", "k2"]),
        named=st.booleans(),
    )
    def enqueue(self, task: str, key: str | None, named: bool) -> None:
        self.each("enqueue", task, key, named)

    @precondition(lambda self: self.program.ticks)
    @rule(data=st.data(), task=st.sampled_from(["run", "run_b", "fail", "debounce"]))
    def post(self, data: st.DataObject, task: str) -> None:
        self.each("post", index_into(data, self.program.ticks), task)

    @rule(seconds=st.sampled_from([0.1, 0.2, 0.4, 0.7]))
    def advance_clock(self, seconds: float) -> None:
        self.each("advance_clock", seconds)

    @precondition(lambda self: self.program.ticks)
    @rule(data=st.data(), which=st.sampled_from(["all", "debounce", "throttle"]))
    def release(self, data: st.DataObject, which: str) -> None:
        self.each("release", index_into(data, self.program.ticks), which)

    @precondition(lambda self: self.program.ticks)
    @rule(data=st.data(), rival=st.sampled_from(["thread", "greenlet"]))
    def rival_opens_the_tick(self, data: st.DataObject, rival: str) -> None:
        self.each("rival_opens_the_tick", index_into(data, self.program.ticks), rival)

    @precondition(lambda self: self.program.ticks and hasattr(os, "fork"))
    @rule()
    def fork(self) -> None:
        self.each("fork")

    @precondition(lambda self: self.program.open_ticks())
    @rule(data=st.data())
    def discard_open_frame(self, data: st.DataObject) -> None:
        self.each("discard_open_frame", index_into(data, self.program.open_ticks()))

    @precondition(lambda self: self.program.stack)
    @rule(how=st.sampled_from(["flush", "flush", "flush", "error", "interrupt", "exit"]))
    def close_top(self, how: str) -> None:
        self.each("close_top", how)

    @precondition(lambda self: self.program.exited)
    @rule(data=st.data(), discard=st.booleans())
    def settle_exited(self, data: st.DataObject, discard: bool) -> None:
        self.each("settle_exited", index_into(data, self.program.exited), discard)

    @precondition(lambda self: self.program.ticks)
    @rule(data=st.data())
    def close_tick(self, data: st.DataObject) -> None:
        self.each("close_tick", index_into(data, self.program.ticks))

    # -- checks ----------------------------------------------------------------------------

    @invariant()
    def no_intent_has_two_outcomes(self) -> None:
        for program in self.programs:
            program.no_intent_has_two_outcomes()

    @invariant()
    def when_idle_every_intent_is_accounted_for(self) -> None:
        for program in self.programs:
            program.when_idle_every_intent_is_accounted_for()

    def teardown(self) -> None:
        try:
            self.each("finish")
        finally:
            logging.disable(logging.NOTSET)


LedgerMachine.TestCase.settings = settings.get_profile(PROFILE)
test_ledger_programs = LedgerMachine.TestCase


# -- direct checks of the identity -----------------------------------------------------------


def test_balance_error_names_the_mismatch() -> None:
    stats = airlock.FlushStats()
    assert stats.balance_error() is None
    stats.enqueued, stats.carried_in, stats.dispatched, stats.batched = 5, 1, 4, 2
    assert stats.balance_error() is None
    stats.dispatched = 3
    message = stats.balance_error()
    assert message is not None
    assert "6 entered (enqueued=5, carried_in=1) but 5 left" in message
    assert "1 intent(s) unaccounted for" in message
    stats.failed = 2
    assert "1 intent(s) counted twice" in (stats.balance_error() or "")


def test_the_handed_over_flush_counts_as_captured() -> None:
    log: list[int] = []
    with airlock.scope() as outer:
        airlock.enqueue(log.append, 1)
        with airlock.scope() as inner:
            airlock.enqueue(log.append, 2)
    assert (inner.stats.enqueued, inner.stats.captured, inner.stats.dispatched) == (1, 1, 0)
    assert (outer.stats.enqueued, outer.stats.dispatched) == (2, 2)
    assert inner.stats.balance_error() is None and outer.stats.balance_error() is None
    assert log == [1, 2]


def test_a_plain_hand_over_keeps_one_count_until_the_stats_are_read() -> None:
    """A scope used once that hands its plain records to its ancestor builds no FlushStats
    (``_ledger``'s rule): the count is expanded, all ``captured``, when read."""
    ran: list[int] = []
    with airlock.scope() as outer:
        with airlock.scope() as inner:
            airlock.enqueue(ran.append, 1)
            airlock.enqueue(ran.append, 2)
        assert inner._stats is None  # (nothing built yet: one count)
        stats = inner.stats
        assert (stats.enqueued, stats.captured, stats.dispatched, stats.flush_ns) == (2, 2, 0, 0)
        assert stats.balance_error() is None and ran == []
    assert ran == [1, 2] and outer.stats.dispatched == 2
    assert inner.stats.captured == 2  # read again: the same
