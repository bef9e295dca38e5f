"""The held-effects store and the hold stage on their own: plain records, a number line for a
clock (the tick that runs them: tests/test_tick_cadence.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from keys import EqRaises, HashRaisesLater

from airlock._cadence import ALL, Cadence, HeldEffects, cadence_of, debounce, hold_effects, throttle


def lookup(query: str) -> None: ...


def save(slot: int = 0) -> None: ...


SEARCH = Cadence(lookup, 0.3, "debounce")
SAVE = Cadence(save, 1.0, "throttle")


def record(task: object, *args: object, key: object = None, name: str | None = None) -> tuple:
    return (task, args, {}, name, None, None, key, (), None)


def args_of(records: list[tuple]) -> list[tuple]:
    return [r[1] for r in records]


def test_the_decorators_make_held_tasks() -> None:
    search = debounce(0.25)(lookup)
    assert type(search) is Cadence and search.kind == "debounce" and search.seconds == 0.25
    assert search.func is lookup and search.__name__ == "lookup"
    assert not callable(search)  # like a batch, it runs only through a tick
    assert repr(throttle(2)(save)) == "<throttle(2s) save>"
    assert cadence_of(record(search, "q")) is search and cadence_of(record(lookup)) is None


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_bad_intervals_are_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match=r"finite number of seconds >= 0"):
        debounce(seconds)


@pytest.mark.parametrize("seconds", ["1", None, True])
def test_non_numbers_are_refused(seconds: object) -> None:
    with pytest.raises(TypeError, match=r"takes a number of seconds"):
        throttle(seconds)  # type: ignore[arg-type]


def test_a_bare_decorator_is_refused_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"write @airlock\.debounce\(0\.3\)"):
        debounce(lookup)  # type: ignore[arg-type]


def test_debounce_runs_the_latest_once_after_a_quiet_interval() -> None:
    held = HeldEffects()
    superseded = []
    for now, query in [(0.0, "c"), (0.1, "ca"), (0.2, "cat")]:
        run_now, gone = held.hold(record(SEARCH, query), SEARCH, now)
        assert run_now is None
        superseded.append(gone)
    assert [g and g[1] for g in superseded] == [None, ("c",), ("ca",)]
    assert len(held) == 1
    assert held.take_due(0.4) == []  # 0.2 + 0.3 not reached
    assert held.next_due() == pytest.approx(0.5)
    released = held.take_due(0.5)
    assert args_of(released) == [("cat",)]
    assert released[0][0] is lookup and released[0][3] == "lookup" and released[0][6] is None
    assert len(held) == 0 and held.next_due() is None


def test_keys_make_separate_groups() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "a", key="left"), SEARCH, 0.0)
    held.hold(record(SEARCH, "b", key="right"), SEARCH, 0.1)
    assert len(held) == 2
    assert args_of(held.take_due(0.35)) == [("a",)]
    assert args_of(held.take_due(1.0)) == [("b",)]


def test_throttle_leads_then_trails_with_the_latest() -> None:
    held = HeldEffects()
    run_now, _ = held.hold(record(SAVE, 1), SAVE, 0.0)
    assert run_now is not None and run_now[1] == (1,) and run_now[0] is save
    assert held.hold(record(SAVE, 2), SAVE, 0.2) == (None, None)
    assert held.hold(record(SAVE, 3), SAVE, 0.4)[1][1] == (2,)
    assert held.take_due(0.9) == []
    assert args_of(held.take_due(1.0)) == [(3,)]  # one trailing run at last_run + 1 s
    # the trailing run counts as a run: the next enqueue within a second waits again
    assert held.hold(record(SAVE, 4), SAVE, 1.5) == (None, None)
    assert args_of(held.take_due(2.0)) == [(4,)]
    # after a quiet interval the next one leads again
    assert held.hold(record(SAVE, 5), SAVE, 3.5)[0][1] == (5,)


def test_mark_due_lets_waiting_entries_go_at_the_next_flush() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "cat"), SEARCH, 0.0)
    held.hold(record(SEARCH, "dog", key="k"), SEARCH, 0.0)
    held.hold(record(SAVE, 1), SAVE, 0.0)  # leads: nothing waits
    held.hold(record(SAVE, 2), SAVE, 0.1)
    assert held.mark_due(0.0, SEARCH, key="other") == 0
    assert held.mark_due(0.0, SEARCH, key=None) == 1
    assert held.next_due() == 0.0
    assert args_of(held.take_due(0.0)) == [("cat",)]
    assert held.mark_due(0.05, key="k") == 1 and held.mark_due(0.1) == 2  # ALL tasks and keys
    assert args_of(held.take_due(0.1)) == [("dog",), (2,)]  # due 0.05, then 0.1
    assert held.mark_due(0.2, ALL, ALL) == 0 and len(held) == 0


def test_an_ordinary_entry_supersedes_a_waiting_one() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "a"), SEARCH, 0.0)
    held.hold(record(SEARCH, "b", key="k"), SEARCH, 0.0)
    assert held.supersede(save, None) == []  # another function, no key: unrelated
    assert args_of(held.supersede(lookup, None)) == [("a",)]  # the same function
    assert args_of(held.supersede(save, "k")) == [("b",)]  # the same key
    assert len(held) == 0


def test_clear_returns_what_waited_and_idle_groups_are_forgotten() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "x"), SEARCH, 0.0)
    held.hold(record(SAVE, 1), SAVE, 0.0)  # runs now; its group remembers the run
    assert args_of(held.clear()) == [("x",)]
    held.hold(record(SAVE, 1), SAVE, 10.0)
    held.take_due(20.0)
    assert held._groups == {}  # nothing waits and the throttle interval is over


def test_the_stage_releases_what_is_due_first_then_holds_the_frames_own() -> None:
    held = HeldEffects()
    entries, gone, _ = hold_effects([record(SEARCH, "c"), (save, (), {})], held, 0.0)
    assert entries == [(save, (), {})] and gone == [] and len(held) == 1
    # the next flush, 0.4 s later: "c" is due and goes first; "ca" starts a new wait
    entries, gone, _ = hold_effects([(lookup, ("plain",), {}), record(SEARCH, "ca")], held, 0.4)
    # the plain lookup() with no key supersedes nothing: "c" was released before it
    assert args_of(entries) == [("c",), ("plain",)] and gone == [] and len(held) == 1
    entries, gone, _ = hold_effects([record(SEARCH, "cat")], held, 0.5)
    assert entries == [] and args_of(gone) == [("ca",)]
    entries, gone, _ = hold_effects([record(lookup, "now", key=None)], held, 0.6)
    assert args_of(entries) == [("now",)] and args_of(gone) == [("cat",)]  # the same function
    assert len(held) == 0


def test_the_stage_runs_a_leading_throttle_in_its_place() -> None:
    held = HeldEffects()
    first = (lookup, ("a",), {})
    entries, gone, _ = hold_effects([first, record(SAVE, 1), record(SAVE, 2)], held, 0.0)
    assert entries[0] is first and entries[1][0] is save and args_of(entries) == [("a",), (1,)]
    assert gone == [] and len(held) == 1  # 2 trails
    entries, _, _ = hold_effects([], held, 1.0)
    assert args_of(entries) == [(2,)]


# -- keys that raise: the entry that brought one fails, the store is as it was before it --


class HashRaises:
    def __hash__(self) -> int:
        raise ValueError("HashRaises cannot be hashed")


class EqualsOnly:
    """A key equal to ``key`` that raises when compared with anything else."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        if other == self.key:
            return True
        raise RuntimeError("EqualsOnly cannot be compared")


