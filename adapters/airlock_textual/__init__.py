"""airlock for Textual 8: one airlock tick per burst of message handling.

``class MyApp(AirlockApp, App[None])`` makes ``airlock.enqueue(...)`` work in every handler of
the app, in its thread workers and in ``call_from_thread`` callbacks; effects run once per
tick, after the handlers, on the app's thread (see ``_app.py`` and ``_driver.py``).

Needs Textual 8: ``pip install "airlock-tick[textual]"``.
"""

try:
    import textual as _textual  # noqa: F401  (checked first, to name the extra if missing)
except ModuleNotFoundError as _missing:
    if _missing.name != "textual":
        raise  # Textual is there but broken (one of its own dependencies is missing)
    raise ImportError(
        "airlock_textual needs Textual, which is not installed; install it with: "
        'pip install "airlock-tick[textual]"'
    ) from _missing

from ._app import AirlockApp
from ._driver import TickDriver
from ._handler_scope import HandlerScope
from ._hook import SUPPORTED, TextualHookError, check_hooks, check_version, install_hooks
from ._inspector import EffectInspector, tick_summary
from ._recorder import EffectRecorder, IntentRecord, TickRecord

__all__ = [
    "SUPPORTED",
    "AirlockApp",
    "EffectInspector",
    "EffectRecorder",
    "HandlerScope",
    "IntentRecord",
    "TextualHookError",
    "TickDriver",
    "TickRecord",
    "check_hooks",
    "check_version",
    "install_hooks",
    "tick_summary",
]
