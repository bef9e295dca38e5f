"""One behaviour, two implementations: random enqueue calls through the compiled kernel's
``enqueue`` and through the pure core's, in the same kind of context, give the same buffers,
the same scope flags and the same errors (type and message).

Runs wherever the extension is built, whatever ``AIRLOCK_NO_EXTENSIONS`` says (it only picks
``airlock.enqueue``); skipped only where the extension is absent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import airlock
from airlock import _enqueue
from airlock._context import current_target

speedups = pytest.importorskip("airlock._speedups")


def noop(*args: Any, **kwargs: Any) -> None:
    pass


class Task:
    def __call__(self, *args: Any, **kwargs: Any) -> None:
        pass


class TaskObject:
    """Not callable, but an executor could send it (``delay``)."""

    def delay(self, *args: Any) -> None:
        pass


@airlock.batch
def send(payloads: list[Any]) -> None:
    pass


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Unhashable()"


class LoggingList(list[Any]):
    def append(self, item: Any) -> None:
        super().append(("logged", item))


class Target:
    """A stand-in target: ``_accepting`` as given, a buffer of the given type (or none)."""

    def __init__(self, accepting: object, buffer: list[Any] | None) -> None:
        self._accepting = accepting
        if buffer is not None:
            self._buffer = buffer


TASKS: list[object] = [noop, Task(), print, len, Task, send, TaskObject(), 3, "noop", None]
VALUES: list[object] = [0, 1, "x", None, (1, 2), [1], {"a": 1}, Unhashable()]
OPTION_VALUES: dict[str, list[object]] = {
    "_key": ["k", ("k", 1), None, 0, [1], Unhashable()],
    "_name": ["name", None, 1],
    "_origin": ["here", None, b"x"],
    "_dispatch_options": [{"phase": 1}, None, ["x"]],
}
ALLOW, DROP = airlock.AllowAll(), airlock.DropAll()
CONTEXTS = ["none", "scope", "tick", "allow view", "drop view", "nested view",
            "target True list", "target True subclass", "target 1 list", "target False",
            "target no buffer", "closed scope", "scope subclass", "tick subclass"]

KEYWORDS = ["x", "y", "task", "_key", "_name", "_origin", "_dispatch_options"]
#: keyword arguments: the options with good and bad values, and the task's own keywords
keywords = st.dictionaries(st.sampled_from(KEYWORDS), st.integers(0, 99), max_size=4).map(
    lambda chosen: {
        name: (values := OPTION_VALUES.get(name, VALUES))[i % len(values)]
        for name, i in chosen.items()
    }
)
calls = st.lists(
    st.tuples(
        st.one_of(st.just(()), st.tuples(st.sampled_from(TASKS))),  # no task at all, or one
        st.lists(st.sampled_from(VALUES), max_size=3).map(tuple),
        keywords,
    ),
    max_size=8,
)


class Discard(Exception):
    """Leaves a scope without flushing (the buffers are compared, nothing runs)."""


@contextlib.contextmanager
def context(kind: str) -> Iterator[Any]:
    """The current target for ``kind``: yields what holds the buffer (or None)."""
    if kind == "none":
        yield None
    elif kind in ("scope", "tick", "scope subclass", "tick subclass") or kind.endswith("view"):
        owner: Any = {  # the kernel reads an exact Scope's or TickScope's slots in place
            "tick": airlock.tick_scope, "scope subclass": OwnScope, "tick subclass": OwnTick,
        }.get(kind, airlock.scope)()
        with contextlib.suppress(Discard), owner:
            if not kind.endswith("view"):
                yield owner
            else:
                with contextlib.ExitStack() as views:
                    views.enter_context(airlock.policy(DROP if kind == "drop view" else ALLOW))
                    if kind == "nested view":
                        views.enter_context(airlock.policy(DROP))
                    yield owner
            raise Discard
        if kind.startswith("tick"):
            owner.close()
    elif kind == "closed scope":
        closed = airlock.scope()
        with closed:
            pass
        token = current_target.set(closed)
        try:
            yield closed
        finally:
            current_target.reset(token)
    else:
        _, accepting, form = kind.split(" ", 2) if kind.count(" ") == 2 else (*kind.split(), "")
        buffers: dict[str, list[Any] | None] = {
            "list": [], "subclass": LoggingList(), "": [], "buffer": None
        }
        buffer = buffers[form]
        value = {"True": True, "1": 1, "False": False, "no": True}[accepting]
        target = Target(value, buffer)
        token = current_target.set(target)
        try:
            yield target
        finally:
            current_target.reset(token)


class OwnScope(airlock.Scope):
    """A subclass: the kernel reads its attributes by name."""


class OwnTick(airlock.TickScope):
    pass


def _same_owner(entry: object, owner: object) -> object:
    """``entry`` with the scope or target it names (a full record does) as "OWNER"."""
    if entry is owner:
        return "OWNER"
    if type(entry) is tuple:
        return tuple(_same_owner(item, owner) for item in entry)
    return entry


def _outcomes(enqueue: Callable[..., None], kind: str,
              program: list[tuple[tuple[object, ...], tuple[object, ...], dict[str, object]]]
              ) -> tuple[list[object], object]:
    """Each call's error (type, message) or None, then the buffer and flags it left."""
    results: list[object] = []
    state: object = None
    with context(kind) as owner:
        for task, args, kwargs in program:
            try:
                enqueue(*task, *args, **dict(kwargs))
            except Exception as error:
                results.append((type(error), str(error)))
            else:
                results.append(None)
        if owner is not None:
            buffer = getattr(owner, "_buffer", None)
            state = (
                None if buffer is None else [_same_owner(entry, owner) for entry in buffer],
                [getattr(buffer, flag, False) for flag in ("keyed", "batching", "rich",
                                                             "filtering", "holding")],
            )
    return results, state


