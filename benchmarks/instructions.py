"""``python -m benchmarks.instructions``: CPU instructions per frame, side by side (callgrind).

Timings on a shared machine move with load; instruction counts do not. Each cell runs a
contender's frame N times and 0 times in a child process under ``valgrind --tool=callgrind``;
the difference over N is the instructions of one frame (interpreter start-up cancels out).
Instructions are not time — calls and allocations cost more per instruction than arithmetic —
but a change that removes instructions from the hot path shows here on any machine.

``--features`` counts the tick features of ``python -m benchmarks.features`` instead (each
feature's frame and its hand-written equivalent, at ``--k``, default 100); with ``--pure``,
each feature's frame on the pure core too.
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import airlock

from .contenders.base import Contender, Frame
from .contenders.contextvar_baseline import ContextVarSetReset
from .contenders.handwritten import HandWrittenScope
from .contenders.ours import AirlockTick, AirlockTickPure
from .contenders.raw import Raw
from .effects import noop
from .feature_frames import FEATURES, PLAIN

__all__ = [
    "CELLS", "TICK_PURE", "Count", "child_env", "count_frame", "feature_cells", "frame_of", "main",
    "ratios",
]

#: contenders that need no framework, by name: what the targets compare
CONTENDERS: dict[str, type[Contender]] = {
    c.name: c for c in (Raw, HandWrittenScope, AirlockTick, ContextVarSetReset)
}
RAW, HANDWRITTEN, TICK, CONTEXTVAR = CONTENDERS
#: the tick on the pure core (the report's name for it): its child runs ``TICK``'s frame with
#: ``AIRLOCK_NO_EXTENSIONS=1`` (``TICK`` runs the compiled kernel where it is built:
#: ``airlock.compiled``)
TICK_PURE = AirlockTickPure.name
#: (workload, param, contender) measured by default
CELLS = [
    *[("intents", k, name) for k in (1, 10, 100)
      for name in (RAW, HANDWRITTEN, TICK, TICK_PURE)],
    *[("empty", 0, name) for name in (CONTEXTVAR, RAW, HANDWRITTEN, TICK, TICK_PURE)],
]
FEATURE = "feature"  # the workload of a feature cell; its contender is "<feature>:<side>"
SIDES = ("ours", "hand")
PURE_SIDE = "pure"  # a feature's frame (``ours``) on the pure core
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@dataclass(frozen=True)
class Count:
    workload: str
    param: int
    contender: str
    per_frame: float


def feature_cells(k: int, pure: bool = False) -> list[tuple[str, int, str]]:
    """Every feature's frame and its hand-written equivalent at ``k`` effects per frame (and,
    ``pure``, the frame on the pure core)."""
    sides = (*SIDES, PURE_SIDE) if pure else SIDES
    return [(FEATURE, k, f"{f.name}:{side}") for f in FEATURES for side in sides]


def frame_of(workload: str, param: int, contender: str) -> Frame:
    """The frame of one cell (what the measured child runs)."""
    if workload == FEATURE:
        name, side = contender.split(":")
        feature = next(f for f in FEATURES if f.name == name)
        return (feature.hand if side == "hand" else feature.ours)(param, noop)
    return CONTENDERS[TICK if contender == TICK_PURE else contender]().build(
        workload, param, noop
    )


def _child(workload: str, param: int, contender: str, frames: int) -> None:
    """The measured process: build the frame, warm it up, run it ``frames`` times."""
    if _on_pure_core(contender):
        assert not airlock.compiled, f"{contender}'s child runs the compiled kernel"
    frame = frame_of(workload, param, contender)
    for _ in range(200):
        frame()
    gc.collect()
    gc.freeze()  # a full collection then skips the start-up objects: counts stay per frame
    for _ in range(frames):
        frame()


def _child_command(workload: str, param: int, contender: str, frames: int) -> list[str]:
    """The measured child: ``-S`` (no site: the frames need only this checkout's ``airlock``
    and ``benchmarks``, found from the working directory) keeps its start-up short."""
    return [sys.executable, "-S", "-m", "benchmarks.instructions", "--child",
            workload, str(param), contender, str(frames)]


_ENV = {"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"}


def _on_pure_core(contender: str) -> bool:
    return contender == TICK_PURE or contender.endswith(f":{PURE_SIDE}")


def child_env(contender: str) -> dict[str, str]:
    """The child's environment: the pure contenders' switches the compiled kernel off."""
    return {**_ENV, "AIRLOCK_NO_EXTENSIONS": "1"} if _on_pure_core(contender) else _ENV
ROOT = Path(__file__).resolve().parent.parent


def _compile_once(workload: str, param: int, contender: str) -> None:
    """Run the child natively first, so that the bytecode caches it may write exist before
    the measured runs: both then load the same caches, and neither counts the compiler."""
    subprocess.run(_child_command(workload, param, contender, 0), env=child_env(contender),
                   check=True, capture_output=True, cwd=ROOT)


def _callgrind(workload: str, param: int, contender: str, frames: int) -> subprocess.Popen[str]:
    """Start the child under callgrind; it writes no bytecode cache (see ``_compile_once``)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               *_child_command(workload, param, contender, frames)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**child_env(contender), "PYTHONDONTWRITEBYTECODE": "1"}, cwd=ROOT)


