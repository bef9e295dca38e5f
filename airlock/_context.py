"""Where the current scope lives: one ContextVar, plus local policy views over it.

The ContextVar holds an *enqueue target*: a ``Scope``, a ``PolicyView`` (a scope seen through
``airlock.policy(...)``), ``POLICY_GUARD`` while policy code runs (``on_enqueue``, and
``allows`` at flush), or ``NO_SCOPE`` (the default). Every target has ``_accepting``: True
only when an ``enqueue()`` may take the plain fast path, so that path needs no other test of
what it found.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from ._errors import NoScopeError, ScopeStateError
from ._policies import Policy, any_judges, check_policy, has_enqueue_hook

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = [
    "NO_SCOPE", "POLICY_GUARD", "PolicyBlock", "PolicyView", "close_context", "current_target",
    "get_current_scope", "policy", "runs_inside",
]


class _NoScope:
    """The target where no scope is open: enqueue() refuses."""

    __slots__ = ()
    _accepting = False

    def __repr__(self) -> str:
        return "NO_SCOPE"


NO_SCOPE = _NoScope()
current_target: ContextVar[Any] = ContextVar("airlock_current_target", default=NO_SCOPE)


class PolicyView:
    """A scope as seen inside ``airlock.policy(...)``: enqueues carry these local policies."""

    __slots__ = ("filtering", "hooked", "policies", "scope")
    _accepting = False

    def __init__(self, scope: Scope, policies: tuple[Policy, ...]) -> None:
        self.scope = scope
        self.policies = policies  # innermost first
        #: some local policy has an ``on_enqueue`` (every enqueue builds an Intent for it)
        self.hooked = any(map(has_enqueue_hook, policies))
        #: some local policy may refuse (the flush's filter stage must ask)
        self.filtering = any_judges(policies)

    @property
    def accepting(self) -> bool:
        """True when an enqueue here may append a record to the open scope directly."""
        scope = self.scope
        return not self.hooked and scope._state == "active" and not scope._plan.enqueue_hooked


class _PolicyGuard:
    """Stands as the current target while policies run (on_enqueue, allows), so enqueue()
    refuses."""

    __slots__ = ()
    _accepting = False


POLICY_GUARD = _PolicyGuard()


def resolve(target: Any) -> tuple[Scope | None, tuple[Policy, ...]]:
    """The scope behind a target and the local policies it adds."""
    if type(target) is PolicyView:
        return target.scope, target.policies
    if target is NO_SCOPE or target is POLICY_GUARD:
        return None, ()
    return target, ()


def get_current_scope() -> Scope | None:
    """The innermost scope open in this context, or None."""
    return resolve(current_target.get())[0]


def policy(p: Policy) -> PolicyBlock:
    """Apply ``p`` (as well as the scope's policy) to intents enqueued inside this block.

    Local policies share the scope's buffer; at flush the innermost runs first.
    """
    return PolicyBlock(check_policy(p))


class PolicyBlock(ContextDecorator):
    """``with airlock.policy(p):`` (or ``@airlock.policy(p)`` on a function): enqueues
    inside carry ``p`` as a local policy, through a ``PolicyView`` of the open scope.

    (Where the kernel runs, ``__enter__``/``__exit__`` are its ``policy_enter``/``policy_exit``,
    which open the common block themselves and call these for the rest: keep them in sync,
    and ``PolicyView.__init__`` with the view they build.)"""

    __slots__ = ("_token", "policy")

    def __init__(self, p: Policy) -> None:
        self.policy = p
        self._token: Token[Any] | None = None

    def __enter__(self) -> None:
        if self._token is not None:
            raise RuntimeError(
                f"this airlock.policy({self.policy!r}) block is open already; call "
                "airlock.policy(...) again for another block"
            )
        scope, outer = resolve(current_target.get())
        if scope is None:
            raise NoScopeError(
                f"airlock.policy({self.policy!r}) needs an open scope and was called without "
                "an active airlock.scope(); wrap it in `with airlock.scope():`"
            )
        ambient = getattr(scope, "_ambient_policies", ())
        self._token = current_target.set(PolicyView(scope, (self.policy, *(outer or ambient))))

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        if token is not None:
            current_target.reset(token)

    def _recreate_cm(self) -> PolicyBlock:
        """A fresh block per call of a decorated function (calls may overlap: threads,
        recursion)."""
        return PolicyBlock(self.policy)


def close_context(scope: Scope) -> None:
    """Reset the ContextVar to what it was before ``scope`` was entered (``Scope.exit()``)."""
    token = scope._token
    if token is not None:
        try:
            current_target.reset(token)
        except ValueError:  # the token belongs to another context: keep it for a retry
            raise ScopeStateError(
                f"cannot exit {scope!r} here: it was entered in another context (another "
                "thread or asyncio task); call exit() where enter() was called"
            ) from None
    scope._token = None


def runs_inside(scope: Scope) -> bool:
    """True when this context runs inside ``scope`` (it is the current scope or an ancestor
    of it): for a tick, inside its frame or its flush, however deep in nested scopes."""
    current = resolve(current_target.get())[0]
    while current is not None:
        if current is scope:
            return True
        current = current._parent
    return False
