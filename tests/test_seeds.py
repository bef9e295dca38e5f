"""Every example from the seed documents (000-003), run as written (effects log their calls).

The ones that need Celery or the other task queues are in
``integrations/test_integration_celery_seeds.py``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import airlock
from airlock import Intent, Scope

logger = logging.getLogger(__name__)


class Effects:
    """Named effects that append their name and arguments to one shared log."""

    def __init__(self) -> None:
        self.log: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.threads: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        def effect(*args: Any, **kwargs: Any) -> None:
            self.log.append((name, args, kwargs))
            self.threads.append(threading.current_thread().name)

        effect.__name__ = effect.__qualname__ = name
        self.__dict__[name] = effect
        return effect

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.log]


@pytest.fixture
def fx() -> Effects:
    return Effects()


# -- 000: the announcement -----------------------------------------------------------------


def test_000_order_effects_fire_only_at_the_end_of_the_scope(fx: Effects) -> None:
    class Order:
        def __init__(self, id: int) -> None:
            self.id = id
            self.status = "new"

        def process(self) -> None:
            self.status = "processed"
            airlock.enqueue(fx.notify_warehouse, self.id)
            airlock.enqueue(fx.send_confirmation_email)

    with airlock.scope():
        Order(1).process()
        fx.do_other_stuff()
        assert fx.names == ["do_other_stuff"]
    assert fx.names == ["do_other_stuff", "notify_warehouse", "send_confirmation_email"]
    assert fx.log[1] == ("notify_warehouse", (1,), {})


def test_000_an_exception_means_nothing_fires(fx: Effects) -> None:
    with pytest.raises(ValueError), airlock.scope():
        airlock.enqueue(fx.notify_warehouse, 1)
        raise ValueError("checkout failed")
    assert fx.log == []


def test_000_and_001_nesting_policies(fx: Effects) -> None:
    with airlock.scope(policy=airlock.AllowAll()) as s:
        airlock.enqueue(fx.task_a)
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(fx.task_b)
        airlock.enqueue(fx.task_c)
        assert len(s.intents) == 3
    assert fx.names == ["task_a", "task_c"]


def test_000_and_001_nesting_scopes_with_third_party_code(fx: Effects) -> None:
    def third_party_code_with_side_effects(a: int) -> int:
        with airlock.scope():
            airlock.enqueue(fx.task_c)
            return a * 2

    with airlock.scope():
        airlock.enqueue(fx.task_a)
        with airlock.scope():
            airlock.enqueue(fx.task_b)
            assert third_party_code_with_side_effects(5) == 10
        assert fx.log == []
    assert fx.names == ["task_a", "task_b", "task_c"]


def test_000_checkout_cart_dispatches_only_on_success(fx: Effects) -> None:
    def step(name: str, fail: bool = False) -> None:
        with airlock.scope():
            airlock.enqueue(getattr(fx, name))
            if fail:
                raise RuntimeError(name)

    def checkout_cart(cart_id: int, fail_at: str | None = None) -> None:
        with airlock.scope():
            for name in ("validate_inventory", "charge_payment", "send_confirmation"):
                step(name, fail=name == fail_at)

    with pytest.raises(RuntimeError):
        checkout_cart(1, fail_at="send_confirmation")
    assert fx.log == []
    checkout_cart(2)
    assert fx.names == ["validate_inventory", "charge_payment", "send_confirmation"]


def test_000_direct_calls_bypass_airlock(fx: Effects) -> None:
    with airlock.scope():
        fx.notify_warehouse(1)  # "the old fashioned way": runs right away
        airlock.enqueue(fx.send_confirmation_email)
        assert fx.names == ["notify_warehouse"]
    assert fx.names == ["notify_warehouse", "send_confirmation_email"]


def test_000_outbox_pattern(fx: Effects) -> None:
    """A policy persisting intents on_enqueue and an executor that only flags them."""
    outbox: list[dict[str, Any]] = []

    class Outbox(airlock.Policy):
        def on_enqueue(self, intent: Intent) -> None:
            outbox.append({"name": intent.name, "args": intent.args, "ready": False})

    def mark_ready(intent: Intent) -> None:
        for row in outbox:
            if row["name"] == intent.name and row["args"] == intent.args:
                row["ready"] = True

    with airlock.scope(policy=Outbox(), executor=mark_ready):
        airlock.enqueue(fx.send_email, 7)
        assert outbox == [{"name": "send_email", "args": (7,), "ready": False}]
    assert outbox[0]["ready"] is True and fx.log == []


def test_000_human_in_the_loop_approval(fx: Effects) -> None:
    class Approved(airlock.Policy):
        def __init__(self) -> None:
            self.approved: set[int] = set()

        def allows(self, intent: Intent) -> bool:
            return id(intent) in self.approved

    approval = Approved()
    s = airlock.scope(policy=approval)
    s.enter()  # the imperative lifecycle: exit now, flush once a human has decided
    for tool in ("search", "delete_repo", "send_email"):
        airlock.enqueue(getattr(fx, tool))
    s.exit()
    pending = s.intents
    assert [i.name for i in pending] == ["search", "delete_repo", "send_email"]
    approval.approved = {id(pending[0]), id(pending[2])}
    s.flush()
    assert fx.names == ["search", "send_email"] and s.stats.dropped == 1


# -- 001: nesting ----------------------------------------------------------------------------


def test_001_inner_is_captured_by_outer(fx: Effects) -> None:
    with airlock.scope():
        airlock.enqueue(fx.task_a)
        with airlock.scope():
            airlock.enqueue(fx.task_b)
        assert fx.log == []  # inner exited, task_b captured
    assert fx.names == ["task_a", "task_b"]


def test_001_provenance_tracking(fx: Effects) -> None:
    with airlock.scope() as outer:
        airlock.enqueue(fx.task_a)
        with airlock.scope():
            airlock.enqueue(fx.task_b)
        assert len(outer.own_intents) == 1
        assert len(outer.captured_intents) == 1
        assert len(outer.intents) == 2
        assert outer.own_intents[0].name == "task_a"
        assert outer.captured_intents[0].name == "task_b"


def test_001_default_hook_captures_all() -> None:
    assert Scope().before_descendant_flushes(Scope(), [Intent(print)]) == []


class SafetyScope(Scope):
    """Capture dangerous tasks, allow others through."""

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        safe = [i for i in intents if not i.dispatch_options.get("dangerous")]
        return safe


def test_001_safety_scope_selective_capture(fx: Effects) -> None:
    with SafetyScope() as safety:
        with airlock.scope():
            airlock.enqueue(fx.safe_task)  # Allowed through
            airlock.enqueue(fx.dangerous_task, _dispatch_options={"dangerous": True})  # Captured
        assert fx.names == ["safe_task"]
        assert [i.name for i in safety.captured_intents] == ["dangerous_task"]
    assert fx.names == ["safe_task", "dangerous_task"]


class IndependentScope(Scope):
    """Allow nested scopes to flush independently."""

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        return intents  # Allow all through


def test_001_independent_scope(fx: Effects) -> None:
    with IndependentScope() as independent:
        with airlock.scope():
            airlock.enqueue(fx.task)
        assert fx.names == ["task"]  # task dispatches here (not captured)
        assert independent.intents == []


# -- 002: executors --------------------------------------------------------------------------


def test_002_my_executor(fx: Effects) -> None:
    def my_executor(intent: Intent) -> None:
        """Execute an intent."""
        intent.task(*intent.args, **intent.kwargs)

    with airlock.scope(executor=my_executor):
        airlock.enqueue(fx.task, 1, x=2)
    assert fx.log == [("task", (1,), {"x": 2})]
    assert isinstance(my_executor, airlock.Executor)  # "just a function" is an Executor


def test_002_thread_pool_executor(fx: Effects) -> None:
    executor_pool = ThreadPoolExecutor(max_workers=10, thread_name_prefix="seedpool")

    def thread_executor(intent: Intent) -> None:
        """Execute in thread pool."""
        executor_pool.submit(intent.task, *intent.args, **intent.kwargs)

    data = list(range(5))
    with airlock.scope(executor=thread_executor):
        airlock.enqueue(fx.cpu_bound_task, data)
    executor_pool.shutdown(wait=True)
    assert fx.log == [("cpu_bound_task", (data,), {})]
    assert fx.threads[0].startswith("seedpool")


def test_002_careful_executor_logs_and_aborts(
    fx: Effects, caplog: pytest.LogCaptureFixture
) -> None:
    def careful_executor(intent: Intent) -> None:
        try:
            intent.task(*intent.args, **intent.kwargs)
        except Exception as e:
            logger.error(f"Failed to execute {intent.name}: {e}")
            raise  # Re-raise to abort flush

    def broken() -> None:
        raise ConnectionError("smtp down")

    with pytest.raises(ConnectionError), airlock.scope(executor=careful_executor):
        airlock.enqueue(broken)
        airlock.enqueue(fx.never_runs)
    assert fx.log == []
    assert "Failed to execute" in caplog.text and "smtp down" in caplog.text


# -- 003: invariants -------------------------------------------------------------------------


def test_003_policies_cannot_enqueue(fx: Effects) -> None:
    class Sneaky(airlock.Policy):
        def allows(self, intent: Intent) -> bool:
            airlock.enqueue(fx.sneaky)
            return True  # pragma: no cover

    with pytest.raises(airlock.PolicyEnqueueError), airlock.scope(policy=Sneaky()):
        airlock.enqueue(fx.task)
    assert fx.log == []


def test_003_effects_escape_only_at_flush(fx: Effects) -> None:
    with airlock.scope() as s:
        airlock.enqueue(fx.task)
        assert not hasattr(s, "dispatch") and not hasattr(airlock, "force_dispatch")
        assert fx.log == []
    assert fx.names == ["task"]


def test_003_no_scope_is_an_error(fx: Effects) -> None:
    with pytest.raises(airlock.NoScopeError):
        airlock.enqueue(fx.task)


def test_003_greenlet_check_warns_for_old_greenlet() -> None:
    with pytest.warns(RuntimeWarning, match="greenlet>=1.0"):
        airlock._check_greenlet("0.4.17")  # type: ignore[attr-defined]
