"""The ``AIRLOCK`` settings dict: validated once, with errors that say what to change.

Keys (all optional): ``POLICY`` (a policy, or a dotted path to one or to a class built with no
arguments), ``EXECUTOR`` (a callable or its dotted path), ``SCOPE`` (a Scope subclass or its
dotted path; default ``DjangoScope``), ``SCOPE_KWARGS`` (extra constructor arguments for the
scope of each request, e.g. ``{"errors": "continue"}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from ..._config import check_scope_kwargs
from ..._executor import Executor
from ..._policies import Policy, check_policy
from ..._scope import Scope
from ._scope import DjangoScope

__all__ = [
    "AirlockSettings",
    "get_executor",
    "get_policy",
    "get_scope_class",
    "get_scope_kwargs",
    "load_settings",
    "validate_settings",
]

_EXAMPLES = {
    "POLICY": "airlock.AllowAll",
    "EXECUTOR": "airlock.integrations.executors.celery.celery_executor",
    "SCOPE": "airlock.integrations.django.DjangoScope",
    "SCOPE_KWARGS": {"errors": "continue"},
}


@dataclass(frozen=True)
class AirlockSettings:
    """The validated ``AIRLOCK`` settings; ``new_scope()`` builds the scope for one request."""

    policy: Policy | None = None
    executor: Executor | None = None
    scope_cls: type[Scope] = DjangoScope
    scope_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def new_scope(self) -> Scope:
        """The request's scope, built by keyword (a subclass may take only ``**kwargs``)."""
        return self.scope_cls(policy=self.policy, executor=self.executor, **self.scope_kwargs)


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


def _raw_settings() -> Mapping[str, Any]:
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
    return raw


def get_policy() -> Policy | None:
    """``AIRLOCK["POLICY"]`` as a policy (a class path is instantiated); None if unset."""
    policy = _resolve(_raw_settings(), "POLICY")
    if isinstance(policy, type):
        try:
            policy = policy()
        except TypeError as exc:
            raise _fail(
                "POLICY", f"is a class that needs arguments ({exc}); point to an instance instead"
            ) from exc
    if policy is None:
        return None
    try:
        return check_policy(policy)
    except TypeError as exc:
        raise _fail("POLICY", f"is not a policy ({exc})") from exc


def get_executor() -> Executor | None:
    """``AIRLOCK["EXECUTOR"]`` as a callable; None if unset (the configured default applies)."""
    executor = _resolve(_raw_settings(), "EXECUTOR")
    if executor is not None and not callable(executor):
        raise _fail("EXECUTOR", f"= {executor!r} is not callable")
    return executor  # type: ignore[no-any-return]


def get_scope_class() -> type[Scope]:
    """``AIRLOCK["SCOPE"]`` as a Scope subclass; ``DjangoScope`` if unset."""
    scope_cls = _resolve(_raw_settings(), "SCOPE") or DjangoScope
    if not (isinstance(scope_cls, type) and issubclass(scope_cls, Scope)):
        raise _fail("SCOPE", f"= {scope_cls!r} is not a subclass of airlock.Scope")
    return scope_cls


def get_scope_kwargs() -> dict[str, Any]:
    """``AIRLOCK["SCOPE_KWARGS"]``: extra constructor arguments for each request's scope."""
    scope_kwargs = _raw_settings().get("SCOPE_KWARGS") or {}
    if not isinstance(scope_kwargs, Mapping) or not all(isinstance(k, str) for k in scope_kwargs):
        raise _fail("SCOPE_KWARGS", f"= {scope_kwargs!r} is not a dict of keyword arguments")
    reserved = sorted({"policy", "executor"} & set(scope_kwargs))
    if reserved:
        raise _fail("SCOPE_KWARGS", f"sets {reserved}; use the POLICY and EXECUTOR keys")
    return dict(scope_kwargs)


def load_settings() -> AirlockSettings:
    """Read and check every key of ``settings.AIRLOCK``; raise ``ImproperlyConfigured``
    naming the fix."""
    return AirlockSettings(get_policy(), get_executor(), get_scope_class(), get_scope_kwargs())


def validate_settings() -> AirlockSettings:
    """Check ``settings.AIRLOCK`` now (unknown keys, bad paths, bad values) and return it,
    raising ``ImproperlyConfigured`` that names the key and an example. ``SCOPE_KWARGS`` are
    checked against the class that receives them (``SCOPE``), and a scope is built once."""
    airlock_settings = load_settings()
    scope_cls = airlock_settings.scope_cls
    try:
        check_scope_kwargs(scope_cls, dict(airlock_settings.scope_kwargs))
        airlock_settings.new_scope()
    except (TypeError, ValueError) as exc:
        raise _fail("SCOPE_KWARGS", f"does not fit {scope_cls.__qualname__} ({exc})") from exc
    return airlock_settings
