"""Runnable demos. ``python -m demos`` lists them; ``python -m demos NAME [args]`` runs one.

A demo is a module in this package with a one-line ``SUMMARY`` and a ``main(argv) -> int``.
"""
