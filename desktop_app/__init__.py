"""SnapTeX desktop app (PySide6). Never imports torch: inference runs in the worker."""

APP_ID = "snaptex"
__version__ = "0.1.0"
