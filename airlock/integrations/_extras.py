"""Optional extras: a missing framework is an ImportError that says which extra to install."""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(integration: str, package: str, extra: str) -> ImportError:
    """The error to raise (``from`` the original) when ``package`` cannot be imported."""
    return ImportError(
        f"{integration} needs the {package!r} package, which is not installed; "
        f'install it with: pip install "airlock-tick[{extra}]"'
    )
