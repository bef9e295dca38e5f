"""The greenlet check from the seeds: greenlet < 1.0 shares one context across greenlets."""

from __future__ import annotations

import sys
import warnings
from importlib.util import find_spec

__all__ = ["check_greenlet"]


def _greenlet_version() -> str | None:
    module = sys.modules.get("greenlet")
    if module is not None:
        return getattr(module, "__version__", None)
    if find_spec("greenlet") is None:  # cheap: spares importlib.metadata when it is absent
        return None
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    try:
        return version("greenlet")
    except PackageNotFoundError:
        return None


def check_greenlet(found: str | None = None) -> bool:
    """Warn (RuntimeWarning) when an installed greenlet predates contextvars support (1.0)."""
    found = found if found is not None else _greenlet_version()
    if found is None:
        return True
    try:
        major = int(found.split(".")[0])
    except ValueError:
        return True
    if major >= 1:
        return True
    warnings.warn(
        "Detected greenlet without contextvars support.\n"
        "airlock requires greenlet>=1.0 for correct isolation in gevent/eventlet environments.",
        RuntimeWarning,
        stacklevel=2,
    )
    return False
