"""Django integration: one airlock scope per request, released after the transaction commits.

``MIDDLEWARE += ["airlock.integrations.django.AirlockMiddleware"]``; optional ``AIRLOCK``
settings (``POLICY``, ``EXECUTOR``, ``SCOPE``, ``SCOPE_KWARGS``), read by ``get_policy()``,
``get_executor()``, ``get_scope_class()`` and checked by ``validate_settings()``. Add
``"airlock.integrations.django"`` to ``INSTALLED_APPS`` to validate them in ``django.setup()``.
"""

from __future__ import annotations

from .._extras import missing_extra

try:
    import django  # type: ignore[import-untyped]  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.django", "django", "django") from exc

from ._middleware import AirlockMiddleware
from ._scope import CommittedOnly, DeferredDispatch, DjangoScope, RollbackWatch
from ._settings import (
    AirlockSettings,
    get_executor,
    get_policy,
    get_scope_class,
    get_scope_kwargs,
    load_settings,
    validate_settings,
)

__all__ = [
    "AirlockMiddleware",
    "AirlockSettings",
    "CommittedOnly",
    "DeferredDispatch",
    "DjangoScope",
    "RollbackWatch",
    "get_executor",
    "get_policy",
    "get_scope_class",
    "get_scope_kwargs",
    "load_settings",
    "validate_settings",
]
