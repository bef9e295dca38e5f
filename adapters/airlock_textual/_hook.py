"""The private Textual hooks the adapter relies on, wrapped here and nowhere else.

Wrapped on the class, once (``install_hooks``; each runs once per pump or per worker, never
per message):
- ``MessagePump._process_messages()``: the body of the asyncio task of each Screen and Widget
  (the App runs its own ``App._process_messages``). For a pump of an ``AirlockApp`` the
  wrapper hands the task to the app's listener (``listener.run_pump``), which sets the pump's
  own hooks (below) before Textual dispatches Compose and Mount and makes the app's tick the
  task's airlock target, so that code the task runs between messages (``on_idle`` handlers,
  ``call_next`` callbacks flushed when the queue goes idle — which is how ``set_timer``
  callbacks run) enqueues to the tick. A pump of any other app goes straight to Textual.
- ``Worker._run_threaded()``: starts a thread worker's work (``Worker._work``) in the loop's
  default executor, which does not carry the caller's context: the thread sees no airlock
  scope. The wrapper hands Textual ``listener.thread_work(work)`` instead: the same kind of
  work (function, coroutine function or awaitable) that runs with the app's tick as its
  airlock target, so ``airlock.enqueue`` in a ``@work(thread=True)`` worker joins the tick.

Wrapped per pump, only on the pumps of an ``AirlockApp`` (``PUMP_HOOKS``, set as instance
attributes, which Python finds before the class's methods; ``AirlockApp`` sets them on
itself):
- ``MessagePump._dispatch_message(message)``: every pump passes each message (events,
  messages, ``call_later`` callbacks, and the ``call_next`` callbacks queued while handling
  one) through it, also Compose, Mount and Unmount. The listener's wrapper opens the handler's
  scope around it.
- ``MessagePump._process_messages_loop()``: the loop of one pump, wrapped on the App only
  (its task is not wrapped): the app's tick is that task's airlock target while it loops.
- ``App._process_messages(...)`` (``APP_HOOK``): the body of the App's own task, wrapped on
  the App: the tick is its target from the start, so what Textual runs there outside any
  dispatch and before the loop (the App's reactive watchers called at start-up) enqueues to
  the tick. Its parameters are passed through as they are; only the first is checked.

So apps that are not ``AirlockApp`` pay nothing per message: their pumps keep Textual's own
methods. Textual has no public hook around every handler of every pump, nor around a thread
worker. Importing this module checks the Textual version (``SUPPORTED``, the ``textual``
extra's range) and the hooks' shape, and fails with ``TextualHookError`` (an ``ImportError``)
saying what to install. ``tests/adapters/textual_adapter/test_textual_hook.py`` runs the
checks against the oldest and the newest Textual minor the extra allows.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any, Protocol

from textual.app import App
from textual.message_pump import MessagePump
from textual.worker import Worker

__all__ = [
    "APP_HOOK",
    "HOOKS",
    "PUMP_HOOKS",
    "SUPPORTED",
    "DispatchListener",
    "PumpHooks",
    "TextualHookError",
    "check_hooks",
    "check_version",
    "install_hooks",
    "listener_of",
    "set_pump_hooks",
]

LISTENER_ATTR = "_airlock_dispatch_listener"
#: the Textual versions the adapter is built and tested for: >= first, < second (the extra)
SUPPORTED = ((8, 0), (9, 0))
INSTALL_HINT = 'pip install "airlock-tick[textual]"'
#: the private methods wrapped on the class (class, name), with the parameters they must have
HOOKS: dict[tuple[type[Any], str], list[str]] = {
    (MessagePump, "_process_messages"): ["self"],
    (Worker, "_run_threaded"): ["self"],
}
#: the private methods wrapped on each pump of an AirlockApp, with their parameters
PUMP_HOOKS: dict[tuple[type[Any], str], list[str]] = {
    (MessagePump, "_dispatch_message"): ["self", "message"],
    (MessagePump, "_process_messages_loop"): ["self"],
}

#: the App's own task body, wrapped on the App (its parameters passed through: only ``self``,
#: the first, is checked)
APP_HOOK = (App, "_process_messages")

#: a pump's hooks: Textual's method (unbound) -> the wrapper to set on the pump, by name
PumpHooks = dict[str, Callable[..., Awaitable[Any]]]


class TextualHookError(ImportError):
    """The installed Textual is outside the supported range, or a private method the
    adapter wraps is missing or changed shape."""

    __module__ = "airlock_textual"  # tracebacks name it where users import it from


class DispatchListener(Protocol):
    """What an app offers the hooks: running each of its Screens' and Widgets' tasks (with
    the pump's own hooks set), and the work of each of its thread workers."""

    async def run_pump(
        self, pump: MessagePump, process: Callable[[MessagePump], Awaitable[None]]
    ) -> None: ...

    def thread_work(self, work: Any) -> Any: ...


def _version_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def check_version(version: str | None = None) -> tuple[int, int] | None:
    """Return the installed Textual's (major, minor), or raise if it is not ``SUPPORTED``.

    None when Textual's version cannot be found (no package metadata): the hook checks decide.
    """
    if version is None:
        try:
            version = metadata.version("textual")
        except metadata.PackageNotFoundError:
            return None
    found = re.match(r"(\d+)\.(\d+)", version)
    low, high = SUPPORTED
    wanted = f"textual>={_version_text(low)},<{_version_text(high)}"
    if found is None:
        raise TextualHookError(
            f"cannot read the Textual version {version!r}; airlock_textual needs {wanted}: "
            f"{INSTALL_HINT}"
        )
    major_minor = (int(found[1]), int(found[2]))
    if not low <= major_minor < high:
        raise TextualHookError(
            f"airlock_textual supports {wanted}, but Textual {version} is installed; "
            f"install a supported one with {INSTALL_HINT}"
        )
    return major_minor


def check_hooks() -> dict[str, Callable[..., Awaitable[Any]]]:
    """Return Textual's original hook methods by name, or raise if one changed."""
    originals = {}
    for (owner, name), expected in (HOOKS | PUMP_HOOKS).items():
        where = f"textual.{owner.__module__.rsplit('.', 1)[-1]}.{owner.__qualname__}.{name}"
        method = getattr(owner, name, None)
        original = getattr(method, "__airlock_original__", method)
        if original is None or not inspect.iscoroutinefunction(original):
            raise TextualHookError(
                f"{where} is missing or no longer a coroutine function; this Textual "
                f"release is not supported by airlock_textual — {INSTALL_HINT} installs a "
                "supported one (or update adapters/airlock_textual/_hook.py)"
            )
        params = list(inspect.signature(original).parameters)
        if params != expected:
            raise TextualHookError(
                f"{where} now takes {params}, expected {expected}; {INSTALL_HINT} installs a "
                "supported Textual (or update adapters/airlock_textual/_hook.py)"
            )
        originals[name] = original
    owner, name = APP_HOOK
    method = getattr(owner, name, None)
    if not inspect.iscoroutinefunction(method) or next(
        iter(inspect.signature(method).parameters), None
    ) != "self":
        raise TextualHookError(
            f"textual.app.App.{name} is missing or no longer a coroutine method; this Textual "
            f"release is not supported by airlock_textual — {INSTALL_HINT} installs a "
            "supported one (or update adapters/airlock_textual/_hook.py)"
        )
    return originals


def listener_of(pump: MessagePump) -> DispatchListener | None:
    """The listener of the pump's app (None: not an AirlockApp, or no active app)."""
    try:
        app = pump.app
    except Exception:  # no active app (e.g. a pump used outside any app)
        return None
    return getattr(app, LISTENER_ATTR, None)


def set_pump_hooks(pump: MessagePump, hooks: PumpHooks) -> None:
    """Give ``pump`` its wrappers of ``PUMP_HOOKS`` (instance attributes, found before the
    class's methods)."""
    for name, wrapper in hooks.items():
        setattr(pump, name, wrapper)


def install_hooks() -> None:
    """Wrap the ``HOOKS`` once (idempotent) to call the pump's app's listener."""
    current = getattr(MessagePump, "_process_messages", None)
    if getattr(current, "__airlock_original__", None) is not None:
        return
    originals = check_hooks()
    original_process = originals["_process_messages"]
    original_threaded = originals["_run_threaded"]

    async def _process_messages(self: MessagePump) -> None:
        listener = listener_of(self)
        if listener is None:
            await original_process(self)
        else:
            await listener.run_pump(self, original_process)

    async def _run_threaded(self: Worker[Any]) -> Any:
        listener = listener_of(self.node)
        if listener is None:
            return await original_threaded(self)
        work = self._work
        # Textual reads _work before its first await (to hand it to the executor)
        self._work = listener.thread_work(work)
        try:
            return await original_threaded(self)
        finally:
            self._work = work

    for (owner, name), wrapper in (
        ((MessagePump, "_process_messages"), _process_messages),
        ((Worker, "_run_threaded"), _run_threaded),
    ):
        wrapper.__dict__["__airlock_original__"] = originals[name]
        wrapper.__doc__ = originals[name].__doc__
        setattr(owner, name, wrapper)


check_version()
check_hooks()
