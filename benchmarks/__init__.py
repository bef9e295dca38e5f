"""Benchmarks: airlock-tick against a hand-written buffer, airlock-py, pygame and asyncio.

- ``python -m pytest benchmarks [--benchmark-only]``: the pytest-benchmark suite, one group per
  workload and size with every contender doing the same work (short budgets unless
  ``--benchmark-max-time``/``--benchmark-min-rounds`` are given), plus allocation soaks.
- ``python -m benchmarks.report [--quick] [--soak N]``: the interleaved side-by-side run with
  the targets, memory and soak; full mode writes ``docs/performance/``.
- ``python -m benchmarks.profiling WORKLOAD PARAM [CONTENDER]``: cProfile of one frame kind.
- ``python -m benchmarks.soak --intents K --frames N``: a tick soak in a quiet process.
"""
