"""Tests of adapters.textual (the Textual adapter) and the board demo."""
