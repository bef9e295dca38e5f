"""airlock-py 0.1.0a3 (the seed's reference implementation), loaded as ``airlock_py``.

It installs into ``.bench-deps/airlock-py/`` (gitignored) on first use and is imported under
another name so that our ``airlock`` stays in ``sys.modules`` untouched. Only its public API is
called: ``scope``, ``enqueue``, ``policy``, ``DropAll``. Its code is never read or copied.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["PEER_VERSION", "PeerUnavailable", "load_peer", "peer_or_none"]

PEER_VERSION = "0.1.0a3"
PEER_NAME = "airlock_py"
TARGET = Path(__file__).resolve().parent.parent / ".bench-deps" / "airlock-py"


class PeerUnavailable(RuntimeError):
    """airlock-py could not be installed or imported; the peer contender is skipped."""


def _install() -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--target", str(TARGET), f"airlock-py=={PEER_VERSION}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise PeerUnavailable(
            f"could not install airlock-py=={PEER_VERSION} into {TARGET} "
            f"(pip exit {done.returncode}): {done.stderr.strip()[-500:]}; install it by hand "
            f"with: {' '.join(command)}"
        )


def _is_airlock(name: str) -> bool:
    return name == "airlock" or name.startswith("airlock.")


def _import_renamed() -> ModuleType:
    """Import the peer's ``airlock`` package and re-home its modules as ``airlock_py.*``.

    Our own ``airlock`` modules are set aside while the peer imports (so its absolute and
    relative imports both resolve inside the peer) and put back afterwards.
    """
    ours = {name: mod for name, mod in sys.modules.items() if _is_airlock(name)}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(TARGET))
    try:
        peer = importlib.import_module("airlock")
        theirs = {name: mod for name, mod in sys.modules.items() if _is_airlock(name)}
    finally:
        sys.path.remove(str(TARGET))
        for name in [n for n in sys.modules if _is_airlock(n)]:
            del sys.modules[name]
        sys.modules.update(ours)
    origin = getattr(peer, "__file__", "") or ""
    if not origin.startswith(str(TARGET)):
        raise PeerUnavailable(f"imported the wrong airlock ({origin}) while loading airlock-py")
    for name, mod in theirs.items():
        sys.modules[PEER_NAME + name[len("airlock"):]] = mod
    return peer


def load_peer(install: bool = True) -> ModuleType:
    """Return airlock-py as a module (installing it first if needed and ``install``)."""
    loaded = sys.modules.get(PEER_NAME)
    if loaded is not None:
        return loaded
    if not (TARGET / "airlock" / "__init__.py").exists():
        if not install:
            raise PeerUnavailable(f"airlock-py is not installed in {TARGET}")
        _install()
    try:
        return _import_renamed()
    except PeerUnavailable:
        raise
    except Exception as exc:  # an import error inside the peer: report, don't crash the suite
        raise PeerUnavailable(f"could not import airlock-py from {TARGET}: {exc!r}") from exc


def peer_or_none() -> tuple[ModuleType | None, str]:
    """``(module, "")`` or ``(None, reason)`` — for callers that report it as unavailable."""
    try:
        return load_peer(), ""
    except PeerUnavailable as exc:
        return None, str(exc)
