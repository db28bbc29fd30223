"""SnapTeX's own small notice window, for desktops without a system tray.

Where there is no tray there are no balloon messages either, and a notice written only
to the log is one the user never sees. This window shows the latest notice in the
bottom-right corner of the screen, offers the tray's menu, and on a first run says how
to start a snip. Informational notices close by themselves; errors stay until closed.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.geometry import keep_inside
from desktop_app.qt_compat import make_label, make_timer
from desktop_app.ui import icons

INFO_CLOSE_MS = 8000
MARGIN = 16  # from the screen corner
WIDTH = 380
FIRST_RUN_TITLE = "SnapTeX is running"
FIRST_RUN_TEXT = (
    "This desktop has no system tray, so SnapTeX shows its notices here.<br><br>"
    "To snip an equation, run <b>snaptex snip</b>: bind it to a keyboard shortcut "
    "in your desktop's settings, or press <b>Snip</b> below. "
    "<b>Menu</b> has History, Settings and Quit."
)
STYLE_SHEET = """
QWidget#notice { background: #fbfbfd; border: 1px solid #d5d8df; }
QLabel#title { font-weight: 600; color: #24273a; }
QLabel#title[error="true"] { color: #c62828; }
QLabel#muted { color: #4b5060; }
"""


class NoticeWindow(QWidget):
    snip = Signal()

    def __init__(self, menu: QMenu | None = None, parent: QWidget | None = None):
        super().__init__(
            parent,
            Qt.WindowType.Tool
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus,
        )
        self.setObjectName("notice")
        self.setWindowTitle("SnapTeX")
        self.setWindowIcon(icons.icon())
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        # The controller hides windows with this property before it grabs the screen,
        # so the notice never ends up in a snip.
        self.setProperty("hide_during_snip", True)
        self.setStyleSheet(STYLE_SHEET)
        self.setFixedWidth(WIDTH)
        self._hovered = False
        self._close_timer = make_timer(self, INFO_CLOSE_MS, single_shot=True)
        self._close_timer.timeout.connect(self._on_close_timer)
        self.title = make_label("", "title")
        self.message = make_label("", "muted", wrap=True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        snip_button = QPushButton("Snip", clicked=self._snip)
        row = QHBoxLayout()
        row.addWidget(snip_button)
        if menu is not None:
            self.menu_button = QPushButton("Menu")
            self.menu_button.setMenu(menu)
            row.addWidget(self.menu_button)
        row.addStretch()
        row.addWidget(QPushButton("Close", clicked=self.hide))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addLayout(row)

    def show_notice(
        self, title: str, message: str, error: bool = False, rich: bool = False
    ) -> None:
        """Show a notice; ``message`` is plain text unless ``rich``."""
        self.title.setText(title)
        self.title.setProperty("error", error)
        self.title.style().unpolish(self.title)
        self.title.style().polish(self.title)
        self.message.setText(
            message if rich else html.escape(message).replace("\n", "<br>")
        )
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()
        if error:
            self._close_timer.stop()
        else:
            self._close_timer.start()

    def show_first_run(self) -> None:
        """How to start a snip, on a desktop where there is no tray icon to click."""
        self.show_notice(FIRST_RUN_TITLE, FIRST_RUN_TEXT, rich=True)
        self._close_timer.stop()  # a first-run hint stays until the user closes it

    def _place(self) -> None:
        screen = QGuiApplication.primaryScreen()
        x0, y0, w, h = screen.availableGeometry().getRect()
        size = (self.width(), self.sizeHint().height())
        self.move(
            *keep_inside(
                (x0 + w - size[0] - MARGIN, y0 + h - size[1] - MARGIN),
                size,
                (x0, y0, w, h),
            )
        )

    def _snip(self) -> None:
        self.hide()
        self.snip.emit()

    def _on_close_timer(self) -> None:
        if self._hovered:
            self._close_timer.start()
        else:
            self.hide()

    def enterEvent(self, event: QEvent) -> None:
        self._hovered = True
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = False
        super().leaveEvent(event)
