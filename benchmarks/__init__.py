"""Benchmarks: airlock-tick against a hand-written buffer, airlock-py, pygame and asyncio.

``python -m pytest benchmarks --benchmark-only`` runs the pytest-benchmark suite (one group per
workload and size, every contender on the same work); ``python -m benchmarks.report`` runs the
interleaved side-by-side comparison and writes ``docs/performance/``.
"""
