"""Logging for the app: a rotating file in the user's log folder plus stderr, Qt's own
messages routed into logging, and uncaught exceptions logged instead of lost."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QtMsgType, qInstallMessageHandler

logger = logging.getLogger(__name__)

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def log_dir() -> Path:
    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppLocalDataLocation
    )
    return Path(base) / "logs"


def log_file() -> Path:
    return log_dir() / "snaptex.log"


def _qt_message(mode: QtMsgType, _context, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.INFO), "%s", message)


def _excepthook(exc_type, exc, tb) -> None:
    # PySide keeps running after an exception in a slot; make sure it is recorded.
    logger.critical("uncaught exception", exc_info=(exc_type, exc, tb))


def configure(level: str = "INFO") -> Path:
    """Configure the root logger for the app process (never called by library code)."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
    )
    stream_handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    for handler in (file_handler, stream_handler):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    file_handler.setLevel(logging.DEBUG)
    stream_handler.setLevel(level.upper())
    root.setLevel(logging.DEBUG)
    for noisy in ("matplotlib", "PIL"):  # font-matching chatter drowns our own lines
        logging.getLogger(noisy).setLevel(logging.WARNING)
    qInstallMessageHandler(_qt_message)
    sys.excepthook = _excepthook
    return path
