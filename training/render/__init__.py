"""Rendering: formula lists -> training images with real LaTeX (``snaptex render``)."""
