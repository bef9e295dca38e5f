"""Runnable demos. ``python -m demos`` lists them; ``python -m demos NAME [args]`` runs one.

A demo is a subpackage with a one-line ``SUMMARY``, ``EXTRA`` (the airlock-tick extra that
installs its framework), ``REQUIRES`` (the modules that extra provides) and
``main(argv) -> int``. Its ``__init__`` imports no framework, so listing the demos works with
none installed, and running one whose framework is missing names the extra to install.
"""
