"""The private Textual hooks the adapter relies on, wrapped here and nowhere else.

- ``MessagePump._dispatch_message(message)``: every App, Screen and Widget runs its message
  loop in its own asyncio task and passes each message (events, messages, ``call_later``
  callbacks, and the ``call_next`` callbacks queued while handling one) through it. The
  wrapper calls the app's listener around each handler run (``begin``/``end``).
- ``MessagePump._process_messages_loop()``: the whole loop of one pump. Textual also runs
  code *between* messages there (``on_idle`` handlers, ``call_next`` callbacks flushed when
  the queue goes idle — which is how ``set_timer`` callbacks run). The wrapper makes the
  app's tick the current airlock target of that task for the loop's lifetime
  (``loop_started``/``loop_ended``), so enqueues there land in the tick.
- ``Worker._run_threaded()``: starts a thread worker's work (``Worker._work``) in the loop's
  default executor, which does not carry the caller's context: the thread sees no airlock
  scope. The wrapper hands Textual ``listener.thread_work(work)`` instead: the same kind of
  work (function, coroutine function or awaitable) that runs with the app's tick as its
  airlock target, so ``airlock.enqueue`` in a ``@work(thread=True)`` worker joins the tick.

Textual has no public hook around every handler of every pump, nor around a thread worker.
Apps that are not ``AirlockApp`` pay one attribute lookup per message. Importing this module
checks the Textual version (``SUPPORTED``, the ``textual`` extra's range) and the hooks'
shape, and fails with ``TextualHookError`` (an ``ImportError``) saying what to install.
``tests/adapters/textual_adapter/test_textual_hook.py`` runs the checks against the oldest
and the newest Textual minor the extra allows.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any, Protocol

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker

__all__ = [
    "SUPPORTED",
    "DispatchListener",
    "TextualHookError",
    "check_hooks",
    "check_version",
    "install_hooks",
]

LISTENER_ATTR = "_airlock_dispatch_listener"
#: the Textual versions the adapter is built and tested for: >= first, < second (the extra)
SUPPORTED = ((8, 0), (9, 0))
INSTALL_HINT = 'pip install "airlock-tick[textual]"'
#: the private methods wrapped (class, name), with the parameters they must have
HOOKS: dict[tuple[type[Any], str], list[str]] = {
    (MessagePump, "_dispatch_message"): ["self", "message"],
    (MessagePump, "_process_messages_loop"): ["self"],
    (Worker, "_run_threaded"): ["self"],
}


class TextualHookError(ImportError):
    """The installed Textual is outside the supported range, or a private method the
    adapter wraps is missing or changed shape."""

    __module__ = "airlock_textual"  # tracebacks name it where users import it from


class DispatchListener(Protocol):
    """What an app offers the hooks: called around each handler run of each of its pumps,
    around each pump's loop, and for the work of each of its thread workers."""

    def begin(self, pump: MessagePump, message: Message) -> Any: ...

    def end(self, handle: Any, error: BaseException | None) -> None: ...

    def loop_started(self) -> Any: ...

    def loop_ended(self, handle: Any) -> None: ...

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
    for (owner, name), expected in HOOKS.items():
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
    original_threaded = originals["_run_threaded"]

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

    async def _run_threaded(self: Worker[Any]) -> Any:
        listener = _listener(self.node)
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
        ((MessagePump, "_dispatch_message"), _dispatch_message),
        ((MessagePump, "_process_messages_loop"), _process_messages_loop),
        ((Worker, "_run_threaded"), _run_threaded),
    ):
        wrapper.__dict__["__airlock_original__"] = originals[name]
        wrapper.__doc__ = originals[name].__doc__
        setattr(owner, name, wrapper)


check_version()
check_hooks()
