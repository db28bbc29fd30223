"""App and tray icons drawn with QPainter: no image files to ship or theme."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

# Status dot colours per worker state; None draws no dot.
STATE_COLOURS: dict[str, str | None] = {
    "ready": None,
    "loading": "#f4a300",
    "busy": "#2f80ed",
    "error": "#e5484d",
}
BACKGROUND = "#24273a"
ACCENT = "#8aadf4"


def _draw(size: int, dot: str | None) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(BACKGROUND))
    painter.drawRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
    font = QFont("DejaVu Serif")
    font.setPixelSize(int(size * 0.72))
    painter.setFont(font)
    painter.setPen(QColor(ACCENT))
    painter.drawText(
        QRectF(0, -size * 0.04, size, size), Qt.AlignmentFlag.AlignCenter, "∑"
    )
    if dot:
        radius = size * 0.2
        painter.setPen(QColor(BACKGROUND))
        painter.setBrush(QColor(dot))
        painter.drawEllipse(
            QRectF(size - 2 * radius - 1, size - 2 * radius - 1, 2 * radius, 2 * radius)
        )
    painter.end()
    return pixmap


def icon(state: str = "ready") -> QIcon:
    result = QIcon()
    for size in (16, 22, 32, 48, 64, 128):
        result.addPixmap(_draw(size, STATE_COLOURS.get(state)))
    return result
