"""Write text with Qt's clipboard."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

install_instructions = "Part of Qt; nothing to install."


def is_compatible() -> bool:
    return True


def is_installed() -> bool:
    return QGuiApplication.instance() is not None


def copy(text: str) -> None:
    QGuiApplication.clipboard().setText(text)
