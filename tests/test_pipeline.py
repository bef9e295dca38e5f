"""The flush pipeline and each stage alone, on plain lists with a standalone ``FlushContext``.

No scope is involved: the stages are functions of plain data (``(entries, ctx) -> entries``),
tested the way pluggy tests ``_multicall``. The scope-level behaviour of each stage is tested in
its own module's tests (test_coalesce, test_ordering, test_batch, test_policies...).
"""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import airlock
from airlock._batch import Batch, merge_batches
from airlock._coalesce import coalesce
from airlock._dispatch import dispatch
from airlock._filter import filter_by_policies
from airlock._flush import FlushContext
from airlock._intent import Intent
from airlock._ordering import order
from airlock._pipeline import order_by_phase_and_merge, run_pipeline
from airlock._stats import FlushStats
from airlock._withdraw import withdraw

ran: list[Any] = []


def task(value: Any) -> None:
    ran.append(value)


@pytest.fixture(autouse=True)
def _clear_ran() -> None:
    ran.clear()


def keyed(value: Any, key: object) -> tuple[Any, ...]:
    """A full record: the shape ``enqueue(task, value, _key=key)`` stores."""
    return (task, (value,), {}, None, None, None, key, (), None)


def plain(value: Any) -> tuple[Any, ...]:
    return (task, (value,), {})


def context(**options: Any) -> tuple[FlushContext, FlushStats, list[tuple[Any, ...]]]:
    stats, told = FlushStats(), []
    ctx = FlushContext.standalone(stats, tell=lambda *event: told.append(event), **options)
    return ctx, stats, told


def test_coalesce_keeps_each_keys_last_entry_in_place() -> None:
    ctx, stats, told = context()
    a, b, c, d = keyed(1, "k"), plain(2), keyed(3, "k"), keyed(4, "other")
    assert coalesce([a, b, c, d], ctx) == [b, c, d]
    assert stats.coalesced == 1
    assert told == [("coalesced", a)]


def test_coalesce_with_every_key_distinct_returns_the_same_list() -> None:
    ctx, stats, _ = context()
    entries = [keyed(1, "a"), keyed(2, "b"), plain(3)]
    assert coalesce(entries, ctx) == entries and stats.coalesced == 0


class Unhashable:
    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("errors", ["raise", "continue"])
def test_coalesce_fails_only_the_entry_whose_key_raises(errors: str) -> None:
    ctx, stats, told = context(errors=errors)
    bad, good = keyed(1, Unhashable()), keyed(2, "k")
    if errors == "raise":
        with pytest.raises(TypeError) as info:
            coalesce([bad, good], ctx)
        assert [i.args for i in info.value.undispatched_intents] == [(2,)]  # type: ignore[attr-defined]
    else:
        assert coalesce([bad, good], ctx) == [good]
        assert [intent.args for intent, _ in stats.failures] == [(1,)]
    assert stats.failed == 1 and told[0][0] == "failed"


class Refuse(airlock.Policy):
    def __init__(self, *refused: Any) -> None:
        self.refused = refused

    def allows(self, intent: Intent) -> bool:
        if intent.args == ("boom",):
            raise RuntimeError("policy failed")
        return intent.args[0] not in self.refused


def test_filter_drops_what_the_policy_refuses_and_tells() -> None:
    ctx, stats, told = context(policy=Refuse(2))
    kept = filter_by_policies([plain(1), plain(2), plain(3)], ctx)
    assert [i.args for i in kept] == [(1,), (3,)]
    assert stats.dropped == 1 and [(e, i.args) for e, i in told] == [("dropped", (2,))]


def test_filter_with_nothing_to_judge_returns_the_same_list() -> None:
    ctx, stats, _ = context()
    entries = [plain(1), keyed(2, "k")]
    assert filter_by_policies(entries, ctx) is entries and stats.dropped == 0


