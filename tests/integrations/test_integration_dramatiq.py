"""dramatiq_executor against Dramatiq's StubBroker and a real Worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage
from fakes import only_method

import airlock
from airlock.integrations.executors.dramatiq import dramatiq_executor

RAN: list[tuple[int, dict[str, Any]]] = []


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    broker = StubBroker()
    broker.add_middleware(CurrentMessage())
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    RAN.clear()
    yield broker
    worker.stop()
    broker.close()


def make_actor(broker: StubBroker) -> Any:
    def airlock_square(x: int) -> None:
        message = CurrentMessage.get_current_message()
        RAN.append((x * x, dict(message.options)))

    return dramatiq.actor(airlock_square, broker=broker, max_retries=0)


def test_flushed_actor_runs_on_the_worker_with_options(broker: StubBroker) -> None:
    square = make_actor(broker)
    with airlock.scope(executor=dramatiq_executor):
        airlock.enqueue(square, 3)
        airlock.enqueue(square, x=4, _dispatch_options={"airlock_tag": "t"})
        assert broker.queues[square.queue_name].qsize() == 0
    broker.join(square.queue_name, timeout=10_000)
    assert sorted(RAN, key=lambda r: r[0]) == [(9, {}), (16, {"airlock_tag": "t"})]


def test_delay_reaches_send_with_options(broker: StubBroker) -> None:
    square = make_actor(broker)
    message = dramatiq_executor(airlock.Intent(square, (2,), dispatch_options={"delay": 60_000}))
    assert message.options["eta"] > message.message_timestamp + 59_000
    assert message.queue_name.endswith(".DQ")  # parked on the delay queue


def test_discarded_scope_sends_nothing(broker: StubBroker) -> None:
    square = make_actor(broker)
    with pytest.raises(RuntimeError), airlock.scope(executor=dramatiq_executor):
        airlock.enqueue(square, 3)
        raise RuntimeError("abort")
    broker.join(square.queue_name, timeout=10_000)
    assert RAN == []


def test_plain_callable_is_called_directly() -> None:
    calls: list[int] = []
    with airlock.scope(executor=dramatiq_executor):
        airlock.enqueue(calls.append, 1)
    assert calls == [1]


def test_the_executor_is_an_airlock_executor() -> None:
    assert isinstance(dramatiq_executor, airlock.Executor)


def test_an_actor_is_named_by_its_actor_name_and_can_be_blocked(broker: StubBroker) -> None:
    square = make_actor(broker)
    assert airlock.Intent(square, (2,)).name == "airlock_square"
    with airlock.scope(airlock.BlockTasks({"airlock_square"}), executor=dramatiq_executor) as s:
        airlock.enqueue(square, 3)
    assert s.stats.dropped == 1 and broker.queues[square.queue_name].qsize() == 0


def test_an_object_with_only_send_goes_through_send() -> None:
    task = only_method("send")
    assert dramatiq_executor(airlock.Intent(task, (1,), {"n": 2})) == "sent by send"
    assert task.sent == [((1,), {"n": 2})]


class SendOnly:
    """Not callable: a handle that only sends the real actor (as a proxy or a registry may)."""

    def __init__(self, actor: Any) -> None:
        self.send_with_options = actor.send_with_options
        self.actor_name = actor.actor_name


def test_a_task_object_that_is_not_callable_is_enqueued_and_sent(broker: StubBroker) -> None:
    square = make_actor(broker)
    with airlock.scope(executor=dramatiq_executor) as s:
        airlock.enqueue(SendOnly(square), 5)
    broker.join(square.queue_name, timeout=10_000)
    assert RAN == [(25, {})] and s.stats.dispatched == 1
    assert s.intents[0].name == "airlock_square"
