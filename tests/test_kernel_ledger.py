"""The ledger model on both implementations: the same random programs, the same outcomes.

``tests/test_ledger.py``'s operations (nested scopes and ticks, local policies, keys, batches,
phases, budgets, posts, held tasks, ``release()``, rival threads and greenlets, forks, and the
injected faults: effects, executors, policies, observers and ``order_by`` that raise,
KeyboardInterrupt) run step by step on two programs in one process: one on the compiled
kernel, one on the pure core (``benchmarks.cores.core`` switches ``airlock.enqueue`` and the
frames of the ticks each program makes; each program has its own context). After every step
the two logs (``World.log``: every effect's outcome in order, every error caught — type and
message —, every ``FlushStats`` field of every flush and frame, what ``release()`` and
``discard()`` returned) and the programs' states must be equal.

Where the process itself runs the pure core (``AIRLOCK_NO_EXTENSIONS=1``: the core suite's
second run, ``tests/test_kernel.py``) the same test runs with the kernel switched in, against
the pure core the switch picked at start-up; ``test_the_switch_runs_what_the_environment_picks``
compares one fixed program with a fresh interpreter under ``AIRLOCK_NO_EXTENSIONS=1``.
Skipped only where the kernel is not built. ``CI`` set: more programs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from test_ledger import Config, LedgerMachine, LedgerProgram, LocalPolicy

import airlock
from airlock import _enqueue
from benchmarks.cores import compiled_frames, core, kernel

if kernel() is None:
    pytest.skip("the compiled kernel (airlock._speedups) is not built here",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
Implementation = Callable[[], AbstractContextManager[object]]

settings.register_profile(
    "airlock-kernel-ledger-ci", max_examples=500, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    # about 1.5 s on a busy 2-core machine (CI runs 500); far fewer under valgrind
    # (benchmarks/memcheck.sh)
    "airlock-kernel-ledger-local", max_examples=8 if os.environ.get("AIRLOCK_MEMCHECK") else 10,
    stateful_step_count=30, deadline=None,
)
PROFILE = "airlock-kernel-ledger-ci" if os.environ.get("CI") else "airlock-kernel-ledger-local"


def compiled() -> AbstractContextManager[object]:
    return core(compiled=True)


def pure() -> AbstractContextManager[object]:
    return core(compiled=False)


def state(program: LedgerProgram) -> tuple[object, ...]:
    """What a program holds between steps: its stack, exited scopes, ticks and counts."""
    return (
        ["policy" if isinstance(e, LocalPolicy) else repr(e.real) for e in program.stack],
        [repr(real) for real, _ in program.exited],
        [(repr(tick), tick.held, tick.is_closed) for tick, _ in program.ticks],
        sorted(program.enqueued), program.silent,
    )


def assert_same(ours: LedgerProgram, theirs: LedgerProgram) -> None:
    """Both logs and states are equal; else name the first entry where they part."""
    logs = {"compiled": ours.world.log, "pure": theirs.world.log}
    a, b = logs.values()
    if a != b:
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
        start = max(at - 4, 0)
        raise AssertionError(f"the implementations parted at log entry {at}:\n" + "\n".join(
            f"  {name:8} {i}: {entry!r}"
            for name, log in logs.items() for i, entry in enumerate(log[start:at + 3], start)
        ))
    assert state(ours) == state(theirs)


#: ticks whose frames the kernel runs itself when they hold only plain records: allow-all,
#: sync executor, no per-intent observer, no budget (the ledger's own configurations rarely
#: are: about one tick in sixty)
common_ticks = st.builds(
    Config, policy=st.just("allow"), errors=st.sampled_from(["raise", "raise", "continue"]),
    order=st.sampled_from(["none", "none", "phases"]), executor=st.just("sync"),
    observers=st.just("none"),
)


class KernelLedgerMachine(LedgerMachine):
    """The ledger machine over two programs: the compiled kernel's, then the pure core's."""

    def make_programs(self) -> list[LedgerProgram]:
        return [LedgerProgram(compiled), LedgerProgram(pure)]

    @rule(config=common_ticks)
    def new_common_tick(self, config: Config) -> None:
        self.each("new_tick", config, None)

    @invariant()
    def each_program_runs_its_implementation(self) -> None:
        ours, theirs = self.programs
        assert all(compiled_frames(tick) for tick, _ in ours.ticks)
        assert not any(compiled_frames(tick) for tick, _ in theirs.ticks)

    @invariant()
    def both_implementations_saw_the_same(self) -> None:
        assert_same(*self.programs)

    def teardown(self) -> None:
        super().teardown()
        assert_same(*self.programs)


KernelLedgerMachine.TestCase.settings = settings.get_profile(PROFILE)
test_the_kernel_and_the_pure_core_run_the_same_programs = KernelLedgerMachine.TestCase


# -- one fixed program: the comparison sees every kind of entry ------------------------------

WATCHED = Config(policy="allow", errors="raise", order="phases", executor="sync",
                 observers="ledger")
PLAIN = Config(policy="allow", errors="continue", order="none", executor="sync",
               observers="none")
GATED = Config(policy="faulty gate", errors="continue", order="none", executor="faulty",
               observers="ledger+faulty")
#: (operation, arguments): a frame with keys, batches and a failing effect; a plain frame; a
#: gated scope with a faulty executor and observer; held effects released; rivals; a discard
STORY: list[tuple[str, tuple[object, ...]]] = [
    ("new_tick", (WATCHED, None)), ("new_tick", (PLAIN, 2)),
    ("open_frame", (0,)),
    *[("enqueue", (task, key, False)) for task, key in [
        ("run_b", None), ("run_a", "k1"), ("run", "k1"), ("batch", None), ("batch", None),
        ("fail", None), ("run", None)]],
    ("close_top", ("flush",)),
    ("open_frame", (1,)),
    *[("enqueue", ("run", None, False))] * 5,
    ("enqueue", ("debounce", "k2", True)),
    ("rival_opens_the_tick", (1, "thread")), ("close_top", ("flush",)),
    ("open_scope", ("plain", GATED, False)),
    *[("enqueue", ("run", None, False))] * 8,
    ("close_top", ("flush",)),
    ("advance_clock", (0.7,)), ("release", (1, "all")),
    ("rival_opens_the_tick", (1, "greenlet")), ("post", (0, "fail")),
    ("open_frame", (0,)), ("enqueue", ("run", None, False)), ("discard_open_frame", (0,)),
    ("close_top", ("error",)), ("open_frame", (1,)), ("close_top", ("flush",)),
    ("close_tick", (0,)), ("open_frame", (0,)), ("finish", ()),
]


def story_log(implementation: Implementation = nullcontext) -> list[tuple[object, ...]]:
    program = LedgerProgram(implementation)
    for operation, args in STORY:
        program.run(operation, *args)
    return program.world.log


@contextmanager
def ignoring_keys() -> Iterator[None]:
    """A faulty "kernel": the pure core with every ``_key`` dropped (nothing coalesces)."""

    def enqueue(*args: Any, **kwargs: Any) -> None:
        kwargs.pop("_key", None)
        _enqueue.enqueue(*args, **kwargs)

    with core(compiled=False):
        before, airlock.enqueue = airlock.enqueue, enqueue
        try:
            yield
        finally:
            airlock.enqueue = before


def test_the_comparison_sees_every_kind_of_entry() -> None:
    ours, theirs = story_log(compiled), story_log(pure)
    assert ours == theirs
    kinds = {entry[0] for entry in ours}
    assert kinds == {"step", "outcome", "raised", "stats", "released", "accepted", "discard"}
    outcomes = {entry[2] for entry in ours if entry[0] == "outcome"}
    assert outcomes == {"dispatched", "failed", "coalesced", "undispatched", "dropped",
                        "discarded"}
    errors = {entry[1] for entry in ours if entry[0] == "raised"}
    assert {RuntimeError, airlock.ScopeStateError} <= errors
    stats: list[dict[str, Any]] = [
        dict(entry[1]) for entry in ours if entry[0] == "stats"  # type: ignore[call-overload]
    ]
    assert any(s["coalesced"] and s["batched"] for s in stats)
    assert any(s["failures"] for s in stats) and any(s["carried"] for s in stats)


def test_a_difference_is_reported_where_it_starts() -> None:
    """Positive control: an implementation that loses ``_key`` parts from the right one at
    the first flush that should have coalesced."""
    right, wrong = LedgerProgram(compiled), LedgerProgram(ignoring_keys)
    for operation, args in STORY[:11]:
        for program in (right, wrong):
            program.run(operation, *args)
    with pytest.raises(AssertionError, match=r"parted at log entry \d+") as parted:
        assert_same(right, wrong)
    assert "'coalesced'" in str(parted.value)


def test_the_switch_runs_what_the_environment_picks() -> None:
    """The in-process switch against a fresh interpreter under ``AIRLOCK_NO_EXTENSIONS=1``
    (and one without it): the fixed program leaves the same log in all of them."""
    env = {**os.environ, "AIRLOCK_NO_EXTENSIONS": "1", "PYTHONPATH": os.pathsep.join(
        [str(ROOT), str(ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    script = ("import airlock, test_kernel_ledger as t; "
              "print(airlock.compiled, repr(t.story_log()))")
    logs = {}
    for switch in ("1", ""):
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                              text=True, timeout=120, check=False,
                              env={**env, "AIRLOCK_NO_EXTENSIONS": switch})
        assert done.returncode == 0, done.stderr[-3000:]
        logs[switch] = done.stdout.strip().split(" ", 1)
    assert logs["1"] == ["False", repr(story_log(pure))]
    assert logs[""] == ["True", repr(story_log(compiled))]
