"""Bad input and forbidden calls fail loudly, at the call site, saying what to do."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

import airlock
from airlock import Intent


def effect(log: list[str], tag: str) -> None:
    log.append(tag)


def boom(tag: str) -> None:
    raise RuntimeError(f"{tag} failed")


@pytest.mark.parametrize("value", [42, "send_email", None, ["list"]])
def test_enqueue_of_a_non_callable_names_the_object(value: object) -> None:
    with airlock.scope() as s:
        with pytest.raises(TypeError, match="needs a callable task") as info:
            airlock.enqueue(value)  # type: ignore[arg-type]
        assert s.intents == []  # refused at the call site, never buffered
    assert repr(value) in str(info.value)


def test_non_callable_is_refused_even_with_options_or_no_scope() -> None:
    with airlock.scope(), pytest.raises(TypeError, match="got 42"):
        airlock.enqueue(42, _key="k")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got 'x'"):
        airlock.enqueue("x")  # type: ignore[arg-type]


def test_no_scope_raises_no_scope_error_naming_the_task() -> None:
    with pytest.raises(airlock.NoScopeError, match=r"'effect'.*no scope open.*with airlock.scope"):
        airlock.enqueue(effect, [], "x")
    with pytest.raises(airlock.NoScopeError, match="mail"):
        airlock.enqueue(effect, [], "x", _name="mail")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("_name", 3, "_name must be a string"),
        ("_origin", b"view", "_origin must be a string"),
        ("_dispatch_options", [("queue", "q")], "_dispatch_options must be a dict"),
    ],
)
def test_bad_enqueue_options(option: str, value: object, message: str) -> None:
    with airlock.scope() as s, pytest.raises(TypeError, match=message):
        airlock.enqueue(effect, [], "x", **{option: value})
    assert s.intents == []


class EnqueuesOnEnqueue(airlock.Policy):
    def on_enqueue(self, intent: Intent) -> None:
        airlock.enqueue(effect, [], "from policy")


class EnqueuesInAllows(airlock.Policy):
    def allows(self, intent: Intent) -> bool:
        airlock.enqueue(effect, [], "from policy")
        return True  # pragma: no cover


def test_policy_enqueue_at_enqueue_time() -> None:
    with airlock.scope(policy=EnqueuesOnEnqueue()) as s:
        with pytest.raises(airlock.PolicyEnqueueError, match="policies only observe"):
            airlock.enqueue(effect, [], "x")
        assert s.intents == []


def test_local_policy_enqueue_at_enqueue_time() -> None:
    with airlock.scope() as s:
        with airlock.policy(EnqueuesOnEnqueue()), pytest.raises(airlock.PolicyEnqueueError):
            airlock.enqueue(effect, [], "x")
        assert s.intents == []


def test_policy_enqueue_at_flush_time() -> None:
    log: list[str] = []
    with pytest.raises(airlock.PolicyEnqueueError, match="policies only observe"):  # noqa: SIM117
        with airlock.scope(policy=EnqueuesInAllows()):
            airlock.enqueue(effect, log, "x")
    assert log == []


def test_local_policy_enqueue_at_flush_time() -> None:
    log: list[str] = []
    with pytest.raises(airlock.PolicyEnqueueError), airlock.scope():  # noqa: SIM117
        with airlock.policy(EnqueuesInAllows()):
            airlock.enqueue(effect, log, "x")
    assert log == []


def test_enqueue_works_again_after_a_refused_policy_enqueue() -> None:
    class EnqueuesForX(airlock.Policy):
        def on_enqueue(self, intent: Intent) -> None:
            if intent.args[1] == "x":
                airlock.enqueue(effect, [], "from policy")

    log: list[str] = []
    with airlock.scope(policy=EnqueuesForX()):
        with pytest.raises(airlock.PolicyEnqueueError):
            airlock.enqueue(effect, log, "x")
        airlock.enqueue(effect, log, "y")
    assert log == ["y"]


class ReturnsTuple(airlock.Scope):
    def before_descendant_flushes(self, exiting_scope: airlock.Scope, intents: list[Intent]):  # type: ignore[no-untyped-def]
        return tuple(intents)


def test_before_descendant_flushes_must_return_a_list() -> None:
    expected = r"ReturnsTuple\.before_descendant_flushes must return a list .*got tuple"
    with ReturnsTuple() as outer, pytest.raises(TypeError, match=expected), airlock.scope():
        airlock.enqueue(effect, [], "x")
    assert outer.stats.enqueued == 0


def test_state_errors() -> None:
    s = airlock.scope()
    with s, pytest.raises(airlock.ScopeStateError, match=r"still active; call exit\(\) first"):
        s.flush()
    with pytest.raises(airlock.ScopeStateError, match="already been flushed"):
        s.flush()
    with pytest.raises(airlock.ScopeStateError, match=r"cannot discard .* already been flushed"):
        s.discard()
    with pytest.raises(airlock.ScopeStateError, match="already been flushed"):
        s.__enter__()


def test_failing_executor_aborts_the_flush_and_reports_what_was_left() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="b failed") as info, airlock.scope() as s:
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(boom, "b")
        airlock.enqueue(effect, log, "c")
        airlock.enqueue(effect, log, "d", _key="k")
    assert log == ["a"]
    exc = info.value
    assert str(exc.failed_intent) == "boom('b')"  # type: ignore[attr-defined]
    assert [i.args[1] for i in exc.undispatched_intents] == ["c", "d"]  # type: ignore[attr-defined]
    assert s.stats.dispatched == 1 and s.stats.failed == 1
    if sys.version_info >= (3, 11):
        assert any("2 intent(s) not dispatched" in n for n in exc.__notes__)


def test_failing_executor_on_the_fast_path_reports_too() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError) as info, airlock.scope() as s:
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(boom, "b")
        airlock.enqueue(effect, log, "c")
    exc = info.value
    assert exc.failed_intent.task is boom  # type: ignore[attr-defined]
    assert [str(i) for i in exc.undispatched_intents] == ["effect(['a'], 'c')"]  # type: ignore[attr-defined]
    assert (s.stats.dispatched, s.stats.failed) == (1, 1)


class RefusesLoudly(airlock.Policy):
    def allows(self, intent: airlock.Intent) -> bool:
        raise airlock.PolicyViolation(f"{intent} refused")


def test_a_policy_error_at_flush_fails_that_intent_and_reports_the_rest() -> None:
    with pytest.raises(airlock.PolicyViolation) as info, airlock.scope(  # noqa: SIM117
        policy=RefusesLoudly()
    ) as s:
        with airlock.scope():
            airlock.enqueue(effect, [], "a")
            airlock.enqueue(effect, [], "b")
    exc = info.value
    assert str(exc.failed_intent) == "effect([], 'a')"  # type: ignore[attr-defined]
    assert [str(i) for i in exc.undispatched_intents] == ["effect([], 'b')"]  # type: ignore[attr-defined]
    assert (s.stats.failed, s.stats.undispatched, s.stats.balance_error()) == (1, 1, None)


@pytest.mark.parametrize("error", [ValueError("bad"), KeyboardInterrupt(), SystemExit(3)])
def test_any_exception_discards_the_scope(error: BaseException) -> None:
    log: list[str] = []
    with pytest.raises(type(error)), airlock.scope() as s:
        airlock.enqueue(effect, log, "a")
        raise error
    assert log == [] and s.is_discarded and not s.is_flushed


def test_keyboard_interrupt_in_an_effect_stops_the_flush() -> None:
    log: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info, airlock.scope(observers=[airlock.Observer()]):
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(interrupt)
        airlock.enqueue(effect, log, "c")
    assert log == ["a"]
    assert len(info.value.undispatched_intents) == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PaymentDeclined(Exception):
    """An exception that refuses attribute assignment, as a frozen dataclass does."""

    code: int


@pytest.mark.parametrize("key", [None, "k"], ids=["plain flush", "pipeline"])
def test_an_effect_raising_an_exception_that_refuses_attributes_still_reports_the_rest(
    key: str | None,
) -> None:
    """The caller gets the effect's own error, with its failed and undispatched intents (and
    the note), and the ledger balances."""
    ran: list[object] = []

    def charge() -> None:
        raise PaymentDeclined(402)

    scope = airlock.scope()
    with pytest.raises(PaymentDeclined) as raised, scope:
        airlock.enqueue(charge, _key=key)
        airlock.enqueue(ran.append, "email")
    error = raised.value
    assert error.failed_intent.task is charge  # type: ignore[attr-defined]
    assert [i.args for i in error.undispatched_intents] == [("email",)]  # type: ignore[attr-defined]
    assert ran == [] and scope.stats.balance_error() is None
    if sys.version_info >= (3, 11):
        assert "1 intent(s) not dispatched" in error.__notes__[-1]
