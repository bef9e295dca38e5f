"""``python -m benchmarks.soak``: a tick soak in a quiet process, printed as JSON.

``sys.getallocatedblocks()`` counts every thread's blocks; a fresh interpreter that runs only
the tick has no other threads, so its soak can demand exactly zero growth. The child runs the
core its environment picks (``AIRLOCK_NO_EXTENSIONS=1``: the pure core) and says which;
``soak_in_subprocess`` picks one of ``CORES``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .memory import Soak

__all__ = ["CORES", "main", "soak_in_subprocess"]

ROOT = Path(__file__).resolve().parent.parent
#: the cores a soak can run on -> ``AIRLOCK_NO_EXTENSIONS`` in its child (empty: unset)
CORES = {"compiled": "", "pure": "1"}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    p.add_argument("--intents", type=int, default=1, help="no-op intents per tick frame")
    p.add_argument("--frames", type=int, default=10_000)
    p.add_argument("--checkpoints", type=int, default=10)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    import airlock

    from .contenders.ours import AirlockTick
    from .effects import noop
    from .memory import soak

    frame = AirlockTick().build("intents", args.intents, noop)
    result = soak(frame, args.frames, args.checkpoints)
    print(json.dumps({"frames": result.frames, "baseline": result.baseline,
                      "deltas": result.deltas, "seconds": result.seconds,
                      "compiled": airlock.compiled}))
    return 0


def soak_in_subprocess(
    intents: int, frames: int, checkpoints: int = 10, *, core: str = "compiled"
) -> Soak:
    """Run ``main`` in a fresh interpreter on ``core`` (one of ``CORES``; "compiled" runs the
    pure core where the kernel is not built: see ``Soak.compiled``) and return its soak."""
    command = [sys.executable, "-m", "benchmarks.soak", "--intents", str(intents),
               "--frames", str(frames), "--checkpoints", str(checkpoints)]
    env = {**os.environ, "AIRLOCK_NO_EXTENSIONS": CORES[core]}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return Soak(found["frames"], found["baseline"], found["deltas"], found["seconds"],
                found["compiled"])


if __name__ == "__main__":
    raise SystemExit(main())
