"""airlock: express side effects anywhere; the top of the program decides when and whether they run.

Scopes decide *when* (``airlock.scope()``, ``airlock.tick_scope()``), policies decide *whether*
(``airlock.policy()``, ``AllowAll``, ``DropAll``...), executors decide *how* (plain callables).
``configure()`` sets the process-wide defaults, ``get_configuration()`` reads them and
``reset_configuration()`` restores them. ``compiled`` says whether the optional compiled
kernel (``airlock._speedups``) runs ``enqueue``'s plain path.
"""

from ._batch import Batch, batch
from ._cadence import Cadence, debounce, throttle
from ._configure import configure, get_configuration, reset_configuration
from ._context import get_current_scope
from ._current import get_enqueue_target, reset_current_scope, set_current_scope
from ._enqueue import scoped
from ._errors import (
    AirlockError,
    BacklogFullError,
    NoScopeError,
    PolicyEnqueueError,
    PolicyViolation,
    ScopeStateError,
    UsageError,
)
from ._executor import Executor
from ._greenlet import check_greenlet as _check_greenlet
from ._intent import Intent
from ._kernel import compiled, enqueue, policy, scope
from ._observe import Observer, report_background_failure
from ._ordering import by_phase, phase
from ._policies import AllowAll, AssertNoEffects, BlockTasks, DropAll, LogOnFlush, Policy
from ._record import phase_of
from ._scope import FlushStats, Scope
from ._tick import TickScope, tick_scope

__version__ = "0.1.0"

__all__ = [
    "AirlockError",
    "AllowAll",
    "AssertNoEffects",
    "BacklogFullError",
    "Batch",
    "BlockTasks",
    "Cadence",
    "DropAll",
    "Executor",
    "FlushStats",
    "Intent",
    "LogOnFlush",
    "NoScopeError",
    "Observer",
    "Policy",
    "PolicyEnqueueError",
    "PolicyViolation",
    "Scope",
    "ScopeStateError",
    "TickScope",
    "UsageError",
    "batch",
    "by_phase",
    "compiled",
    "configure",
    "debounce",
    "enqueue",
    "get_configuration",
    "get_current_scope",
    "get_enqueue_target",
    "phase",
    "phase_of",
    "policy",
    "report_background_failure",
    "reset_configuration",
    "reset_current_scope",
    "scope",
    "scoped",
    "set_current_scope",
    "throttle",
    "tick_scope",
]

_check_greenlet()
