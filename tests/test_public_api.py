"""The public surface: exactly these names, all importable; the seed import paths work."""

from __future__ import annotations

import importlib

import airlock

EXPECTED = [
    "AirlockError",
    "AllowAll",
    "AssertNoEffects",
    "BacklogFullError",
    "Batch",
    "BlockTasks",
    "Cadence",
    "DropAll",
    "Executor",
    "FlushStats",
    "Intent",
    "LogOnFlush",
    "NoScopeError",
    "Observer",
    "Policy",
    "PolicyEnqueueError",
    "PolicyViolation",
    "Scope",
    "ScopeStateError",
    "TickScope",
    "UsageError",
    "batch",
    "by_phase",
    "compiled",
    "configure",
    "debounce",
    "enqueue",
    "get_configuration",
    "get_current_scope",
    "get_enqueue_target",
    "phase",
    "phase_of",
    "policy",
    "report_background_failure",
    "reset_configuration",
    "reset_current_scope",
    "scope",
    "scoped",
    "set_current_scope",
    "throttle",
    "tick_scope",
]


def test_all_is_exactly_the_expected_sorted_set() -> None:
    assert airlock.__all__ == EXPECTED
    assert sorted(airlock.__all__) == airlock.__all__


def test_every_public_name_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from airlock import *", namespace)
    for name in EXPECTED:
        assert namespace[name] is getattr(airlock, name)


def test_version_is_a_string() -> None:
    assert isinstance(airlock.__version__, str)


def test_seed_import_path_for_the_sync_executor() -> None:
    from airlock.integrations.executors.sync import sync_executor

    log: list[int] = []
    with airlock.scope(executor=sync_executor):
        airlock.enqueue(log.append, 1)
    assert log == [1]


def test_testing_module_exports() -> None:
    testing = importlib.import_module("airlock.testing")
    assert sorted(testing.__all__) == [
        "EnqueueRecorder",
        "OUTCOMES",
        "Outcome",
        "RecordedFrame",
        "RecordedIntent",
        "Recorder",
    ]
    assert issubclass(testing.Recorder, airlock.Observer)


def test_error_hierarchy() -> None:
    assert issubclass(airlock.UsageError, airlock.AirlockError)
    assert issubclass(airlock.NoScopeError, airlock.UsageError)
    assert issubclass(airlock.PolicyEnqueueError, airlock.UsageError)
    assert issubclass(airlock.ScopeStateError, airlock.AirlockError)
    assert issubclass(airlock.PolicyViolation, airlock.AirlockError)
    assert not issubclass(airlock.ScopeStateError, airlock.UsageError)


def test_executor_and_policy_are_runtime_checkable_protocols() -> None:
    from airlock.integrations.executors.asyncio import AsyncioExecutor, asyncio_executor
    from airlock.integrations.executors.sync import sync_executor
    from airlock.integrations.executors.threadpool import BoundedThreadPoolExecutor

    with BoundedThreadPoolExecutor(1, 1) as pool:
        for executor in (sync_executor, asyncio_executor, AsyncioExecutor(), pool, print):
            assert isinstance(executor, airlock.Executor)
    assert not isinstance(42, airlock.Executor)

    class DuckPolicy:
        def on_enqueue(self, intent: airlock.Intent) -> None: ...
        def allows(self, intent: airlock.Intent) -> bool:
            return True

    assert isinstance(DuckPolicy(), airlock.Policy)
    assert isinstance(airlock.DropAll(), airlock.Policy)
    assert not isinstance(sync_executor, airlock.Policy)

