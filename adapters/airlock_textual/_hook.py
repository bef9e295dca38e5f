"""The two private Textual hooks the adapter relies on, wrapped here and nowhere else.

- ``MessagePump._dispatch_message(message)``: every App, Screen and Widget runs its message
  loop in its own asyncio task and passes each message (events, messages, ``call_later``
  callbacks, and the ``call_next`` callbacks queued while handling one) through it. The
  wrapper calls the app's listener around each handler run (``begin``/``end``).
- ``MessagePump._process_messages_loop()``: the whole loop of one pump. Textual also runs
  code *between* messages there (``on_idle`` handlers, ``call_next`` callbacks flushed when
  the queue goes idle — which is how ``set_timer`` callbacks run). The wrapper makes the
  app's tick the current airlock target of that task for the loop's lifetime
  (``loop_started``/``loop_ended``), so enqueues there land in the tick.

Textual has no public hook around every handler of every pump. Apps that are not
``AirlockApp`` pay one attribute lookup per message. ``check_hooks()`` fails loudly
(``TextualHookError``) if a Textual release renames these methods or changes their shape;
``tests/adapters/textual_adapter/test_textual_hook.py`` runs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from textual.message import Message
from textual.message_pump import MessagePump

__all__ = ["DispatchListener", "TextualHookError", "check_hooks", "install_hooks"]

LISTENER_ATTR = "_airlock_dispatch_listener"
#: the private methods wrapped, with the parameters they must have
HOOKS = {"_dispatch_message": ["self", "message"], "_process_messages_loop": ["self"]}


class TextualHookError(RuntimeError):
    """The private Textual method the adapter wraps is missing or changed shape."""


class DispatchListener(Protocol):
    """What an app offers the hook: called around each handler run of each of its pumps."""

    def begin(self, pump: MessagePump, message: Message) -> Any: ...

    def end(self, handle: Any, error: BaseException | None) -> None: ...

    def loop_started(self) -> Any: ...

    def loop_ended(self, handle: Any) -> None: ...


def check_hooks() -> dict[str, Callable[..., Awaitable[None]]]:
    """Return Textual's original hook methods by name, or raise if one changed."""
    originals = {}
    for name, expected in HOOKS.items():
        method = getattr(MessagePump, name, None)
        original = getattr(method, "__airlock_original__", method)
        if original is None or not inspect.iscoroutinefunction(original):
            raise TextualHookError(
                f"textual.message_pump.MessagePump.{name} is missing or no longer a coroutine "
                "function; this Textual release is not supported by airlock_textual (built "
                "for textual 8.x) — pin textual<9 or update adapters/airlock_textual/_hook.py"
            )
        params = list(inspect.signature(original).parameters)
        if params != expected:
            raise TextualHookError(
                f"MessagePump.{name} now takes {params}, expected {expected}; update "
                "adapters/airlock_textual/_hook.py for this Textual release (or pin textual<9)"
            )
        originals[name] = original
    return originals


def _listener(pump: MessagePump) -> DispatchListener | None:
    try:
        app = pump.app
    except Exception:  # no active app (e.g. a pump used outside any app)
        return None
    return getattr(app, LISTENER_ATTR, None)


def install_hooks() -> None:
    """Wrap the hook methods once (idempotent) to call the pump's app's listener."""
    current = getattr(MessagePump, "_dispatch_message", None)
    if getattr(current, "__airlock_original__", None) is not None:
        return
    originals = check_hooks()
    original_dispatch = originals["_dispatch_message"]
    original_loop = originals["_process_messages_loop"]

    async def _dispatch_message(self: MessagePump, message: Message) -> None:
        listener = _listener(self)
        if listener is None:
            await original_dispatch(self, message)
            return
        handle = listener.begin(self, message)
        try:
            await original_dispatch(self, message)
        except BaseException as error:
            listener.end(handle, error)
            raise
        listener.end(handle, None)

    async def _process_messages_loop(self: MessagePump) -> None:
        listener = _listener(self)
        if listener is None:
            await original_loop(self)
            return
        handle = listener.loop_started()
        try:
            await original_loop(self)
        finally:
            listener.loop_ended(handle)

    for name, wrapper in (
        ("_dispatch_message", _dispatch_message),
        ("_process_messages_loop", _process_messages_loop),
    ):
        wrapper.__dict__["__airlock_original__"] = originals[name]
        wrapper.__doc__ = originals[name].__doc__
        setattr(MessagePump, name, wrapper)
