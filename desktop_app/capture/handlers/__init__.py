"""Capture handlers: one module per method (is_compatible, is_installed, capture)."""
