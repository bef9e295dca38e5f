"""The flake8 entry point ``AIR`` (kept at this path); the plugin is ``airlock.flake8_plugin``.

AIR001 flags ``.delay()`` / ``.apply_async()`` calls that bypass airlock, AIR002 an import
inside a function. See ``airlock.flake8_plugin`` for the checks, ``check_file`` and the CLI.
"""

from __future__ import annotations

from ..flake8_plugin import AirlockChecker, check_file, main

__all__ = ["AirlockChecker", "check_file", "main"]
