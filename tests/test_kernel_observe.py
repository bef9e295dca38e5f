"""The kernel's observed scopes: into a scope whose observers watch each intent, the common
enqueue builds its Intent, tells the observers and appends it in C (``enqueue_observed``, the
twin of ``_entry.enqueue_intent``, ``make_entry`` and ``run_enqueue_hooks``), and the flush's
dispatch loop tells them ``dispatched`` in C (``call_each``'s watched variant, the twin of
``_dispatch.dispatch``'s).

Each story runs on the kernel (``benchmarks.cores.core(True)``) and again on the pure core;
what the observers heard, what the buffer holds, the flush's outcome and stats must be the
same. Where the kernel is not built both runs are pure, and the stories still check the pure
path's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from blocks import blocks_grown

import airlock
from airlock._observe import ObserverSet
from benchmarks.cores import core, kernel

KERNEL = kernel()
CORES = [True, False] if KERNEL is not None else [False, False]


def effect(*args: Any, **kwargs: Any) -> None:
    ran.append((args, kwargs))


ran: list[object] = []


class Hearing(airlock.Observer):
    """Remembers what it hears per intent; its ``enqueued`` may be given something to do."""

    def __init__(self, heard: list[object], then: Callable[[airlock.Intent], None] | None = None):
        self.heard, self.then = heard, then

    def enqueued(self, intent: airlock.Intent) -> None:
        self.heard.append(("enqueued", id(self), type(intent), _fields(intent, intent.scope),
                           intent))
        if self.then is not None:
            self.then(intent)

    def dispatched(self, intent: airlock.Intent) -> None:
        self.heard.append(("dispatched", id(self), intent.args))


class FlushOnly(airlock.Observer):
    """Hears flushes only (it watches no intent)."""

    def flushed(self, scope: airlock.Scope) -> None:
        ran.append("flushed")


class Hooked(airlock.Policy):
    def on_enqueue(self, intent: airlock.Intent) -> None:
        ran.append(("on_enqueue", intent.args))


BLOCK_POLICY = airlock.AllowAll()


def _fields(entry: Any, scope: object) -> tuple[object, ...]:
    """An entry's fields, its scope shown as "scope" (scopes compare by identity)."""
    return tuple("scope" if field is scope else field for field in entry)


def _raise(error: BaseException) -> Callable[[airlock.Intent], None]:
    def then(intent: airlock.Intent) -> None:
        raise error

    return then


def _fails(*args: Any) -> None:
    raise RuntimeError("the effect failed")


class Dispatching(Hearing):
    """Its ``dispatched`` raises."""

    def dispatched(self, intent: airlock.Intent) -> None:
        super().dispatched(intent)
        raise LookupError("dispatched broke")


STORIES = ["one observer", "two observers", "a flush-only one too", "raising",
           "interrupting", "enqueues in its hook", "keywords", "options", "a tick",
           "hooked policy", "policy block", "not callable", "a failing effect",
           "a failing effect, continue", "dispatched raises", "another executor",
           "replaces the set"]


def _story(story: str, compiled: bool) -> list[object]:
    with core(compiled):
        return _story_on(story, airlock.enqueue)


