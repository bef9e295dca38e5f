"""``benchmarks.textual_messages`` runs once, untimed: every app handles every message.

Only the work and the form of the report are checked; the verdicts belong to a timed run
(``python -m benchmarks.textual_messages`` or ``python -m benchmarks.report``), never to a test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.message_pump import MessagePump

from benchmarks import textual_messages
from benchmarks.compare import Results
from benchmarks.sections import RunOptions
from benchmarks.textual_messages import AIRLOCK, APP, CONTENDERS, NAMES, WORKLOADS
from benchmarks.timing import CLOCKS


async def _one_batch_each(name: str, messages: int) -> dict[str, Any]:
    app = textual_messages._apps()[name]()
    clock = CLOCKS["cpu"]
    async with app.run_test() as pilot:
        await pilot.pause()
        await textual_messages._batch(app, app.probe.count, messages, clock)
        handled = app.probe.seen
        await textual_messages._batch(app, app.effect_step, messages, clock)
        effects = app.probe.seen
        # the last effect ended the batch: the tick that ran them has just flushed
        ticks = app.airlock_tick.stats.dispatched if name == AIRLOCK else None
        await pilot.pause()
    return {"handled": handled, "effects": effects, "tick dispatched": ticks}


def test_every_app_handles_every_message_and_the_airlock_app_runs_effects_in_its_tick() -> None:
    for name in CONTENDERS:
        done = asyncio.run(_one_batch_each(name, 30))
        assert done["handled"] == done["effects"] == 30, name
    done = asyncio.run(_one_batch_each(AIRLOCK, 30))
    assert done["tick dispatched"] == 30  # the effects ran in one tick, not in the handlers


def test_the_plain_app_runs_with_textual_as_shipped_and_the_hooks_come_back() -> None:
    textual_messages._apps()[AIRLOCK]()  # installs the hooks
    hooked = MessagePump._process_messages
    with textual_messages._textual_as_shipped():
        assert not hasattr(MessagePump._process_messages, "__airlock_original__")
    assert MessagePump._process_messages is hooked


@pytest.mark.ci_only("a short timed run of the Textual message benchmark, every app and target")
def test_a_short_run_reports_every_app_and_judges_every_target() -> None:
    result = textual_messages.SECTION.run(RunOptions(quick=True, rounds=2), Results())
    for name in CONTENDERS:
        assert f"| {name} |" in result.markdown
    assert all(f"| {workload} " in result.markdown for workload in WORKLOADS)
    assert [(c.name, c.target) for c in result.checks] == NAMES
    assert all(c.passed is not None and "µs" in c.value for c in result.checks)
    assert APP in result.markdown
