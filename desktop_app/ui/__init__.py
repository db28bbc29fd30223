"""Widgets: tray, overlays, result popup, history and settings windows."""
