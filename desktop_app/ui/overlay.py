"""Frozen-frame overlays: one frameless window per screen showing that screen's grab.

A drag selects a region; Esc (or a right click) cancels. The overlay knows nothing
about the model: it reports the window-local logical rectangle, and OverlaySet maps it
into the screenshot's pixels with geometry.logical_to_pixels.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QScreen,
)
from PySide6.QtWidgets import QWidget

from desktop_app.capture import ScreenShot
from desktop_app.geometry import LogicalRect, PixelRect, logical_to_pixels

logger = logging.getLogger(__name__)

DIM = QColor(0, 0, 0, 110)
BORDER = QColor("#8aadf4")


class Overlay(QWidget):
    selected = Signal(object, object)  # this Overlay, LogicalRect
    cancelled = Signal()

    def __init__(self, shot: ScreenShot, screen: QScreen | None = None):
        super().__init__(
            None,
            Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.Tool,
        )
        self.shot = shot
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setWindowTitle("SnapTeX: drag over an equation (Esc cancels)")
        self.setMouseTracking(True)
        self._origin: QPointF | None = None
        self._current: QPointF | None = None
        if screen is not None:
            self.setScreen(screen)
        self.setGeometry(shot.geometry)

    def open(self) -> None:
        self.showFullScreen()
        self.raise_()
        self.activateWindow()

    def selection(self) -> LogicalRect | None:
        if self._origin is None or self._current is None:
            return None
        return LogicalRect.from_points(
            self._origin.x(), self._origin.y(), self._current.x(), self._current.y()
        )

    def pixel_rect(self, rect: LogicalRect) -> PixelRect:
        """The selection in this screen's frozen frame (window-local mapping)."""
        image = self.shot.image
        return logical_to_pixels(
            rect, (self.width(), self.height()), (image.width(), image.height())
        )

    # -- events --------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self.cancelled.emit()
            return
        self._origin = self._current = event.position()
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._origin is not None:
            self._current = event.position()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._origin is None or event.button() != Qt.MouseButton.LeftButton:
            return
        self._current = event.position()
        rect = self.selection()
        if rect is not None and self.pixel_rect(rect).is_usable():
            self.selected.emit(self, rect)
        else:  # a click or a sliver: start again rather than send noise to the model
            self._origin = self._current = None
            self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
        else:
            super().keyPressEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(QRectF(self.rect()), self.shot.image)
        rect = self.selection()
        if rect is None:
            painter.fillRect(self.rect(), DIM)
            return
        box = QRectF(rect.x, rect.y, rect.width, rect.height)
        outside = QRectF(self.rect())
        painter.save()
        painter.setClipRegion(self._outside_region(box, outside))
        painter.fillRect(outside, DIM)
        painter.restore()
        painter.setPen(QPen(BORDER, 1.5))
        painter.drawRect(box)
        self._draw_size_label(painter, box, self.pixel_rect(rect))

    @staticmethod
    def _outside_region(box: QRectF, whole: QRectF):
        from PySide6.QtGui import QRegion

        return QRegion(whole.toAlignedRect()).subtracted(QRegion(box.toAlignedRect()))

    def _draw_size_label(
        self, painter: QPainter, box: QRectF, pixels: PixelRect
    ) -> None:
        text = f"{pixels.width} × {pixels.height}"
        metrics = painter.fontMetrics()
        label = QRectF(
            box.left(),
            box.bottom() + 4,
            metrics.horizontalAdvance(text) + 10,
            metrics.height() + 4,
        )
        if label.bottom() > self.height():
            label.moveBottom(box.top() - 4)
        painter.fillRect(label, QColor(0, 0, 0, 170))
        painter.setPen(QColor("white"))
        painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)


class OverlaySet(QObject):
    """The overlays of one capture: the first selection wins and closes them all."""

    selected = Signal(object, object, object)  # ScreenShot, PixelRect, QRect anchor
    cancelled = Signal()

    def __init__(self, shots: list[ScreenShot], parent: QObject | None = None):
        super().__init__(parent)
        screens = QGuiApplication.screens()
        by_name = {screen.name(): screen for screen in screens}
        self.windows: list[Overlay] = []
        for shot in shots:
            screen = by_name.get(shot.name) or (
                screens[shot.index] if shot.index < len(screens) else None
            )
            window = Overlay(shot, screen)
            window.selected.connect(self._on_selected)
            window.cancelled.connect(self._on_cancelled)
            self.windows.append(window)

    def open(self) -> None:
        for window in self.windows:
            window.open()

    def close(self) -> None:
        windows, self.windows = self.windows, []
        for window in windows:
            window.close()

    def _on_selected(self, window: Overlay, rect: LogicalRect) -> None:
        pixels = window.pixel_rect(rect)
        top_left = window.mapToGlobal(QPoint(int(rect.x), int(rect.y)))
        anchor = QRect(top_left, QSize(int(rect.width), int(rect.height)))
        shot = window.shot
        logger.info("selected %s on screen %s -> pixels %s", rect, shot.name, pixels)
        self.close()
        self.selected.emit(shot, pixels, anchor)

    def _on_cancelled(self) -> None:
        self.close()
        self.cancelled.emit()


def crop(shot: ScreenShot, pixels: PixelRect):
    """The selected pixels as a standalone image (device pixel ratio reset to 1)."""
    image = shot.image.copy(pixels.left, pixels.top, pixels.width, pixels.height)
    image.setDevicePixelRatio(1.0)
    return image
