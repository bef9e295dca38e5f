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

import sys
from collections.abc import Callable
from typing import Any

import pytest
from blocks import blocks_grown

import airlock
from airlock import _frame
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


# -- a watched tick's frames: inline (the kernel's close_rich) as in general --------------------


class GeneralTick(airlock.TickScope):
    """Runs every frame the general way (an ``exit`` of its own): the reference."""

    def exit(self, error: BaseException | None = None) -> None:
        super().exit(error)


class Recording(airlock.Observer):
    """Hears every per-intent hook; ``breaks`` names the hooks that raise (``interrupt``: with
    a KeyboardInterrupt)."""

    def __init__(self, heard: list[object], breaks: str = "", interrupt: bool = False) -> None:
        self.heard, self.breaks, self.interrupt = heard, breaks, interrupt

    def _hear(self, hook: str, intent: airlock.Intent) -> None:
        self.heard.append((hook, intent.args, intent.kwargs, intent.dispatch_options))
        if hook in self.breaks:
            raise KeyboardInterrupt(hook) if self.interrupt else ValueError(hook)

    def enqueued(self, intent: airlock.Intent) -> None:
        self._hear("enqueued", intent)

    def dispatched(self, intent: airlock.Intent) -> None:
        self._hear("dispatched", intent)

    def coalesced(self, intent: airlock.Intent) -> None:
        self._hear("coalesced", intent)

    def dropped(self, intent: airlock.Intent) -> None:
        self._hear("dropped", intent)

    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self._hear("failed", intent)


class Flushes(airlock.Observer):
    """Listens to each flush's end (such a tick stays on general frames)."""

    def __init__(self, heard: list[object]) -> None:
        self.heard = heard

    def flushed(self, scope: airlock.Scope) -> None:
        self.heard.append("flushed")


@airlock.phase("late")
def late(*args: Any) -> None:
    ran.append(("late", args))


@airlock.phase("early")
def early(*args: Any) -> None:
    ran.append(("early", args))


@airlock.batch
def gathered(payloads: list[object]) -> None:
    ran.append(("gathered", payloads))


#: story -> (the tick's options, the observer's breaks and interrupt, the frames run inline)
TICK_STORIES: dict[str, tuple[dict[str, Any], str, bool, bool]] = {
    "plain": ({}, "", False, True),
    "keywords and options": ({}, "", False, True),
    "keyed": ({}, "", False, True),
    "phased": ({"order_by": airlock.by_phase("early", "late")}, "", False, True),
    "batched": ({}, "", False, True),
    "enqueued raises": ({}, "enqueued", False, True),
    "enqueued raises, continue": ({"errors": "continue"}, "enqueued", False, True),
    "dispatched raises": ({}, "dispatched", False, True),
    "dispatched raises, continue": ({"errors": "continue"}, "dispatched", False, True),
    "enqueued interrupts": ({"errors": "continue"}, "enqueued", True, True),
    "a failing effect": ({}, "", False, False),
    "a failing effect, continue": ({"errors": "continue"}, "", False, False),
    "a nested scope": ({}, "", False, True),
    "a flushed listener too": ({}, "", False, False),
    "keep_intents=False": ({"keep_intents": False}, "", False, True),
    # a frame that only posts: its own buffer stays empty, the next frame takes the post
    # (and opens the general way: the frames left the mode inline, a post waits)
    "a post, its hook raising": ({}, "enqueued", False, True),
    "a shed post, its hook raising": (
        {"max_pending": 1, "on_full": "drop_newest"}, "dropped", False, True),
}


