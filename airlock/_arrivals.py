"""A tick's arrivals while no frame is open: ``post()`` from any thread, and an entry made
between frames (an effect running during the flush, a task or thread that kept the tick's
context, an enqueue whose frame ended while its hooks ran).

Rules:
- Both join the next frame, in arrival order, unless the tick is closed: then ``post()``
  raises ``ScopeStateError`` and an enqueue is refused (``enqueue_refused``). Either way the
  hooks already ran on the calling thread, so a refused entry's observers hear its fate
  (``leave_hooked``).
- The thread that runs the frames never waits for room in a bounded inbox: it would wait for
  itself.
"""

from __future__ import annotations

from _thread import get_ident
from typing import TYPE_CHECKING, Any, NoReturn

from ._enqueue import _RESERVED_SET, check_task, options_from
from ._entry import leave_hooked, make_entry, refusal
from ._errors import ScopeStateError
from ._inbox import CLOSED
from ._policies import any_judges
from ._record import PLAIN, TASK, to_intent
from ._stats import effect_label

if TYPE_CHECKING:
    from ._intent import IntentOptions
    from ._policies import Policy
    from ._tick import TickScope

__all__ = ["add_between_frames", "post_to"]


def post_to(tick: TickScope, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """``tick.post(task, *args, **kwargs)``."""
    options: IntentOptions | None = None
    if kwargs and not _RESERVED_SET.isdisjoint(kwargs):
        options = options_from(kwargs)
    check_task(task, "tick.post()")
    inbox = tick._inbox
    if inbox.closed:
        refuse_post(tick, task)
    entry = make_entry(tick, task, args, kwargs, options, ())
    try:
        shed = inbox.put(entry, may_wait=get_ident() != tick._owner)
    except BaseException:  # on_full="raise" (or an interrupt while it waited for room)
        leave_hooked(tick, entry)  # (its observers heard it enqueued: now its fate)
        raise
    if shed is not None:
        if shed is CLOSED:  # close() began after the test above
            leave_hooked(tick, entry)
            refuse_post(tick, task)
        if tick._plan.watching:
            tick._tell("dropped", to_intent(shed, tick))
    tick.on_waiting()


def refuse_post(tick: TickScope, task: Any) -> NoReturn:
    raise ScopeStateError(f"{tick!r} is closed; nothing will run {effect_label(task)}")


def add_between_frames(
    tick: TickScope, entry: Any, options: IntentOptions | None,
    local_policies: tuple[Policy, ...],
) -> None:
    """An entry made while no frame is open: into the buffer for the next frame, unless the
    tick is closed."""
    with tick._lock:
        added = not tick._closed
        if added:
            if len(entry) == PLAIN:
                tick._buffer.append(entry)
            else:
                tick._buffer.add(entry, bool(local_policies) and any_judges(local_policies))
    if not added:
        task = entry[TASK]
        try:
            tick.enqueue_refused(task, refusal(tick, task, options))
        finally:
            leave_hooked(tick, entry)
        return
    tick.on_waiting()
