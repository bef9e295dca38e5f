"""FlushPlan alone: what each configuration allows, decided once."""

from __future__ import annotations

import pytest

import airlock
from airlock import Intent
from airlock._budget import dispatch_budgeted
from airlock._dispatch import dispatch
from airlock._executor import sync_executor
from airlock._plan import FlushPlan, make_plan


class Judges(airlock.Policy):
    def allows(self, intent: Intent) -> bool:
        return True


class Hooks(airlock.Policy):
    def on_enqueue(self, intent: Intent) -> None: ...


def plan(policy: airlock.Policy | None = None, **options: object) -> FlushPlan:
    order_by = options.pop("order_by", None)
    errors = str(options.pop("errors", "raise"))
    watching = bool(options.pop("watching", False))
    return make_plan(policy or airlock.AllowAll(), options.pop("executor", sync_executor),
                     order_by, errors, watching, **options)  # type: ignore[arg-type]


def test_the_default_configuration_allows_every_shortcut_but_inline_frames_off_a_tick() -> None:
    assert plan() == FlushPlan(enqueue_hooked=False, watching=False, plain_loop=True,
                               on_records=True, inline_frames=False)
    assert plan(tick=True).inline_frames


def test_what_takes_each_shortcut_away() -> None:
    judged = plan(Judges())
    assert not judged.plain_loop and not judged.on_records and not judged.enqueue_hooked
    assert plan(Hooks()).enqueue_hooked and plan(Hooks()).plain_loop
    assert plan(Hooks()).policy_hooked and not plan(Judges()).policy_hooked
    watched = plan(watching=True)
    assert watched.enqueue_hooked and not watched.policy_hooked  # the observers' hook only
    phased = plan(order_by=airlock.by_phase("a"), tick=True)
    assert not phased.plain_loop and phased.on_records and phased.inline_frames
    assert not plan(order_by=lambda intent: 0).on_records
    continuing = plan(errors="continue", tick=True)
    assert not continuing.plain_loop and continuing.on_records and continuing.inline_frames
    watched = plan(watching=True, tick=True)  # Intents for the observers, frames inline
    assert watched.enqueue_hooked and not watched.on_records and watched.inline_frames
    assert not plan(Judges(), watching=True, tick=True).inline_frames
    assert not plan(watching=True, tick=True, budgeted=True).inline_frames
    budgeted = plan(tick=True, budgeted=True)
    assert not budgeted.plain_loop and not budgeted.inline_frames
    assert not plan(tick=True, blocking=True).inline_frames


def test_the_plan_picks_the_dispatcher_and_whether_the_policy_judges() -> None:
    assert plan().dispatcher is None and plan(tick=True).dispatcher is None  # the loop
    assert plan(executor=lambda intent: None).dispatcher is dispatch
    assert plan(watching=True).dispatcher is None  # the loop's watched variant
    assert plan(tick=True, budgeted=True).dispatcher is dispatch_budgeted
    assert plan(budgeted=True).dispatcher is None  # only a tick has a frame budget
    assert plan(Judges()).judging and not plan(Hooks()).judging and not plan().judging


def test_a_plan_is_frozen_and_a_change_of_configuration_builds_a_new_one() -> None:
    frozen = plan()
    with pytest.raises(AttributeError):
        frozen.plain_loop = False  # type: ignore[misc]
    tick = airlock.tick_scope()
    before = tick._plan
    tick.policy = Judges()
    assert tick._plan is not before and not tick._plan.on_records
    tick.policy = airlock.AllowAll()
    assert tick._plan == before
