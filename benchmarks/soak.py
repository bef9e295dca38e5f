"""``python -m benchmarks.soak``: a tick soak in a quiet process, printed as JSON.

``sys.getallocatedblocks()`` counts every thread's blocks; a fresh interpreter that runs only
the tick has no other threads, so its soak can demand exactly zero growth.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .memory import Soak

__all__ = ["main", "soak_in_subprocess"]

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    p.add_argument("--intents", type=int, default=1, help="no-op intents per tick frame")
    p.add_argument("--frames", type=int, default=10_000)
    p.add_argument("--checkpoints", type=int, default=10)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    from .contenders.ours import AirlockTick
    from .effects import noop
    from .memory import soak

    frame = AirlockTick().build("intents", args.intents, noop)
    result = soak(frame, args.frames, args.checkpoints)
    print(json.dumps({"frames": result.frames, "baseline": result.baseline,
                      "deltas": result.deltas}))
    return 0


def soak_in_subprocess(intents: int, frames: int, checkpoints: int = 10) -> Soak:
    """Run ``main`` in a fresh interpreter and return its soak."""
    command = [sys.executable, "-m", "benchmarks.soak", "--intents", str(intents),
               "--frames", str(frames), "--checkpoints", str(checkpoints)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return Soak(found["frames"], found["baseline"], found["deltas"])


if __name__ == "__main__":
    raise SystemExit(main())
