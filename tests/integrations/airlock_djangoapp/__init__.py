"""A tiny Django app for the integration tests: one model, views that enqueue, a task log."""
