"""Built-in policies: AllowAll, DropAll, AssertNoEffects, BlockTasks, LogOnFlush."""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

import pytest

import airlock
from airlock import Intent
from airlock._policies import check_policy, has_enqueue_hook, is_allow_all


def ping(log: list[str], tag: str) -> None:
    log.append(tag)


def pong(log: list[str], tag: str) -> None:
    log.append("pong:" + tag)


def run(policy: airlock.Policy, log: list[str]) -> None:
    with airlock.scope(policy=policy):
        airlock.enqueue(ping, log, "a")
        airlock.enqueue(pong, log, "b")


def test_allow_all_releases_everything() -> None:
    log: list[str] = []
    run(airlock.AllowAll(), log)
    assert log == ["a", "pong:b"]


def test_drop_all_releases_nothing_and_counts_drops() -> None:
    log: list[str] = []
    with airlock.scope(policy=airlock.DropAll()) as s:
        airlock.enqueue(ping, log, "a")
    assert log == [] and s.stats.dropped == 1 and s.stats.dispatched == 0


def test_assert_no_effects_raises_at_the_enqueue() -> None:
    with airlock.scope(policy=airlock.AssertNoEffects()) as s:  # noqa: SIM117
        with pytest.raises(airlock.PolicyViolation, match=r"ping\(.*AssertNoEffects"):
            airlock.enqueue(ping, [], "a")
    assert s.intents == []


def test_assert_no_effects_message_keeps_airlock_py_key_phrase() -> None:
    with airlock.scope(policy=airlock.AssertNoEffects()):  # noqa: SIM117
        with pytest.raises(airlock.PolicyViolation, match="Unexpected side effect"):
            airlock.enqueue(ping, [], "a")


def test_assert_no_effects_allows_nothing_and_drops_captured_intents_counted() -> None:
    with airlock.scope() as s:
        airlock.enqueue(ping, [], "a")
    assert airlock.AssertNoEffects().allows(s.intents[0]) is False  # airlock-py's answer
    log: list[str] = []
    policy = airlock.AssertNoEffects()
    with airlock.scope(policy=policy) as outer, airlock.scope():
        airlock.enqueue(ping, log, "a")
    assert log == [] and outer.stats.dropped == 1 and outer.stats.balance_error() is None


def test_block_tasks_drops_by_name() -> None:
    log: list[str] = []
    run(airlock.BlockTasks(["pong"]), log)
    assert log == ["a"]


class _CeleryLikeTask:
    """A task object with a registered dotted name, as Celery gives one."""

    name = "myapp.tasks.send_email"

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __call__(self) -> None:
        self.log.append("sent")


def test_block_tasks_blocks_a_registered_task_by_its_short_or_full_name() -> None:
    for blocked in ({"send_email"}, {"myapp.tasks.send_email"}):
        log: list[str] = []
        with airlock.scope(policy=airlock.BlockTasks(blocked)) as s:
            airlock.enqueue(_CeleryLikeTask(log))
            airlock.enqueue(ping, log, "a")
        assert log == ["a"] and s.stats.dropped == 1
    with pytest.raises(airlock.PolicyViolation, match="send_email"):
        policy = airlock.BlockTasks({"myapp.tasks.send_email"}, raise_on_enqueue=True)
        with airlock.scope(policy=policy):
            airlock.enqueue(_CeleryLikeTask([]))


def test_block_tasks_matches_a_function_by_module_qualified_name() -> None:
    log: list[str] = []
    run(airlock.BlockTasks([f"{__name__}.pong"]), log)
    assert log == ["a"]


def test_block_tasks_raise_on_enqueue() -> None:
    log: list[str] = []
    with airlock.scope(policy=airlock.BlockTasks({"pong"}, raise_on_enqueue=True)):
        airlock.enqueue(ping, log, "a")
        with pytest.raises(airlock.PolicyViolation, match="pong"):
            airlock.enqueue(pong, log, "b")
    assert log == ["a"]


def test_block_tasks_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match="collection of task names"):
        airlock.BlockTasks("pong")


def test_log_on_flush_logs_each_release(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []
    with caplog.at_level(logging.INFO, logger="airlock"), airlock.scope(airlock.LogOnFlush()):
        airlock.enqueue(log.append, "a")
        airlock.enqueue(log.append, "b")
    assert log == ["a", "b"]
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "airlock: releasing append('a')",
        "airlock: releasing append('b')",
    ]


def test_log_on_flush_uses_the_given_logger(caplog: pytest.LogCaptureFixture) -> None:
    mine = logging.getLogger("mine")
    with caplog.at_level(logging.INFO, logger="mine"):
        run(airlock.LogOnFlush(mine), [])
    assert {r.name for r in caplog.records} == {"mine"}


