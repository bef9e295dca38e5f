"""A KeyboardInterrupt (a Ctrl-C) that lands inside a frame's opening, dispatch or end.

No Python code can be made safe against an exception raised at any bytecode, so the rule is
about what an interrupt may leave behind: the tick is never stuck (the frame claim comes back,
so later frames open and ``close()`` runs), and no effect is lost: one taken for dispatch and
not run is named undispatched on the interrupt, and at worst the last frame's effects run again
in the next, when the interrupt lands in the few lines before a frame's end records what it
took. The compiled kernel opens and ends the common frame in C, where no signal lands.
"""

from __future__ import annotations

from typing import Any

import pytest
from interrupting import code_of_closure, interrupt_at

import airlock
from airlock import _closing, _dispatch, _frame

pure_only = pytest.mark.skipif(
    airlock.compiled, reason="the compiled kernel opens and ends the common frame in C"
)


def run_interrupted(tick: airlock.TickScope, where: Any, marker: str, log: list[str],
                    *, enqueue: bool, outer: Any = None) -> None:
    """One frame of ``tick``, interrupted at ``marker``; the interrupt must arrive."""
    with interrupt_at(where, marker, outer) as fired, pytest.raises(KeyboardInterrupt), tick:
        if enqueue:
            airlock.enqueue(log.append, "in the frame")
    assert fired


@pure_only
@pytest.mark.parametrize(
    ("closure", "marker", "enqueue"),
    [
        ("open_frame", "mode = tick._inline", False),
        ("open_frame", "tick._token = _set_target(tick)", False),
        ("close_frame", "tick._plain_count = 0", False),
        ("close_frame", "if keep or not buffer.take_now(taken):", True),
    ],
    ids=["opening, claim taken", "opening, before the context", "empty frame's end",
         "frame's end, after the flush"],
)
def test_an_interrupted_inline_frame_leaves_the_tick_working(
    closure: str, marker: str, enqueue: bool,
) -> None:
    log: list[str] = []
    tick = airlock.tick_scope()
    with tick:  # the next frame opens inline
        pass
    run_interrupted(tick, code_of_closure(_frame.frame_methods, closure), marker, log,
                    enqueue=enqueue, outer=_frame.frame_methods)
    tick.post(log.append, "posted after")
    with tick:  # the claim came back: a frame opens (the old code: ScopeStateError)
        airlock.enqueue(log.append, "next frame")
    tick.close()
    assert tick.pending == 0
    assert "posted after" in log and "next frame" in log
    if enqueue:
        assert "in the frame" in log  # never lost (it may run twice: see the module rule)


def test_an_interrupt_late_in_a_general_frames_end_runs_nothing_twice() -> None:
    """A general frame's end records what the frame took first: an interrupt in the ledger's
    settling after that leaves nothing for the next frame to run again."""
    log: list[str] = []
    tick = airlock.tick_scope(max_per_frame=10)  # a budget: the general frame
    with interrupt_at(_frame.end_frame, "count_held(tick, stats)") as fired, \
            pytest.raises(KeyboardInterrupt), tick:
        airlock.enqueue(log.append, "A")
        airlock.enqueue(log.append, "B")
    assert fired and log == ["A", "B"]
    with tick:
        pass
    tick.close()
    assert log == ["A", "B"]


def calling(intent: airlock.Intent) -> Any:
    return intent.task(*intent.args, **intent.kwargs)


@pytest.mark.parametrize(
    "options",
    [{"max_per_frame": 2}, {"max_flush_ms": 1000.0}, {"executor": calling}],
    ids=["count budget", "time budget", "an executor"],
)
def test_an_interrupt_before_dispatch_names_what_it_never_ran(options: dict[str, Any]) -> None:
    """An interrupt between taking entries for dispatch (out of the carry, under a budget) and
    dispatching them: they are named undispatched on it, so the frame balances and nothing
    disappears (the old code lost them: in no count, on no list)."""
    log: list[int] = []
    tick = airlock.tick_scope(**options)
    with tick:
        for n in range(5):
            airlock.enqueue(log.append, n)
    ran = len(log)
    with interrupt_at(_dispatch.dispatch, "execute = ctx.executor") as fired, \
            pytest.raises(KeyboardInterrupt) as info, tick:
        airlock.enqueue(log.append, 5)
    assert fired
    stats = tick.stats
    assert stats.balance_error() is None
    never = [intent.args[0] for intent in info.value.undispatched_intents]  # type: ignore[attr-defined]
    assert never and stats.undispatched == len(never)
    tick.close()
    assert sorted(log + never) == list(range(6)) and len(log) >= ran


class Fates(airlock.Observer):
    def __init__(self) -> None:
        self.heard: list[str] = []

    def discarded(self, intent: airlock.Intent) -> None:
        self.heard.append("discarded")


@pytest.mark.parametrize(
    ("where", "marker"),
    [(_closing.end_closed, "tick._inline = GENERAL"),
     (_closing.discard_leftovers, "logger.warning(")],
    ids=["closed, before the discard", "at the discard's warning"],
)
def test_close_again_after_an_interrupted_close_discards_and_tells(
    where: Any, marker: str,
) -> None:
    """An interrupt in ``close()`` after the tick is closed: the held effect it had not
    discarded yet is discarded, counted and told by the next ``close()`` (which returned at
    once and left it waiting for good), and observers hear every discard before the warning."""
    fates = Fates()

    @airlock.debounce(60.0)
    def save() -> None: ...

    tick = airlock.tick_scope(observers=[fates])
    with tick:
        airlock.enqueue(save)
    with interrupt_at(where, marker) as fired, pytest.raises(KeyboardInterrupt):
        tick.close()
    assert fired and tick.is_closed
    tick.close()
    assert tick.pending == 0 and tick.stats.discarded == 1
    assert fates.heard == ["discarded"]


def test_a_refused_opening_shows_no_internal_error_in_its_traceback() -> None:
    tick = airlock.tick_scope()
    with tick, pytest.raises(airlock.ScopeStateError) as info, tick:
        pass
    assert info.value.__suppress_context__  # (the claim's IndexError is not chained)
