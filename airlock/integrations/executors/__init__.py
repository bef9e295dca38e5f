"""Executors: plain callables ``executor(intent)`` that decide *how* an intent runs."""
