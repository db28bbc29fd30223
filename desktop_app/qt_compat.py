"""Small widget/timer factories that set Qt properties through setters.

Why: PySide6 6.12 drops a reference to every value passed as a *property* keyword in
a constructor (``QTimer(interval=5)``, ``QLabel(objectName="x")``); after enough of
them the interpreter aborts at exit with "deallocating None/True". Signal keywords
(``clicked=...``) are unaffected. So properties go through setters, here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel


def make_timer(
    parent: QObject | None, interval_ms: int, single_shot: bool = False
) -> QTimer:
    timer = QTimer(parent)
    timer.setInterval(int(interval_ms))
    timer.setSingleShot(single_shot)
    return timer


def make_label(
    text: str = "", name: str = "", centred: bool = False, wrap: bool = False
) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    if centred:
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(wrap)
    return label
