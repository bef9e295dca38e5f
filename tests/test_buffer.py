"""A buffer's functions alone, on plain lists: origin marks, materializing, full records."""

from __future__ import annotations

from typing import Any

from airlock import Intent
from airlock._buffer import full_records, intents_for, materialize, owned


def task(value: Any) -> None: ...


OWNER, CHILD = object(), object()


def plain(value: Any) -> tuple[Any, ...]:
    return (task, (value,), {})


def test_owned_follows_the_origin_marks() -> None:
    entries = [plain(0), plain(1), plain(2), plain(3)]
    marks = [(1, CHILD), (3, None)]  # 1 and 2 came from CHILD; from 3 on, the owner's again
    assert [scope for _, _, scope in owned(entries, marks, OWNER)] == [OWNER, CHILD, CHILD, OWNER]
    assert [scope for _, _, scope in owned(entries, None, OWNER)] == [OWNER] * 4


def test_full_records_name_the_scope_of_captured_plain_records_only() -> None:
    buffer = [plain(0), plain(1), plain(2)]
    records = full_records(buffer, [(1, CHILD), (2, None)], OWNER)
    assert records[0] == plain(0) and records[2] == plain(2)
    assert records[1] == (task, (1,), {}, None, None, None, None, (), CHILD)
    assert buffer == records  # in place


def test_materialize_replaces_records_by_intents_in_place() -> None:
    buffer: list[Any] = [plain(0), plain(1)]
    intents = materialize(buffer, [(1, CHILD)], OWNER)
    assert [type(i) for i in intents] == [Intent, Intent]
    assert [i.scope for i in intents] == [OWNER, CHILD]
    assert buffer == intents and buffer[0] is intents[0]  # identity is stable from now on


def test_intents_for_replaces_the_records_it_finds_and_says_so() -> None:
    buffer: list[Any] = [plain(0), plain(1)]
    first = buffer[0]
    intents, changed = intents_for(buffer, [first], OWNER)
    assert changed and buffer[0] is intents[0] and intents[0].args == (0,)
    again, changed = intents_for(buffer, [buffer[0]], OWNER)
    assert not changed and again[0] is buffer[0]
    outside, changed = intents_for(buffer, [plain(9)], OWNER)  # not in the buffer
    assert not changed and outside[0].args == (9,) and len(buffer) == 2
