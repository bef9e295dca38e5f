"""Framework adapters (pygame, Textual). Each imports its framework; the core never does."""