def test_filter_under_continue_fails_the_intent_a_policy_raises_for() -> None:
    ctx, stats, _ = context(policy=Refuse(), errors="continue")
    kept = filter_by_policies([plain("boom"), plain(2)], ctx)
    assert [i.args for i in kept] == [(2,)] and stats.failed == 1


class Withdraws(airlock.Policy):
    """Withdraws the intents whose value is in ``undone`` (as a rollback undoes them)."""

    def __init__(self, *undone: Any) -> None:
        self.undone = undone

    def withdraws(self, intent: Intent) -> bool:
        if intent.args == ("boom",):
            raise RuntimeError("withdraws failed")
        return intent.args[0] in self.undone


def test_withdraw_drops_what_a_policy_withdraws_and_tells() -> None:
    ctx, stats, told = context(policy=Withdraws(2))
    kept = withdraw([plain(1), plain(2), keyed(3, "k")], ctx)
    assert [i.args for i in kept] == [(1,), (3,)]
    assert stats.dropped == 1 and [(e, i.args) for e, i in told] == [("dropped", (2,))]


def test_withdraw_with_no_policy_that_withdraws_returns_the_same_list() -> None:
    ctx, stats, _ = context(policy=Refuse(1))  # it judges, but withdraws nothing
    entries = [plain(1), keyed(2, "k")]
    assert withdraw(entries, ctx) is entries and stats.dropped == 0


def test_withdraw_asks_the_local_policies_of_captured_entries_too() -> None:
    """A withdrawal may come true after the scope an intent was enqueued in ended (a rollback
    after a library's scope handed it over): every flush it reaches asks again."""
    ctx, stats, _ = context(owner="here")
    ctx.filtering = True
    mine = (task, (1,), {}, None, None, None, None, (Withdraws(1),), "here")
    captured = (task, (2,), {}, None, None, None, None, (Withdraws(2),), "nested")
    kept = withdraw([mine, captured, plain(3)], ctx)
    assert [i[1] for i in kept] == [(3,)] and stats.dropped == 2


@pytest.mark.parametrize("errors", ["raise", "continue"])
def test_withdraw_fails_only_the_intent_a_policy_raises_for(errors: str) -> None:
    ctx, stats, _ = context(policy=Withdraws(), errors=errors)
    if errors == "raise":
        with pytest.raises(RuntimeError) as info:
            withdraw([plain("boom"), plain(2)], ctx)
        assert [i.args for i in info.value.undispatched_intents] == [(2,)]  # type: ignore[attr-defined]
    else:
        assert [i.args for i in withdraw([plain("boom"), plain(2)], ctx)] == [(2,)]
    assert stats.failed == 1


def test_a_withdrawn_intent_supersedes_nothing_in_the_pipeline() -> None:
    """Withdraw runs before coalesce: the key's last intent was withdrawn, so the one before
    it goes on (``allows`` is asked only about what coalescing kept)."""
    ctx, stats, _ = context(policy=Withdraws("undone"))
    run_pipeline([keyed("kept", "k"), keyed("undone", "k")], ctx)
    assert ran == ["kept"] and (stats.dropped, stats.coalesced) == (1, 0)


def test_a_policy_with_only_withdraws_judges() -> None:
    class OnlyWithdraws(airlock.Policy):
        def withdraws(self, intent: Intent) -> bool:
            return True

    ctx, _, _ = context(policy=OnlyWithdraws())
    assert ctx.judging
    with airlock.scope(OnlyWithdraws()) as scope:
        airlock.enqueue(task, "never")
    assert ran == [] and scope.stats.dropped == 1


@airlock.phase("draw")
def draw(value: Any) -> None:
    ran.append(("draw", value))


@airlock.phase("sound")
def sound(value: Any) -> None:
    ran.append(("sound", value))


class _Refuses(airlock.Policy):
    def allows(self, intent: Intent) -> bool:
        return intent.args[0] % 2 == 0


