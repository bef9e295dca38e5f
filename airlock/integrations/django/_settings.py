"""The ``AIRLOCK`` settings dict: validated once, with errors that say what to change.

Keys (all optional): ``POLICY`` (a policy, or a dotted path to one or to a class built with no
arguments), ``EXECUTOR`` (a callable or its dotted path), ``SCOPE`` (a Scope subclass or its
dotted path; default ``DjangoScope``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from ..._policies import Policy, check_policy
from ..._scope import Executor, Scope
from ._scope import DjangoScope

__all__ = ["AirlockSettings", "load_settings"]

_EXAMPLES = {
    "POLICY": "airlock.AllowAll",
    "EXECUTOR": "airlock.integrations.executors.celery.celery_executor",
    "SCOPE": "airlock.integrations.django.DjangoScope",
}


@dataclass(frozen=True)
class AirlockSettings:
    """The validated ``AIRLOCK`` settings; ``new_scope()`` builds the scope for one request."""

    policy: Policy | None = None
    executor: Executor | None = None
    scope_cls: type[Scope] = DjangoScope

    def new_scope(self) -> Scope:
        return self.scope_cls(self.policy, executor=self.executor)


def _fail(key: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"settings.AIRLOCK[{key!r}] {problem}; expected e.g. {_EXAMPLES[key]!r}"
    )


def _resolve(raw: Mapping[str, Any], key: str) -> Any:
    value = raw.get(key)
    if not isinstance(value, str):
        return value
    try:
        return import_string(value)
    except ImportError as exc:
        raise _fail(key, f"= {value!r} cannot be imported ({exc})") from exc


def load_settings() -> AirlockSettings:
    """Read and check ``settings.AIRLOCK``; raise ``ImproperlyConfigured`` naming the fix."""
    raw = getattr(settings, "AIRLOCK", None) or {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            f"settings.AIRLOCK must be a dict with keys {sorted(_EXAMPLES)}, got {raw!r}"
        )
    unknown = sorted(set(raw) - set(_EXAMPLES))
    if unknown:
        raise ImproperlyConfigured(
            f"settings.AIRLOCK has unknown key(s) {unknown}; valid keys: {sorted(_EXAMPLES)}"
        )
    policy = _resolve(raw, "POLICY")
    if isinstance(policy, type):
        try:
            policy = policy()
        except TypeError as exc:
            raise _fail(
                "POLICY", f"is a class that needs arguments ({exc}); point to an instance instead"
            ) from exc
    if policy is not None:
        try:
            policy = check_policy(policy)
        except TypeError as exc:
            raise _fail("POLICY", f"is not a policy ({exc})") from exc
    executor = _resolve(raw, "EXECUTOR")
    if executor is not None and not callable(executor):
        raise _fail("EXECUTOR", f"= {executor!r} is not callable")
    scope_cls = _resolve(raw, "SCOPE") or DjangoScope
    if not (isinstance(scope_cls, type) and issubclass(scope_cls, Scope)):
        raise _fail("SCOPE", f"= {scope_cls!r} is not a subclass of airlock.Scope")
    return AirlockSettings(policy, executor, scope_cls)