def test_custom_policy_sees_intents_at_enqueue_and_at_flush() -> None:
    seen: list[tuple[str, str]] = []

    class Audit(airlock.Policy):
        def on_enqueue(self, intent: Intent) -> None:
            seen.append(("enqueue", str(intent)))

        def allows(self, intent: Intent) -> bool:
            seen.append(("allows", str(intent)))
            return intent.args[1] != "b"

    log: list[str] = []
    run(Audit(), log)
    assert log == ["a"]
    assert seen == [
        ("enqueue", "ping([], 'a')"),
        ("enqueue", "pong([], 'b')"),
        ("allows", "ping([], 'a')"),
        ("allows", "pong([], 'b')"),
    ]


def test_duck_typed_policy_is_accepted_and_bad_one_refused() -> None:
    class Duck:
        def on_enqueue(self, intent: Intent) -> None:
            pass

        def allows(self, intent: Intent) -> bool:
            return False

    duck = Duck()
    assert check_policy(duck) is duck
    assert isinstance(duck, airlock.Policy)
    with pytest.raises(TypeError, match="needs on_enqueue"):
        airlock.scope(policy=object())  # type: ignore[arg-type]


def test_hot_path_introspection() -> None:
    assert is_allow_all(airlock.AllowAll()) and not is_allow_all(airlock.DropAll())
    assert not has_enqueue_hook(airlock.DropAll())
    assert has_enqueue_hook(airlock.AssertNoEffects())


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (airlock.AllowAll(), "AllowAll()"),
        (airlock.DropAll(), "DropAll()"),
        (airlock.AssertNoEffects(), "AssertNoEffects()"),
        (airlock.BlockTasks(["b", "a"]), "BlockTasks(['a', 'b'], raise_on_enqueue=False)"),
        (airlock.LogOnFlush(), "LogOnFlush(logger='airlock')"),
    ],
)
def test_reprs(policy: airlock.Policy, text: str) -> None:
    assert repr(policy) == text


def test_a_hook_running_on_one_thread_does_not_refuse_another_threads_enqueue() -> None:
    """A thread that carries the scope's context (asyncio.to_thread) enqueues while another
    thread's enqueue is inside the policy's on_enqueue: only the policy's own enqueue refuses."""
    inside, release = threading.Event(), threading.Event()

    class Waits(airlock.Policy):
        def on_enqueue(self, intent: Intent) -> None:
            if intent.args[1] == "first":
                inside.set()
                release.wait(10)

    log: list[str] = []
    with airlock.scope(Waits()) as scope:
        carried = contextvars.copy_context()
        first = threading.Thread(target=carried.run, args=(airlock.enqueue, ping, log, "first"))
        first.start()
        try:
            assert inside.wait(10)
            airlock.enqueue(ping, log, "second")  # while "first" is inside on_enqueue
        finally:
            release.set()
            first.join()
    assert sorted(log) == ["first", "second"] and scope.stats.dispatched == 2


class Undone(airlock.Policy):
    """Withdraws every intent enqueued under it once ``undone`` is set (a rollback)."""

    def __init__(self) -> None:
        self.undone = False

    def withdraws(self, intent: Intent) -> bool:
        return self.undone


@pytest.mark.parametrize("make", [airlock.scope, airlock.tick_scope], ids=["scope", "tick"])
def test_an_intent_a_policy_block_withdraws_supersedes_no_earlier_one_with_its_key(
    make: Any,
) -> None:
    """A policy with only ``withdraws`` judges (the block sets the filtering flag, in the
    compiled kernel too): the withdrawn intent is dropped before coalescing, so the earlier
    intent with its key goes on."""
    log: list[str] = []
    undo = Undone()
    assert not is_allow_all(undo)
    with make() as scope:
        airlock.enqueue(log.append, "committed", _key="k")
        with airlock.policy(undo):
            airlock.enqueue(log.append, "rolled back", _key="k")
        undo.undone = True
    assert log == ["committed"]
    assert (scope.stats.dropped, scope.stats.coalesced) == (1, 0)
    assert scope.stats.balance_error() is None


@pytest.mark.parametrize("make", [airlock.scope, airlock.tick_scope], ids=["scope", "tick"])
def test_an_intent_withdrawn_after_its_scope_handed_it_over_is_dropped_by_the_outer_flush(
    make: Any,
) -> None:
    """The undoing (a rollback) comes after the inner scope ended and was captured: the outer
    flush asks the intent's block again, and drops it."""
    log: list[str] = []
    undo = Undone()
    with make() as outer:
        with airlock.scope(), airlock.policy(undo):
            airlock.enqueue(log.append, "undone later")
        airlock.enqueue(log.append, "kept")
        undo.undone = True
    assert log == ["kept"] and outer.stats.dropped == 1
    assert outer.stats.balance_error() is None
