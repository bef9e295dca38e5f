"""One frame per tick feature, used as documented, and the same work written by hand.

Every frame enqueues K no-op effects (``effect(i)`` for i in 0..K-1) and then runs what the
feature lets through. The airlock frame is ``with tick: body()`` on one reused
``airlock.tick_scope()``; the hand-written frame is ``body(); flush()`` over a buffer shaped
for the feature, the cheapest code doing the same work for this workload (the same calls, in
the same order: ``benchmarks/test_features.py`` checks it). Each body is one closure in both,
so the two pay the same per-frame call.

A feature's body differs from the plain one only by the feature: what an enqueue passes for
it (a key, a phased task, options) is prepared with the frame, one list item per enqueue, so
the frame times the feature, not the computing of its arguments; a phased task is the effect
itself with its phase bound (``effects.phased_tasks``), one call per intent as in plain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import airlock

from .bodies import then
from .effects import PHASES, Effect, phased_tasks

__all__ = ["FEATURES", "PLAIN", "Feature", "FrameBuilder"]

Frame = Callable[[], None]
FrameBuilder = Callable[[int, Effect], Frame]
Entry = tuple[Callable[..., Any], tuple[Any, ...]]

PLAIN = "plain"
_RANK = {name: rank for rank, name in enumerate(PHASES)}
_OPTIONS = {"queue": "fast"}  # dispatch options the sync executor receives and ignores
_PHASE_OPTIONS = [{"phase": name} for name in reversed(PHASES)]  # reverse order, as the tasks


@dataclass(frozen=True)
class Feature:
    """A tick feature: how airlock does it and how the same work is written by hand."""

    name: str  # short, for the command line and the measurement keys
    title: str  # as documented
    ours: FrameBuilder
    hand: FrameBuilder
    hand_note: str  # what the hand-written equivalent does


def _tick(body: Callable[[], None], **options: Any) -> Frame:
    tick = airlock.tick_scope(**options)

    def frame() -> None:
        with tick:
            body()

    return frame


def _run_list(buffer: list[Entry]) -> Callable[[], None]:
    """The flush of a ``(fn, args)`` list buffer: call each, then clear."""

    def flush() -> None:
        for fn, args in buffer:
            fn(*args)
        buffer.clear()

    return flush


# -- plain ---------------------------------------------------------------------------------


def plain_body(k: int, effect: Effect) -> Callable[[], None]:
    enqueue = airlock.enqueue

    def body() -> None:
        for i in range(k):
            enqueue(effect, i)

    return body


def plain_ours(k: int, effect: Effect) -> Frame:
    return _tick(plain_body(k, effect))


def plain_hand(k: int, effect: Effect) -> Frame:
    buffer: list[Entry] = []
    append = buffer.append

    def body() -> None:
        for i in range(k):
            append((effect, (i,)))

    return then(body, _run_list(buffer))


# -- _key coalescing -------------------------------------------------------------------------


def _keyed_ours(key_of: Callable[[int], object]) -> FrameBuilder:
    def build(k: int, effect: Effect) -> Frame:
        enqueue, keys = airlock.enqueue, [key_of(i) for i in range(k)]

        def body() -> None:
            for i in range(k):
                enqueue(effect, i, _key=keys[i])

        return _tick(body)

    return build


def _keyed_hand(key_of: Callable[[int], object]) -> FrameBuilder:
    """A dict from key to the last entry. (Airlock runs a survivor at its last enqueue's
    place; with all keys distinct, or only one, the dict's order is the same.)"""

    def build(k: int, effect: Effect) -> Frame:
        keyed: dict[object, Entry] = {}
        keys = [key_of(i) for i in range(k)]

        def body() -> None:
            for i in range(k):
                keyed[keys[i]] = (effect, (i,))

        def flush() -> None:
            for fn, args in keyed.values():
                fn(*args)
            keyed.clear()

        return then(body, flush)

    return build


def _distinct(i: int) -> object:
    return i


def _one(i: int) -> object:
    return "frame"


# -- @airlock.batch --------------------------------------------------------------------------


def batch_ours(k: int, effect: Effect) -> Frame:
    enqueue = airlock.enqueue
    send: Any = airlock.batch(effect)  # a Batch is enqueued, not called

    def body() -> None:
        for i in range(k):
            enqueue(send, i)

    return _tick(body)


def batch_hand(k: int, effect: Effect) -> Frame:
    payloads: list[Any] = []

    def body() -> None:
        append = payloads.append
        for i in range(k):
            append(i)

    def flush() -> None:
        nonlocal payloads
        batch, payloads = payloads, []
        if batch:
            effect(batch)

    return then(body, flush)


# -- ordering by phase -----------------------------------------------------------------------


def _by_phase(body: Callable[[], None]) -> Frame:
    return _tick(body, order_by=airlock.by_phase(*PHASES))


def _cycled(items: list[Any], k: int) -> list[Any]:
    """``items`` in turn, ``k`` of them: what each of a frame's ``k`` enqueues uses."""
    return [items[i % len(items)] for i in range(k)]


def phase_task_ours(k: int, effect: Effect) -> Frame:
    enqueue, tasks = airlock.enqueue, _cycled(phased_tasks(effect), k)

    def body() -> None:
        for i in range(k):
            enqueue(tasks[i], i)

    return _by_phase(body)


def _task_rank(entry: Entry) -> int:
    return _RANK[entry[0].airlock_phase]  # type: ignore[attr-defined]


def phase_task_hand(k: int, effect: Effect) -> Frame:
    buffer: list[Entry] = []
    append, tasks = buffer.append, _cycled(phased_tasks(effect), k)
    run = _run_list(buffer)

    def body() -> None:
        for i in range(k):
            append((tasks[i], (i,)))

    def flush() -> None:
        buffer.sort(key=_task_rank)
        run()

    return then(body, flush)


def phase_option_ours(k: int, effect: Effect) -> Frame:
    enqueue, options = airlock.enqueue, _cycled(_PHASE_OPTIONS, k)

    def body() -> None:
        for i in range(k):
            enqueue(effect, i, _dispatch_options=options[i])

    return _by_phase(body)


PhasedEntry = tuple[Callable[..., Any], tuple[Any, ...], str]


def _option_rank(entry: PhasedEntry) -> int:
    return _RANK[entry[2]]


def phase_option_hand(k: int, effect: Effect) -> Frame:
    buffer: list[PhasedEntry] = []
    append, names = buffer.append, _cycled([o["phase"] for o in _PHASE_OPTIONS], k)

    def body() -> None:
        for i in range(k):
            append((effect, (i,), names[i]))

    def flush() -> None:
        buffer.sort(key=_option_rank)
        for fn, args, _ in buffer:
            fn(*args)
        buffer.clear()

    return then(body, flush)


# -- a local policy --------------------------------------------------------------------------


def policy_ours(k: int, effect: Effect) -> Frame:
    enqueue, policy, allow = airlock.enqueue, airlock.policy, airlock.AllowAll()

    def body() -> None:
        with policy(allow):
            for i in range(k):
                enqueue(effect, i)

    return _tick(body)


Allows = Callable[[Callable[..., Any], tuple[Any, ...]], bool]
PolicedEntry = tuple[Callable[..., Any], tuple[Any, ...], Allows]


def _allow_all(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    return True


def policy_hand(k: int, effect: Effect) -> Frame:
    """Each entry carries the policy in force where it was enqueued, asked at flush."""
    buffer: list[PolicedEntry] = []
    append = buffer.append

    def body() -> None:
        allows = _allow_all
        for i in range(k):
            append((effect, (i,), allows))

    def flush() -> None:
        for fn, args, allows in buffer:
            if allows(fn, args):
                fn(*args)
        buffer.clear()

    return then(body, flush)


# -- observers -------------------------------------------------------------------------------


class Watching(airlock.Observer):
    """Overrides the two hooks every intent of a plain frame passes (doing nothing in them)."""

    def enqueued(self, intent: airlock.Intent) -> None:
        pass

    def dispatched(self, intent: airlock.Intent) -> None:
        pass


def _observed_ours(observer: type[airlock.Observer]) -> FrameBuilder:
    def build(k: int, effect: Effect) -> Frame:
        return _tick(plain_body(k, effect), observers=[observer()])

    return build


def _ignore(entry: Entry) -> None:
    pass


def hooks_hand(k: int, effect: Effect) -> Frame:
    """Two hooks called with each entry: when it is buffered and after it ran."""
    buffer: list[Entry] = []
    append, enqueued, dispatched = buffer.append, _ignore, _ignore

    def body() -> None:
        for i in range(k):
            entry = (effect, (i,))
            append(entry)
            enqueued(entry)

    def flush() -> None:
        for entry in buffer:
            fn, args = entry
            fn(*args)
            dispatched(entry)
        buffer.clear()

    return then(body, flush)


# -- _dispatch_options -----------------------------------------------------------------------


def options_ours(k: int, effect: Effect) -> Frame:
    enqueue, options = airlock.enqueue, _OPTIONS

    def body() -> None:
        for i in range(k):
            enqueue(effect, i, _dispatch_options=options)

    return _tick(body)


OptionedEntry = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def options_hand(k: int, effect: Effect) -> Frame:
    """Entries keep their options for the executor (a direct call, which ignores them)."""
    buffer: list[OptionedEntry] = []
    append, options = buffer.append, _OPTIONS

    def body() -> None:
        for i in range(k):
            append((effect, (i,), options))

    def flush() -> None:
        for fn, args, _ in buffer:
            fn(*args)
        buffer.clear()

    return then(body, flush)


FEATURES = (
    Feature(PLAIN, "plain `enqueue(f, i)`", plain_ours, plain_hand,
            "append `(fn, args)` to a list; at frame end call each, clear"),
    Feature("key-distinct", "`_key` coalescing, distinct keys", _keyed_ours(_distinct),
            _keyed_hand(_distinct), "`d[key] = (fn, args)`; at frame end call each value"),
    Feature("key-one", "`_key` coalescing, one key", _keyed_ours(_one), _keyed_hand(_one),
            "`d[key] = (fn, args)`; at frame end call each value"),
    Feature("batch", "`@airlock.batch` effect", batch_ours, batch_hand,
            "append the payload to a list; at frame end one handler call"),
    Feature("phase-task", "`order_by=by_phase(...)`, `@airlock.phase` tasks", phase_task_ours,
            phase_task_hand, "append `(fn, args)`; at frame end one stable sort by phase"),
    Feature("phase-option", "phase in `_dispatch_options`, `by_phase`", phase_option_ours,
            phase_option_hand, "append `(fn, args, phase)`; one stable sort by phase"),
    Feature("policy", "inside `airlock.policy(AllowAll())`", policy_ours, policy_hand,
            "append `(fn, args, allows)`; at frame end call each that `allows`"),
    Feature("observer", "one `Observer` attached, overriding nothing",
            _observed_ours(airlock.Observer), plain_hand,
            "the plain list buffer (no hooks to call)"),
    Feature("observer-hooks", "one `Observer` overriding `enqueued`/`dispatched`",
            _observed_ours(Watching), hooks_hand,
            "the list buffer calling two no-op hooks per entry"),
    Feature("options", "`_dispatch_options={...}`", options_ours, options_hand,
            "append `(fn, args, options)`; at frame end call each"),
)