def test_a_key_that_raises_when_compared_supersedes_nothing() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "a", key="k"), SEARCH, 0.0)
    held.hold(record(SEARCH, "b", key="other"), SEARCH, 0.0)
    with pytest.raises(RuntimeError, match="cannot be compared"):
        held.supersede(save, EqualsOnly("k"))  # matches "a", then raises against "other"
    assert len(held) == 2 and args_of(list(held.waiting())) == [("a",), ("b",)]


def test_an_unkeyed_entry_never_compares_the_waiting_keys() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "keyed", key=EqRaises()), SEARCH, 0.0)
    held.hold(record(SEARCH, "unkeyed"), SEARCH, 0.0)
    assert args_of(held.supersede(lookup, None)) == [("unkeyed",)]
    assert args_of(list(held.waiting())) == [("keyed",)]


def test_a_group_whose_key_can_no_longer_be_hashed_loses_nothing() -> None:
    key = HashRaisesLater()
    held = HeldEffects()
    held.hold(record(SAVE, 1, key=key), SAVE, 0.0)  # leads: its group only remembers the run
    held.hold(record(SEARCH, "due"), SEARCH, 0.0)
    key.armed = True
    # the idle group cannot be forgotten (its key's hash raises): it stays, and what is due
    # goes out all the same
    assert args_of(held.take_due(5.0)) == [("due",)]
    assert len(held) == 0 and held.take_due(6.0) == []