def _instructions(run: subprocess.Popen[str]) -> int:
    """Wait for a ``_callgrind`` run and read its instruction count."""
    _, stderr = run.communicate()
    if run.returncode != 0:
        raise RuntimeError(f"valgrind exited {run.returncode}:\n{stderr[-2000:]}")
    found = _COLLECTED.search(stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{stderr[-2000:]}")
    return int(found.group(1))


def count_frame(workload: str, param: int, contender: str, frames: int) -> Count:
    """Instructions of one frame: (run of ``frames`` frames - run of none) / ``frames``.

    The two runs go side by side: counts do not depend on what else runs.
    """
    _compile_once(workload, param, contender)
    runs = [_callgrind(workload, param, contender, n) for n in (frames, 0)]
    total, base = (_instructions(run) for run in runs)
    return Count(workload, param, contender, (total - base) / frames)


def ratios(counts: Sequence[Count]) -> list[tuple[str, float]]:
    """The targets' ratios, as far as the counts allow."""
    by = {(c.workload, c.param, c.contender): c.per_frame for c in counts}
    found = []
    for k in sorted({c.param for c in counts if c.workload == "intents"}):
        for other in (RAW, HANDWRITTEN):
            if ("intents", k, TICK) in by and ("intents", k, other) in by:
                found.append((f"tick / {other}, K={k}",
                              by["intents", k, TICK] / by["intents", k, other]))
        if ("intents", k, TICK) in by and ("intents", k, TICK_PURE) in by:
            found.append((f"tick / tick (pure), K={k}",
                          by["intents", k, TICK] / by["intents", k, TICK_PURE]))
    for k in sorted({c.param for c in counts if c.workload == FEATURE}):
        plain = by.get((FEATURE, k, f"{PLAIN}:ours"))
        plain_pure = by.get((FEATURE, k, f"{PLAIN}:{PURE_SIDE}"))
        for f in FEATURES:
            ours = by.get((FEATURE, k, f"{f.name}:ours"))
            hand = by.get((FEATURE, k, f"{f.name}:hand"))
            pure = by.get((FEATURE, k, f"{f.name}:{PURE_SIDE}"))
            if ours is not None and plain is not None and f.name != PLAIN:
                found.append((f"{f.name} / plain enqueue, K={k}", ours / plain))
            if pure is not None and plain_pure is not None and f.name != PLAIN:
                found.append((f"{f.name} / plain enqueue, pure core, K={k}", pure / plain_pure))
            if ours is not None and hand is not None:
                found.append((f"{f.name} / its hand-written, K={k}", ours / hand))
    if ("empty", 0, TICK) in by and ("empty", 0, CONTEXTVAR) in by:
        found.append(("empty tick frame / ContextVar set+reset",
                      by["empty", 0, TICK] / by["empty", 0, CONTEXTVAR]))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["--child"]:
        _child(args[1], int(args[2]), args[3], int(args[4]))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    p.add_argument("--frames", type=int, default=5_000, help="frames per measured run")
    p.add_argument("--features", action="store_true",
                   help="count the tick features and their hand-written equivalents instead")
    p.add_argument("--k", type=int, default=100, help="effects per frame with --features")
    p.add_argument("--pure", action="store_true",
                   help="with --features: each feature's frame on the pure core too")
    options = p.parse_args(args)
    if shutil.which("valgrind") is None:
        p.error("needs valgrind (apt-get install valgrind)")
    print(f"airlock.compiled: {airlock.compiled} ({TICK!r}; {TICK_PURE!r} runs the pure core)")
    counts = []
    cells = feature_cells(options.k, options.pure) if options.features else CELLS
    for workload, param, contender in cells:
        frames = max(options.frames // max(param, 1), 50)
        count = count_frame(workload, param, contender, frames)
        counts.append(count)
        units = max(param, 1)
        print(f"{workload:8} {param:>4} {contender:22} {count.per_frame:>10,.0f} per frame"
              f" {count.per_frame / units:>8,.0f} per intent", flush=True)
    for name, value in ratios(counts):
        print(f"{name:45} {value:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
