"""Capture handlers: one module per method, each with is_compatible/is_installed/capture."""
