"""The Buffer alone: origin marks, materializing, full records, and the flags it owns."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import airlock
from airlock import Intent, _buffer
from airlock._buffer import SHIFT_TOKEN, Buffer, owned, put_token, take_token
from airlock._states import ACTIVE, FLUSHED


def task(value: Any) -> None: ...


OWNER = object()


def plain(value: Any) -> tuple[Any, ...]:
    return (task, (value,), {})


def full(value: Any, key: object = None, policies: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    return (task, (value,), {}, None, None, None, key, policies, OWNER)


def buffer_of(*entries: Any, origins: Any = None) -> Buffer:
    buffer = Buffer()
    buffer.extend(entries)
    buffer.origins = origins
    return buffer


CHILD = SimpleNamespace(_buffer=Buffer())  # a child scope, as a capture sees it


def flags(buffer: Buffer) -> dict[str, bool]:
    names = ("rich", "keyed", "batching", "holding", "filtering")
    return {name: getattr(buffer, name) for name in names if getattr(buffer, name)}


def test_owned_follows_the_origin_marks() -> None:
    entries = [plain(0), plain(1), plain(2), plain(3)]
    marks = [(1, CHILD), (3, None)]  # 1 and 2 came from CHILD; from 3 on, the owner's again
    assert [scope for _, _, scope in owned(entries, marks, OWNER)] == [OWNER, CHILD, CHILD, OWNER]
    assert [scope for _, _, scope in owned(entries, None, OWNER)] == [OWNER] * 4


def test_records_name_the_scope_of_captured_plain_records_only() -> None:
    buffer = buffer_of(plain(0), plain(1), plain(2), origins=[(1, CHILD), (2, None)])
    records = buffer.records(OWNER)
    assert records[0] == plain(0) and records[2] == plain(2)
    assert records[1] == (task, (1,), {}, None, None, None, None, (), CHILD)
    assert buffer == records and buffer.origins is None  # in place; the marks are spent


def test_records_leave_a_record_an_intents_reader_named_meanwhile() -> None:
    """Between reading a captured record and writing its full record, ``records`` may let
    another thread run; one reading ``intents`` names the record then. The Intent stays (its
    identity is the intent's), with its scope."""
    named = Intent(task, (1,), scope=CHILD)

    class NamedOnceRead(tuple):  # type: ignore[type-arg]
        def __len__(self) -> int:  # (records reads the record's length: a switch point)
            buffer[1] = named
            return tuple.__len__(self)

    buffer = buffer_of(plain(0), NamedOnceRead(plain(1)), origins=[(1, CHILD), (2, None)])
    records = buffer.records(OWNER)
    assert records == [plain(0), named] and records[1] is named and buffer[1] is named


def test_records_read_the_marks_as_owned_does() -> None:
    other = SimpleNamespace(_buffer=Buffer())
    entries = [plain(0), plain(1), full(2), plain(3), plain(4), plain(5)]
    # two marks at 1 (the later holds), the owner's own from 3, a mark past the end
    marks = [(1, CHILD), (1, other), (3, None), (4, CHILD), (9, other)]
    records = buffer_of(*entries, origins=marks).records(OWNER)
    assert records == [
        plain(0),
        (task, (1,), {}, None, None, None, None, (), other),
        full(2),  # a full record names its scope already
        plain(3),
        (task, (4,), {}, None, None, None, None, (), CHILD),
        (task, (5,), {}, None, None, None, None, (), CHILD),
    ]
    assert [scope for _, _, scope in owned(entries, marks, OWNER)] == [
        OWNER, other, other, OWNER, CHILD, CHILD]


def test_materialize_replaces_records_by_intents_in_place() -> None:
    buffer = buffer_of(plain(0), plain(1), origins=[(1, CHILD)])
    intents = buffer.materialize(OWNER)
    assert [type(i) for i in intents] == [Intent, Intent]
    assert [i.scope for i in intents] == [OWNER, CHILD]
    assert buffer == intents and buffer[0] is intents[0]  # identity is stable from now on
    assert buffer.rich and buffer.origins is None
    assert buffer.materialize(OWNER) == intents  # already Intents: the same objects


def _removing_the_head_while_naming(monkeypatch: Any, buffer: Buffer, removed: int) -> None:
    """While ``materialize``/``intents_for`` build their Intents, the frames' thread removes
    the first ``removed`` entries (as opening the next frame does) and appends one."""
    build = _buffer.to_intent
    calls = []

    def to_intent(entry: Any, scope: Any) -> Intent:
        if not calls:
            buffer.take(removed)
            buffer.append(plain("late"))
        calls.append(entry)
        return build(entry, scope)

    monkeypatch.setattr(_buffer, "to_intent", to_intent)


def test_naming_writes_over_the_record_it_named_even_after_the_head_moved(
    monkeypatch: Any,
) -> None:
    """Indices read before a removal from the front are shifted by what it removed; a record
    that was removed is not written back, and no other entry is written over."""
    buffer = buffer_of(plain(0), plain(1), plain(2))
    records = list(buffer)
    _removing_the_head_while_naming(monkeypatch, buffer, 1)
    intents = buffer.materialize(OWNER)
    assert [i.args for i in intents] == [(0,), (1,), (2,)]  # what was read: all named
    assert buffer[0] is intents[1] and buffer[1] is intents[2]  # named where they moved
    assert buffer[2] == plain("late") and buffer.removed == 1  # the arrival untouched
    assert records[0] not in buffer and SHIFT_TOKEN == [True]


def test_intents_for_after_the_head_moved_names_only_what_is_still_there(
    monkeypatch: Any,
) -> None:
    buffer = buffer_of(plain(0), plain(1), plain(2))
    first, last = buffer[0], buffer[2]
    _removing_the_head_while_naming(monkeypatch, buffer, 1)
    intents = buffer.intents_for([first, last], OWNER)
    assert [i.args for i in intents] == [(0,), (2,)]
    assert buffer[0] == plain(1) and type(buffer[0]) is tuple  # not asked for: as it was
    assert buffer[1] is intents[1] and buffer[2] == plain("late")
    assert SHIFT_TOKEN == [True]


def test_naming_that_cannot_get_the_token_names_nothing_in_place(monkeypatch: Any) -> None:
    """Another thread holds the token (here: nobody gives it back): after NAMING_PATIENCE the
    Intents are returned and the buffer keeps its records."""
    monkeypatch.setattr(_buffer, "NAMING_PATIENCE", 0.01)
    buffer = buffer_of(plain(0))
    take_token()
    try:
        intents = buffer.materialize(OWNER)
    finally:
        put_token(True)
    assert intents[0].args == (0,) and type(buffer[0]) is tuple


def test_intents_for_replaces_the_records_it_finds() -> None:
    buffer = buffer_of(plain(0), plain(1))
    first = buffer[0]
    intents = buffer.intents_for([first], OWNER)
    assert buffer[0] is intents[0] and intents[0].args == (0,) and buffer.rich
    assert buffer.intents_for([buffer[0]], OWNER)[0] is buffer[0]
    outside = buffer.intents_for([plain(9)], OWNER)  # not in the buffer: left as it is
    assert outside[0].args == (9,) and len(buffer) == 2


def test_plain_records_turn_on_no_flag() -> None:
    buffer = Buffer()
    buffer.append(plain(0))
    assert flags(buffer) == {}


def test_each_entry_turns_on_what_its_flush_needs() -> None:
    batch = airlock.batch(lambda items: None)
    held = airlock.debounce(0.1)(task)
    buffer = Buffer()
    buffer.add(full(0), False)
    assert flags(buffer) == {"rich": True}
    buffer.add(full(1, key="k"), False)
    buffer.add((batch, (), {}, None, None, None, None, (), OWNER), False)
    buffer.add((held, (1,), {}, None, None, None, None, (), OWNER), False)
    assert flags(buffer) == {"rich": True, "keyed": True, "batching": True, "holding": True}
    buffer.add(Intent(task, (3,), {}, local_policies=(airlock.DropAll(),)), True)
    assert buffer.filtering  # the caller says whether its policies judge


def test_a_rescan_asks_the_local_policies_whether_they_judge() -> None:
    buffer = buffer_of(full(2, policies=(airlock.AllowAll(),)))  # allows all: no filter
    buffer.rescan(0)
    assert flags(buffer) == {"rich": True}
    buffer.append(full(3, policies=(airlock.AllowAll(), airlock.DropAll())))
    buffer.rescan(0)
    assert flags(buffer) == {"rich": True, "filtering": True}


class Owner:
    """A record's scope, as the fast adds read it."""

    def __init__(self, accepting: bool) -> None:
        self._accepting = accepting


def test_the_fast_adds_set_their_flag() -> None:
    accepting = Owner(True)
    buffer = Buffer()
    assert buffer.add_keyed((task, (0,), {}, None, None, None, "k", (), accepting))
    assert flags(buffer) == {"rich": True, "keyed": True}
    other = Buffer()
    assert other.add_batched((task, (0,), {}, None, None, None, None, (), accepting))
    assert flags(other) == {"rich": True, "batching": True}
    assert other.add_batched((task, (0,), {}, None, None, None, "k", (), accepting))
    assert flags(other) == {"rich": True, "batching": True, "keyed": True}


def test_the_fast_adds_append_nothing_once_the_scope_stopped_accepting() -> None:
    ended = Owner(False)
    buffer = Buffer()
    assert not buffer.add_keyed((task, (0,), {}, None, None, None, "k", (), ended))
    assert not buffer.add_batched((task, (0,), {}, None, None, None, None, (), ended))
    assert buffer == [] and flags(buffer) == {}


def test_rescan_lowers_rich_only_when_every_later_entry_is_plain() -> None:
    buffer = buffer_of(full(0, key="k"), plain(1))  # arrived without add (a post)
    buffer.rescan(0)
    assert flags(buffer) == {"rich": True, "keyed": True}
    buffer.rescan(start=1)
    assert flags(buffer) == {"keyed": True}  # the feature stays on; rich follows the entries


def test_force_general_and_drop() -> None:
    buffer = buffer_of(plain(0))
    buffer.force_general(True)
    assert flags(buffer) == {"rich": True, "holding": True}
    buffer.drop()
    assert buffer == [] and not buffer.rich and buffer.origins is None


def test_take_removes_the_head_and_its_marks() -> None:
    buffer = buffer_of(plain(0), plain(1), plain(2), origins=[(0, CHILD), (1, None)])
    buffer.take(2)
    assert buffer == [plain(2)] and buffer.origins is None


def test_cut_removes_entries_from_the_middle_and_gives_the_token_back() -> None:
    buffer = buffer_of(plain(0), plain(1), plain(2), plain(3))
    buffer.cut(1, 2)
    assert buffer == [plain(0), plain(3)] and SHIFT_TOKEN == [True]
    assert buffer.removed == 0  # (only removals from the front are counted)


def test_capture_takes_nothing_once_its_owner_stopped_capturing() -> None:
    child = SimpleNamespace(_buffer=Buffer())
    ended_scope = SimpleNamespace(_across_frames=False, _state=FLUSHED)
    closed_tick = SimpleNamespace(_across_frames=True, _closed=True)
    for owner in (ended_scope, closed_tick):
        buffer = buffer_of(plain(0))
        assert not buffer.capture([full(1, key="k")], child, plain=False, owner=owner)
        # (the marks list was published before the read: empty, it marks nothing)
        assert buffer == [plain(0)] and not buffer.origins and flags(buffer) == {}
    # a burst: the last capture's end mark is where this one would start; refused, it stays
    marks = [(0, child), (1, None)]
    buffer = buffer_of(plain(0), origins=list(marks))
    assert not buffer.capture([plain(1)], child, plain=True, owner=ended_scope)
    assert buffer == [plain(0)] and buffer.origins == marks
    for owner in (
        SimpleNamespace(_across_frames=False, _state=ACTIVE),
        SimpleNamespace(_across_frames=True, _closed=False),  # a tick, between frames too
    ):
        buffer = buffer_of(plain(0))
        assert buffer.capture([plain(1)], child, plain=True, owner=owner)
        assert buffer == [plain(0), plain(1)] and buffer.origins == [(1, child), (2, None)]


def test_capture_marks_the_childs_plain_records_and_carries_its_flags() -> None:
    child_buffer = Buffer()
    child_buffer.add(full(5, key="k"), False)
    child = SimpleNamespace(_buffer=child_buffer)
    buffer = buffer_of(plain(0))
    buffer.capture([plain(1)], child, plain=True)
    assert buffer.origins == [(1, child), (2, None)] and flags(buffer) == {}
    buffer.capture(list(child_buffer), child, plain=False)
    assert flags(buffer) == {"rich": True, "keyed": True}
    assert [scope for _, _, scope in owned(buffer, buffer.origins, OWNER)] == [
        OWNER, child, child
    ]


def test_a_burst_of_captures_keeps_one_mark_each_and_each_records_scope() -> None:
    children = [SimpleNamespace(_buffer=Buffer()) for _ in range(3)]
    buffer = buffer_of(plain(0))
    for n, child in enumerate(children, 1):
        buffer.capture([plain(n)], child, plain=True)
    assert buffer.origins == [(1, children[0]), (2, children[1]), (3, children[2]), (4, None)]
    buffer.append(plain(4))  # the owner's own again, after the last capture
    assert [scope for _, _, scope in owned(buffer, buffer.origins, OWNER)] == [
        OWNER, *children, OWNER
    ]


class SpentAfterRead(Buffer):
    """A buffer whose marks another thread spends (sets to None: a frame's removal, an
    ``intents`` reader naming every record) right after each read of them."""

    __slots__ = ("_marks",)

    def __init__(self, marks: Any) -> None:
        super().__init__()
        self._marks = marks

    @property  # type: ignore[override]
    def origins(self) -> Any:
        marks, self._marks = self._marks, None
        return marks

    @origins.setter
    def origins(self, marks: Any) -> None:
        self._marks = marks


def test_capture_and_records_read_the_marks_once() -> None:
    # on 3.10 another thread may run between two reads: a second read found None and the
    # capture raised TypeError, losing the child's entries (the threaded stress test saw it)
    child = SimpleNamespace(_buffer=SpentAfterRead([(0, CHILD)]))
    buffer = SpentAfterRead([(0, CHILD), (1, None)])
    buffer.extend([plain(0)])
    assert buffer.capture([plain(1)], child, plain=True)
    assert buffer == [plain(0), plain(1)]
    buffer = SpentAfterRead([(0, CHILD), (1, None)])
    buffer.extend([plain(0), plain(1)])
    assert buffer.records(OWNER) == [(task, (0,), {}, None, None, None, None, (), CHILD),
                                     plain(1)]


def test_take_now_removes_only_while_the_token_is_free() -> None:
    buffer = buffer_of(plain(0), plain(1))
    take_token()
    try:
        assert not buffer.take_now(1)  # (the holder may be this very thread: no wait)
    finally:
        put_token(True)
    assert buffer == [plain(0), plain(1)] and buffer.removed == 0
    assert buffer.take_now(1)
    assert buffer == [plain(1)] and buffer.removed == 1 and SHIFT_TOKEN == [True]


def test_a_removal_whose_token_never_comes_raises_and_removes_nothing(monkeypatch: Any) -> None:
    """The token's holder is this thread, interrupted (a signal handler or finalizer that
    removes): waiting would never end, so ``take`` and ``cut`` raise after REMOVAL_PATIENCE."""
    monkeypatch.setattr(_buffer, "REMOVAL_PATIENCE", 0.01)
    buffer = buffer_of(plain(0), plain(1))
    take_token()
    try:
        with pytest.raises(airlock.ScopeStateError, match=r"tick\.post\(\)"):
            buffer.take(1)
        with pytest.raises(airlock.ScopeStateError, match=r"not given back within 0\.01 s"):
            buffer.cut(0, 1)
    finally:
        put_token(True)
    assert buffer == [plain(0), plain(1)] and buffer.removed == 0 and SHIFT_TOKEN == [True]
