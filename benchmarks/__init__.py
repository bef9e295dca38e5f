"""Benchmarks: airlock-tick against a hand-written buffer, airlock-py, pygame and asyncio.

- ``python -m pytest benchmarks``: every benchmark run once (does it do the claimed work?) and
  the allocation soaks; nothing is timed. ``--benchmark-only`` times them with pytest-benchmark,
  one group per workload and size with every contender doing the same work (short budgets
  unless ``--benchmark-max-time``/``--benchmark-min-rounds`` are given). No verdicts.
- ``python -m benchmarks.report [--quick] [--soak N]``: the interleaved side-by-side run with
  the targets (verdicts with their spread), memory, soak and budgeted frames; writes
  ``out/performance/`` (``--update-docs``: the committed ``docs/performance/``).
- ``python -m benchmarks.features [--quick] [--k 10,100]``: each tick feature (keys, batches,
  phases, local policies, observers, dispatch options) per intent against the plain enqueue
  and its hand-written equivalent, then a fresh ``airlock.scope()`` against airlock-py at
  K=0, 1, 10, 100; one interleaved run each (also sections of the report).
- ``python -m benchmarks.budget``: a budgeted frame with a backlog against the same without.
- ``python -m benchmarks.instructions``: instructions per frame under callgrind.
- ``python -m benchmarks.profiling WORKLOAD PARAM [CONTENDER]``: cProfile of one frame kind.
- ``python -m benchmarks.soak --intents K --frames N``: a tick soak in a quiet process (with
  ``AIRLOCK_NO_EXTENSIONS=1``: on the pure core).
"""
