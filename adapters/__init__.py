"""Framework adapters for airlock (pygame, Textual). Each imports its framework; the core never does."""
