"""Searchable history of results; a double-click (or Enter) re-copies an entry.

Long LaTeX is elided to one line with the whole text in the tooltip; readings the
self-check flagged carry a "check" marker.
"""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.history import Entry, History
from desktop_app.qt_compat import make_timer
from desktop_app.ui import icons

logger = logging.getLogger(__name__)


ICON_SIZE = QSize(160, 48)
TEXT_WIDTH = 420  # pixels of LaTeX shown per entry before it is elided
CHECK_MARKER = "⚠ check"
FLAGGED_BACKGROUND = "#fff7e6"


def _thumbnail_icon(png: bytes) -> QIcon:
    """The thumbnail centred on a fixed-size canvas, so the LaTeX column lines up
    (an empty canvas where there is no thumbnail)."""
    canvas = QPixmap(ICON_SIZE)
    canvas.fill(Qt.GlobalColor.transparent)
    image = QImage.fromData(png)
    if not image.isNull():
        image = image.scaled(
            ICON_SIZE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter = QPainter(canvas)
        painter.drawImage(
            (ICON_SIZE.width() - image.width()) // 2,
            (ICON_SIZE.height() - image.height()) // 2,
            image,
        )
        painter.end()
    return QIcon(canvas)


class HistoryWindow(QDialog):
    copy_requested = Signal(str)  # the entry's LaTeX (the controller formats it)

    def __init__(self, history: History, parent: QWidget | None = None):
        super().__init__(parent)
        self.history = history
        self.setWindowTitle("SnapTeX history")
        self.setWindowIcon(icons.icon())
        self.resize(640, 480)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search LaTeX or model…")
        self.search.setClearButtonEnabled(True)
        self._search_timer = make_timer(self, 200, single_shot=True)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._search_timer.start)
        self.list = QListWidget()
        self.list.setIconSize(ICON_SIZE)
        self.list.setAlternatingRowColors(True)
        # itemActivated alone: it fires on a double-click (or a single click where the
        # style says so); itemDoubleClicked as well would copy twice. Enter is taken
        # by the event filter, since the list passes it on to the dialog's default
        # button after activating the item: another double copy.
        self.list.itemActivated.connect(self._copy_item)
        self.list.installEventFilter(self)
        buttons = QHBoxLayout()
        buttons.addWidget(QPushButton("Delete", clicked=self._delete_selected))
        buttons.addStretch()
        copy_button = QPushButton("Copy", clicked=self._copy_selected)
        copy_button.setDefault(True)
        buttons.addWidget(copy_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        self.list.clear()
        metrics = QFontMetrics(self.list.font())
        for entry in self.history.search(self.search.text()):
            self.list.addItem(self._item(entry, metrics))

    def open_window(self) -> None:
        self.refresh()
        self.show()
        self.raise_()
        self.activateWindow()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.list
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._copy_selected()
            return True
        return super().eventFilter(watched, event)

    def hideEvent(self, event) -> None:
        self._search_timer.stop()  # no queries against a store that may be closing
        super().hideEvent(event)

    @staticmethod
    def _item(entry: Entry, metrics: QFontMetrics) -> QListWidgetItem:
        when = dt.datetime.fromtimestamp(entry.created).strftime("%Y-%m-%d %H:%M")
        confidence = "" if entry.confidence is None else f" · {entry.confidence:.0%}"
        marker = f" · {CHECK_MARKER}" if entry.needs_check else ""
        one_line = " ".join(entry.latex.split())  # aligned rows etc. on one line
        shown = metrics.elidedText(one_line, Qt.TextElideMode.ElideRight, TEXT_WIDTH)
        item = QListWidgetItem(
            f"{shown}\n{when} · {entry.model or 'model'}{confidence}{marker}"
        )
        item.setData(Qt.ItemDataRole.UserRole, entry.id)
        item.setToolTip(_tooltip(entry))
        if entry.needs_check:
            item.setBackground(QBrush(QColor(FLAGGED_BACKGROUND)))
        # An empty canvas for entries without a thumbnail keeps the LaTeX aligned.
        item.setIcon(_thumbnail_icon(entry.thumbnail or b""))
        return item

    def _entry_for(self, item: QListWidgetItem | None) -> Entry | None:
        return (
            None
            if item is None
            else self.history.get(item.data(Qt.ItemDataRole.UserRole))
        )

    def _copy_item(self, item: QListWidgetItem) -> None:
        entry = self._entry_for(item)
        if entry is not None:
            self.copy_requested.emit(entry.latex)

    def _copy_selected(self) -> None:
        self._copy_item(self.list.currentItem())

    def _delete_selected(self) -> None:
        entry = self._entry_for(self.list.currentItem())
        if entry is not None:
            self.history.delete(entry.id)
            self.refresh()


def _tooltip(entry: Entry) -> str:
    """The whole LaTeX (the list shows one elided line), the check, the action."""
    lines = [entry.latex]
    if entry.needs_check:
        lines.append(f"{CHECK_MARKER}: {entry.check_reason or 'the recogniser was unsure'}")
    lines.append("Double-click to copy")
    return "\n".join(lines)