def _story_on(story: str, enqueue: Callable[..., None]) -> list[object]:
    ran.clear()
    heard: list[object] = []
    then = {"raising": _raise(ValueError("observer broke")),
            "interrupting": _raise(KeyboardInterrupt()),
            "enqueues in its hook": lambda intent: (
                enqueue(effect, "from the hook") if intent.args != ("from the hook",) else None
            )}.get(story)
    observers: list[airlock.Observer] = [
        (Dispatching if story == "dispatched raises" else Hearing)(heard, then)]
    if story == "replaces the set":  # the first hook swaps the scope's observer set (the
        second = Hearing(heard)  # kernel holds the one it is telling)

        def then(intent: airlock.Intent) -> None:
            if intent.args == (1,):
                scope._observing = ObserverSet((second,))

        observers = [Hearing(heard, then)]
    if story == "two observers":
        observers.append(Hearing(heard))
    if story == "a flush-only one too":
        observers.insert(0, FlushOnly())
    options: dict[str, Any] = {"observers": observers}
    if story.endswith("continue"):
        options["errors"] = "continue"
    if story == "another executor":
        options["executor"] = lambda intent: intent.task(*intent.args, **intent.kwargs)
    scope: Any = (airlock.tick_scope(**options) if story == "a tick" else
                  airlock.Scope(Hooked() if story == "hooked policy" else None, **options))
    seen: list[object] = []
    try:
        with scope:
            if story == "policy block":
                with airlock.policy(BLOCK_POLICY):
                    enqueue(effect, 1)
            elif story == "not callable":
                with pytest.raises(TypeError) as info:
                    enqueue(42)
                seen.append(str(info.value))
            else:
                enqueue(effect, 1)
                if story.startswith("a failing effect"):
                    enqueue(_fails)
                enqueue(effect, 2, 3)
            if story == "keywords":
                enqueue(effect, 4, flag=True)
            if story == "options":
                enqueue(effect, 5, _name="named", _key="k")
            buffer = scope._buffer
            seen.append([(type(entry), _fields(entry, scope)) for entry in buffer])
            seen.append([any(entry is h[-1] for h in heard) for entry in buffer])
            seen.append((buffer.rich, buffer.keyed))
    except BaseException as exc:  # the story's outcome, whatever it is
        seen.append((type(exc), str(exc)))
    stats = scope.stats
    seen += [heard, list(ran),
             (stats.enqueued, stats.dispatched, stats.failed, stats.undispatched,
              stats.hook_errors)]
    if story == "a tick":
        scope.close()
    if story == "replaces the set":
        observers.append(second)  # (its id too is shown by position)
    return [_without_ids(item, observers) for item in seen]


def _without_ids(item: object, observers: list[airlock.Observer]) -> object:
    """``item`` with each observer's id replaced by its position (ids differ per run)."""
    ids = {id(o): index for index, o in enumerate(observers)}
    if isinstance(item, list):
        return [_without_ids(i, observers) for i in item]
    if isinstance(item, tuple) and len(item) > 1 and item[0] == "enqueued":
        return (item[0], ids.get(item[1], item[1]), *item[2:4])  # (not the intent itself)
    if isinstance(item, tuple) and len(item) > 1 and item[0] == "dispatched":
        return (item[0], ids.get(item[1], item[1]), *item[2:])
    return item


@pytest.mark.parametrize("story", STORIES)
def test_an_observed_scope_leaves_what_the_pure_one_leaves(story: str) -> None:
    compiled, pure = CORES
    assert _story(story, compiled) == _story(story, pure)


def test_an_observed_scope_hears_each_intent_once_and_holds_that_intent() -> None:
    """What the story "one observer" must leave, whichever enqueue runs it."""
    for compiled in CORES:
        seen = _story("one observer", compiled)
        entries, held_heard, flags, heard, _, stats = seen
        assert [entry[0] for entry in entries] == [airlock.Intent, airlock.Intent]  # type: ignore[index]
        assert held_heard == [True, True] and flags == (True, False)
        assert [h[0] for h in heard] == ["enqueued", "enqueued", "dispatched", "dispatched"]  # type: ignore[index]
        assert heard[0][3][1:5] == ((1,), {}, None, {})  # type: ignore[index]  # Intent's defaults
        assert stats == (2, 2, 0, 0, 0)


@pytest.mark.parametrize(("story", "error"), [("raising", ValueError),
                                              ("interrupting", KeyboardInterrupt)])
def test_an_observers_error_at_enqueue_is_raised_when_the_flush_ends_and_nothing_is_lost(
    story: str, error: type[BaseException]
) -> None:
    """The enqueue itself never raises it: the flush runs both effects, then raises the first
    observer error (``errors="raise"``) and counts both as hook errors."""
    for compiled in CORES:
        seen = _story(story, compiled)
        assert seen[3][0] is error  # type: ignore[index]
        assert seen[-1] == (2, 2, 0, 0, 2)


@pytest.mark.skipif(KERNEL is None, reason="airlock._speedups is not built here")
def test_observed_scopes_leave_no_blocks_behind() -> None:
    enqueue = KERNEL.enqueue  # type: ignore[union-attr]
    scope_observers = [Hearing([])]

    def lives(n: int) -> None:
        for i in range(n):
            scope_observers[0].heard.clear()
            with airlock.Scope(observers=scope_observers):
                enqueue(len, (i,))
                enqueue(len, "x")

    assert blocks_grown(lives, 200, 5_000) < 100