def test_the_stage_stops_at_an_ordinary_key_that_cannot_be_compared() -> None:
    held = HeldEffects()
    held.hold(record(SEARCH, "due"), SEARCH, 0.0)
    held.hold(record(SEARCH, "superseded", key="k"), SEARCH, 0.4)
    held.hold(record(SEARCH, "waits", key="other"), SEARCH, 0.4)
    entries = [
        (save, ("first",), {}),
        record(save, "k wins", key="k"),
        record(save, "bad", key=EqRaises()),  # raises against "other"
        record(SEARCH, "after"),
    ]
    go_on, gone, stop = hold_effects(entries, held, 0.5)
    assert args_of(go_on) == [("due",), ("first",), ("k wins",)]
    assert args_of(gone) == [("superseded",)]
    assert stop is not None and stop[0] == 2 and isinstance(stop[1], RuntimeError)
    assert args_of(list(held.waiting())) == [("waits",)]  # "after" is not taken
    # the caller fails "bad" and goes on with the entries after it
    go_on, gone, stop = hold_effects(entries[3:], held, 0.5, release_due=False)
    assert (go_on, gone, stop) == ([], [], None)
    assert sorted(args_of(list(held.waiting()))) == [("after",), ("waits",)]


@pytest.mark.parametrize("task", [SEARCH, SAVE], ids=["debounce", "throttle"])
@pytest.mark.parametrize(
    "bad_key", [HashRaises, lambda: EqRaises(like=3)], ids=["hash raises", "eq raises"]
)
def test_the_stage_stops_at_a_held_tasks_key_that_raises(
    task: Cadence, bad_key: Callable[[], object]
) -> None:
    held = HeldEffects()
    for args in ("first", "waits"):  # (a throttle leads with the first)
        held.hold(record(task, args, key=3), task, 0.0)
    entries = [record(task, "bad", key=bad_key()), record(task, "next", key="n")]
    go_on, gone, stop = hold_effects(entries, held, 0.1)
    assert go_on == [] and gone == []
    assert stop is not None and stop[0] == 0 and isinstance(stop[1], (ValueError, RuntimeError))
    assert len(held) == 1 and args_of(list(held.waiting())) == [("waits",)]
    go_on, gone, stop = hold_effects(entries[1:], held, 0.1, release_due=False)
    assert stop is None and gone == []
    if task.kind == "throttle":  # the first run for its key: at once
        assert args_of(go_on) == [("next",)] and len(held) == 1
    else:
        assert go_on == [] and args_of(list(held.waiting())) == [("waits",), ("next",)]
