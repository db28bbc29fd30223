"""Clipboard writers: one module per method (is_compatible, is_installed, copy)."""
