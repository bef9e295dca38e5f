"""airlock for Textual 8: one airlock tick per burst of message handling.

``class MyApp(AirlockApp, App[None])`` makes ``airlock.enqueue(...)`` work in every handler of
the app; effects run once per tick, after the handlers (see ``_app.py`` and ``_driver.py``).
"""

from ._app import AirlockApp
from ._driver import TickDriver
from ._handler_scope import HandlerScope
from ._hook import TextualHookError, check_hooks, install_hooks
from ._inspector import EffectInspector, tick_summary
from ._recorder import EffectRecorder, IntentRecord, TickRecord

__all__ = [
    "AirlockApp",
    "EffectInspector",
    "EffectRecorder",
    "HandlerScope",
    "IntentRecord",
    "TextualHookError",
    "TickDriver",
    "TickRecord",
    "check_hooks",
    "install_hooks",
    "tick_summary",
]