def _frames_of(story: str, cls: type[airlock.TickScope]) -> list[object]:
    """Four frames of ``story`` on a tick of ``cls``: what each left, and whether the frames
    after the first ran inline."""
    options, breaks, interrupt, _ = TICK_STORIES[story]
    ran.clear()
    heard: list[object] = []
    observers: list[airlock.Observer] = [Recording(heard, breaks, interrupt)]
    if story == "a flushed listener too":
        observers.append(Flushes(heard))
    tick = cls(observers=observers, **options)
    enqueue = airlock.enqueue
    seen: list[object] = []
    inline = []
    for frame in range(4):
        heard.clear()
        ran.clear()
        outcome: object = None
        try:
            with tick:
                if story == "phased":
                    enqueue(late, frame)
                    enqueue(early, frame)
                elif story == "batched":
                    enqueue(gathered, frame)
                    enqueue(gathered, frame + 10)
                    enqueue(effect, frame)
                elif story == "keyed":
                    enqueue(effect, frame, _key="k")
                    enqueue(effect, frame + 10, _key="k")
                    enqueue(effect, frame + 20)
                elif story == "keywords and options":
                    enqueue(effect, frame, flag=True)
                    enqueue(effect, frame + 1, _name="named", _dispatch_options={"q": 1})
                elif "post" in story:
                    tick.post(effect, frame)
                    if "shed" in story:
                        tick.post(effect, frame + 10)
                elif story == "a nested scope":
                    enqueue(effect, frame)
                    with airlock.scope():
                        enqueue(effect, frame + 10)
                else:
                    enqueue(effect, frame)
                    if story.startswith("a failing effect") and frame % 2:
                        enqueue(_fails, frame)
                    enqueue(effect, frame, 3)
        except BaseException as exc:  # the story's outcome, whatever it is
            outcome = (type(exc), str(exc))
        stats = tick.stats
        seen.append((list(heard), list(ran), outcome, stats.enqueued, stats.dispatched,
                     stats.failed, stats.coalesced, stats.batched, stats.undispatched,
                     stats.hook_errors, stats.balance_error(), tick.pending))
        if frame:
            inline.append(tick._inline in (_frame.IDLE, _frame.KEPT))
    tick.close()
    return [seen, all(inline)]


@pytest.mark.parametrize("story", list(TICK_STORIES))
@pytest.mark.parametrize("compiled", sorted(set(CORES)))
def test_a_watched_ticks_frames_run_inline_and_leave_what_general_frames_leave(
    story: str, compiled: bool
) -> None:
    """Observers that watch each intent (and no ``flushed`` listener) leave a tick its inline
    frames: the pipeline runs on the Intents in the frame's close (in C on the kernel), and
    each frame leaves what a general frame leaves, hooks' errors and failures included."""
    with core(compiled):
        inline_seen, ran_inline = _frames_of(story, airlock.TickScope)
        general_seen, ran_general = _frames_of(story, GeneralTick)
    assert inline_seen == general_seen
    assert not ran_general
    assert ran_inline is TICK_STORIES[story][3]


@pytest.mark.skipif(KERNEL is None, reason="airlock._speedups is not built here")
def test_the_kernel_closes_a_watched_frame_without_the_pure_flush() -> None:
    """After its first frame, a watched tick's frames open and close in C: no Python function
    of the core's flush runs, only the effects and the observers' hooks."""
    heard: list[object] = []
    called: list[str] = []

    def profile(frame: Any, event: str, arg: object) -> None:
        if event == "call" and "/airlock/" in frame.f_code.co_filename:
            called.append(frame.f_code.co_name)

    with core(True):
        tick = airlock.tick_scope(observers=[Recording(heard)])
        for _ in range(2):
            with tick:
                airlock.enqueue(effect, 1)
        sys.setprofile(profile)
        try:
            with tick:
                airlock.enqueue(effect, 2)
                airlock.enqueue(effect, 3)
        finally:
            sys.setprofile(None)
        tick.close()
    assert set(called) <= {"__len__"}  # (the held effects' store, counted for ``pending``)
    assert [h[0] for h in heard[-4:]] == ["enqueued", "enqueued", "dispatched", "dispatched"]


@pytest.mark.skipif(KERNEL is None, reason="airlock._speedups is not built here")
def test_watched_inline_frames_leave_no_blocks_behind() -> None:
    observers = [Recording([])]
    with core(True):
        tick = airlock.tick_scope(observers=observers)

        def frames(n: int) -> None:
            for i in range(n):
                observers[0].heard.clear()
                with tick:
                    airlock.enqueue(len, (i,))
                    airlock.enqueue(len, "x", _key=i % 2)

        try:
            assert blocks_grown(frames, 200, 5_000) < 100
        finally:
            tick.close()