#: fewer examples under valgrind (benchmarks/memcheck.sh), where Python runs ~50x slower, and
#: in a local run than in CI
EXAMPLES = 30 if os.environ.get("AIRLOCK_MEMCHECK") else 300 if os.environ.get("CI") else 100


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(CONTEXTS), calls)
def test_the_kernel_and_the_pure_core_agree(
    kind: str, program: list[tuple[tuple[object, ...], tuple[object, ...], dict[str, object]]]
) -> None:
    compiled = _outcomes(speedups.enqueue, kind, program)
    pure = _outcomes(_enqueue.enqueue, kind, program)
    assert compiled == pure


def test_the_comparison_sees_every_kind_of_outcome() -> None:
    """The generated programs reach the plain path, the delegated ones and the errors."""
    plain = _outcomes(speedups.enqueue, "scope", [((noop,), (1,), {})])
    assert plain == ([None], ([(noop, (1,), {})], [False] * 5))
    for kind in ("tick", "scope"):  # the kernel's own keyed and batch records: as the pure's
        program = [
            ((noop,), (1,), {"_key": "k"}), ((send,), (2,), {}), ((noop,), (3,), {}),
            ((noop,), (4,), {"_name": "n", "_dispatch_options": {"phase": "x"}, "x": 1}),
            ((send,), (5,), {"_origin": "here", "_key": ("k", 2)}),
            ((noop,), (6,), {"_name": None, "x": 2}),  # every option None: the pure path
            ((noop,), (7,), {"_key": None}),
        ]
        assert _outcomes(speedups.enqueue, kind, program) == _outcomes(
            _enqueue.enqueue, kind, program
        )
    keyed = _outcomes(speedups.enqueue, "tick", [((noop,), (), {"_key": "k"})])
    assert keyed[1][0][0][6] == "k"  # type: ignore[index]
    refused = _outcomes(speedups.enqueue, "none", [((3,), (), {})])
    assert refused[0][0][0] is TypeError  # type: ignore[index]
    no_scope = _outcomes(speedups.enqueue, "none", [((noop,), (), {})])
    assert no_scope[0][0][0] is airlock.NoScopeError  # type: ignore[index]
