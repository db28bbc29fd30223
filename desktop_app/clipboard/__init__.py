"""Copy text through the first clipboard writer that works; read images with Qt."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QImage, QImageReader

from desktop_app.clipboard.models import ClipboardError, ClipboardMethod
from desktop_app.handlers import HandlerRegistry

logger = logging.getLogger(__name__)

__all__ = ["ClipboardError", "copy_text", "image_from_mime", "read_image", "registry"]


def registry() -> HandlerRegistry[ClipboardMethod]:
    modules = {
        m: importlib.import_module(f"desktop_app.clipboard.handlers.{m.value}")
        for m in ClipboardMethod
    }
    return HandlerRegistry(ClipboardMethod, modules)


def copy_text(text: str, method: str = "auto") -> str:
    """Put ``text`` on the clipboard; returns the writer used, raises ClipboardError."""
    for name, module in registry().ordered(method):
        try:
            module.copy(text)
        except Exception:  # pyperclip raises its own types per backend
            logger.exception("clipboard write with %s failed", name.name)
            continue
        logger.debug("copied %d chars with %s", len(text), name.name)
        return name.name.lower()
    raise ClipboardError("Could not write to the clipboard")


def _image_files(paths: list[str]) -> list[str]:
    formats = {bytes(f).decode().lower() for f in QImageReader.supportedImageFormats()}
    return [p for p in paths if Path(p).suffix.lower().lstrip(".") in formats]


def image_from_mime(mime) -> QImage | None:
    """An image from clipboard/drop data: pixels first, else the first image file."""
    if mime is None:
        return None
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return image
    if mime.hasUrls():
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        for path in _image_files(local):
            image = QImage(path)
            if not image.isNull():
                return image
    return None


def read_image() -> QImage | None:
    """The clipboard's image, or None when it holds none."""
    return image_from_mime(QGuiApplication.clipboard().mimeData())