class _WithdrawsOdd(airlock.Policy):
    def withdraws(self, intent: Intent) -> bool:
        return intent.args[0] % 2 == 1


@pytest.mark.parametrize("where", ["policy block", "executor", "withdrawing block"])
def test_a_flush_names_its_records_in_one_pass_not_one_per_entry(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The local policies of a policy block, or an executor of intents, see entries as
    Intents: the flush names them in one pass over the buffer (naming each alone read the
    whole buffer again: a frame of K effects cost K passes)."""
    from airlock._buffer import Buffer

    passes: list[str] = []
    for method in ("intents_for", "materialize"):
        original = getattr(Buffer, method)

        def counted(self: Buffer, *args: Any, _original: Any = original,
                    _name: str = method) -> Any:
            if _name == "materialize" or any(type(e) is not Intent for e in args[0]):
                passes.append(_name)  # (a list of Intents only is returned as it is)
            return _original(self, *args)

        monkeypatch.setattr(Buffer, method, counted)
    ran: list[Any] = []
    tick = airlock.tick_scope(executor=ran.append if where == "executor" else None)
    block: Any = contextlib.nullcontext()
    if where != "executor":
        block = airlock.policy(_Refuses() if where == "policy block" else _WithdrawsOdd())
    with tick, block:
        for n in range(50):
            airlock.enqueue(ran.append, n)
    # (a withdrawing block's flush names them for the withdraw stage; the filter, after,
    # finds Intents)
    assert len(passes) == 1, passes
    assert tick.stats.dispatched == (50 if where == "executor" else 25)
    tick.close()


def test_order_sorts_records_by_phase_stably() -> None:
    ctx, _, _ = context(order_by=airlock.by_phase("draw", "sound"))
    entries = [(sound, (1,), {}), (draw, (2,), {}), (sound, (3,), {}), (draw, (4,), {})]
    assert [e[1][0] for e in order(entries, ctx)] == [2, 4, 1, 3]


def test_order_under_continue_keeps_enqueue_order_and_counts_a_hook_error() -> None:
    def broken(intent: Intent) -> int:
        raise ValueError("no key")

    ctx, stats, _ = context(order_by=broken, errors="continue")
    entries = [plain(2), plain(1)]
    assert order(entries, ctx) is entries and stats.hook_errors == 1
    ctx.errors = "raise"
    with pytest.raises(airlock.UsageError, match=r"order_by .*broken raised ValueError"):
        order(entries, ctx)


def test_merge_batches_folds_payloads_at_the_last_entrys_place() -> None:
    sent: list[list[Any]] = []
    send = airlock.batch(sent.append)
    ctx, stats, _ = context()
    entries = [
        (send, (1,), {}, None, None, None, None, (), None), plain("x"),
        (send, (2,), {}, None, None, None, None, (), None),
    ]
    merged = merge_batches(entries, ctx)
    assert merged[0] == plain("x") and stats.batched == 1
    merged[1][0](*merged[1][1])
    assert sent == [[1, 2]]


# -- the pure core's fused order-and-merge stage -----------------------------------------------

PHASES = ("redraw", "sound", "network")
BATCHES = {name: airlock.batch(lambda payloads: None, phase=name) for name in (*PHASES, None)}
BATCHES["nowhere"] = airlock.batch(lambda payloads: None, phase="nowhere")  # not a phase
PHASED_TASKS = {name: airlock.phase(name)(lambda value: None) for name in PHASES}


@st.composite
def phased_entries(draw: st.DrawFn) -> list[Any]:
    """A flush's records (some Intents): plain ones, phased tasks, and payloads of batches
    (with a phase, without, an unknown one), some with options naming a phase."""
    entries: list[Any] = []
    for index in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(("plain", "phased", "batch", "batch", "batch")))
        options = draw(st.sampled_from((None, None, {"ui": True}, {"phase": "sound"})))
        if kind == "plain":
            record: tuple[Any, ...] = (task, (index,), {})
        else:
            target = (BATCHES[draw(st.sampled_from((*PHASES, None, None, "nowhere")))]
                      if kind == "batch" else PHASED_TASKS[draw(st.sampled_from(PHASES))])
            record = (target, (index,), {}, None, options, None, None, (), None)
        entries.append(Intent(*record) if len(record) > 3 and draw(st.booleans()) else record)
    return entries


def _outcome(stage: Any, entries: list[Any], errors: str) -> tuple[Any, ...]:
    ctx, stats, _ = context(order_by=airlock.by_phase(*PHASES), errors=errors)
    try:
        result = stage(list(entries), ctx)
    except airlock.UsageError as error:
        return ("raised", str(error), stats.batched)
    assert not any(type(entry[0]) is Batch for entry in result)  # each merged into its call
    shown = [(type(entry), entry[0], entry[1], entry[4:5]) for entry in result]
    return (shown, stats.batched, stats.hook_errors)


@given(phased_entries(), st.sampled_from(("raise", "continue")))
def test_ordering_and_merging_at_once_is_ordering_then_merging(
    entries: list[Any], errors: str
) -> None:
    def one_then_the_other(entries: list[Any], ctx: FlushContext) -> list[Any]:
        return merge_batches(order(entries, ctx), ctx)

    assert _outcome(order_by_phase_and_merge, entries, errors) == _outcome(
        one_then_the_other, entries, errors)


def test_ordering_and_merging_at_once_sorts_one_entry_per_batch() -> None:
    keyed_by: list[Any] = []
    by_phase = airlock.by_phase(*PHASES)

    def counting_key(entry: Any) -> int:
        keyed_by.append(entry)
        return by_phase(entry)

    counting_key.record_key = counting_key  # type: ignore[attr-defined]
    sound = BATCHES["sound"]
    entries = [(sound, (n,), {}, None, None, None, None, (), None) for n in range(50)]
    ctx, stats, _ = context(order_by=counting_key)
    [merged] = order_by_phase_and_merge([*entries, plain("x")], ctx)[:1]
    assert merged[1] == (list(range(50)),) and stats.batched == 49
    assert len(keyed_by) == 2  # the batch's last entry and the plain one


def test_the_pipeline_merges_batches_once_whichever_stages_run() -> None:
    sent: list[list[Any]] = []
    send = airlock.batch(sent.append, phase="network")
    ctx, stats, _ = context(order_by=airlock.by_phase(*PHASES))
    ctx.batching = True
    run_pipeline([(send, (n,), {}, None, None, None, None, (), None) for n in range(3)], ctx)
    assert sent == [[0, 1, 2]] and stats.batched == 2 and stats.dispatched == 1


def test_dispatch_counts_and_under_continue_goes_past_a_failure() -> None:
    def boom(_: Any) -> None:
        raise RuntimeError("effect failed")

    ctx, stats, _ = context(errors="continue")
    dispatch([plain(1), (boom, (0,), {}), plain(2)], ctx)
    assert ran == [1, 2] and (stats.dispatched, stats.failed) == (2, 1)


def test_dispatch_under_raise_records_what_it_did_not_dispatch() -> None:
    def boom(_: Any) -> None:
        raise RuntimeError("effect failed")

    ctx, stats, _ = context()
    with pytest.raises(RuntimeError) as info:
        dispatch([plain(1), (boom, (0,), {}), plain(2)], ctx)
    assert ran == [1] and (stats.dispatched, stats.failed) == (1, 1)
    assert [i.args for i in info.value.undispatched_intents] == [(2,)]  # type: ignore[attr-defined]


def test_dispatch_hands_intents_to_an_executor_and_tells_each() -> None:
    executed: list[Intent] = []
    ctx, stats, told = context(executor=executed.append)
    dispatch([plain(1), plain(2)], ctx)
    assert [i.args for i in executed] == [(1,), (2,)] and ran == []
    assert [event for event, _ in told] == ["dispatched", "dispatched"]
    assert stats.dispatched == 2


class RunTasks:
    """An executor that takes records as they are (``run_task``), as the Celery one does."""

    def __init__(self) -> None:
        self.ran: list[Any] = []

    def __call__(self, intent: Intent) -> None:
        intent.task(*intent.args, **intent.kwargs)

    def run_task(self, task: Any, args: Any, kwargs: Any, intent: Any) -> None:
        self.ran.append(args)
        task(*args, **kwargs)


@pytest.mark.parametrize("variant", ["direct", "watched", "executor", "run_task"])
@pytest.mark.parametrize("errors", ["raise", "continue"])
def test_both_variants_of_the_dispatch_loop_keep_one_ledger(variant: str, errors: str) -> None:
    """The loop's direct variant (default executor, nobody watching) and its other variant
    (an executor, observers) dispatch, fail and count alike."""
    def boom(_: Any) -> None:
        raise RuntimeError("effect failed")

    options: dict[str, Any] = {"errors": errors}
    if variant in ("executor", "run_task"):
        options["executor"] = RunTasks() if variant == "run_task" else (
            lambda intent: intent.task(*intent.args, **intent.kwargs))
    ctx, stats, told = context(**options)
    ctx.watching = variant == "watched"
    entries = [plain(1), (boom, (0,), {}), Intent(task, (2,)), plain(3)]
    if errors == "raise":
        with pytest.raises(RuntimeError) as info:
            dispatch(entries, ctx)
        assert ran == [1] and (stats.dispatched, stats.failed) == (1, 1)
        assert [i.args for i in info.value.undispatched_intents] == [(2,), (3,)]  # type: ignore[attr-defined]
    else:
        dispatch(entries, ctx)
        assert ran == [1, 2, 3] and (stats.dispatched, stats.failed) == (3, 1)
    told_dispatched = [e for e, *_ in told if e == "dispatched"]
    assert len(told_dispatched) == (stats.dispatched if variant == "watched" else 0)
    if variant == "run_task":  # records go as they are; the Intent through the executor
        assert options["executor"].ran == [(1,), (0,)] + ([(3,)] if errors == "continue" else [])


def test_the_pipeline_runs_only_the_stages_asked_for_in_order() -> None:
    handed: list[list[Any]] = []
    ctx, stats, _ = context(order_by=airlock.by_phase("draw", "sound"))
    ctx.keyed = True
    ctx.dispatch = lambda entries, ctx: handed.append(entries)
    entries = [(sound, (1,), {}, None, None, None, "s", (), None), (draw, (2,), {}),
               (sound, (3,), {}, None, None, None, "s", (), None)]
    assert run_pipeline(entries, ctx) == handed[0]
    assert [e[1][0] for e in handed[0]] == [2, 3] and stats.coalesced == 1


def test_a_stage_error_carries_what_was_not_dispatched() -> None:
    ctx, _, _ = context(order_by=lambda intent: 1 / 0)
    ctx.dispatch = lambda entries, ctx: pytest.fail("dispatched after a failed stage")
    with pytest.raises(airlock.UsageError) as info:
        run_pipeline([plain(1), plain(2)], ctx)
    assert [i.args for i in info.value.undispatched_intents] == [(1,), (2,)]  # type: ignore[attr-defined]


STAGE_MODULES = (
    "_withdraw", "_coalesce", "_filter", "_ordering", "_batch", "_dispatch", "_pipeline", "_flush",
)


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_no_stage_module_touches_a_scopes_private_members(module: str) -> None:
    """Stages see a FlushContext, never ``scope._anything`` (issue 22)."""
    path = Path(airlock.__file__).parent / f"{module}.py"
    touched = [
        f"{node.value.id}.{node.attr}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr.startswith("_")
        and isinstance(node.value, ast.Name) and node.value.id in {"scope", "owner", "tick"}
    ]
    assert touched == []
