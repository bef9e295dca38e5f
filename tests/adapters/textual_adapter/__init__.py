"""Tests of airlock_textual (the Textual adapter) and the board demo."""
