"""``python -m benchmarks.profiling WORKLOAD PARAM [CONTENDER]``: where one frame's time goes.

Runs the frame under cProfile and prints the functions with the most own time, for finding
which lines of airlock a missed target comes from. cProfile inflates per-call costs; compare
functions with each other, not with the report's timings.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections.abc import Sequence

from .contenders import TICK, make_contenders
from .effects import noop
from .workloads import BY_NAME

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__)
    p.add_argument("workload", choices=sorted(BY_NAME))
    p.add_argument("param", type=int, help="K (intents per frame) or nesting depth")
    p.add_argument("contender", nargs="?", default=TICK)
    p.add_argument("--frames", type=int, default=20_000)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    contenders, _ = make_contenders()
    found = [c for c in contenders if c.name == args.contender]
    if not found or not found[0].supports(args.workload):
        able = [c.name for c in contenders if c.supports(args.workload)]
        p.error(f"{args.contender!r} cannot run {args.workload!r}; choose one of {able}")
    contender = found[0]
    contender.open()
    try:
        frame = contender.build(args.workload, args.param, noop)
        for _ in range(1_000):
            frame()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.frames):
            frame()
        profiler.disable()
    finally:
        contender.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    print(f"{args.frames:,} frames of {args.workload} {args.param} with {contender.name}")
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
