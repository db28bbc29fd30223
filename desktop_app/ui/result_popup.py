"""The small focused window near the selection: progress, then preview + editable
LaTeX + format buttons + confidence + "Copied".

It only displays and emits intents; the controller decides what to copy and when.
Being a focused window at copy time also satisfies Wayland's clipboard rule.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMimeData, QRect, Qt, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import clipboard, preview
from desktop_app.geometry import popup_position
from desktop_app.qt_compat import make_label, make_timer
from desktop_app.ui import icons
from model.delimiters import LABELS, Style, wrap

logger = logging.getLogger(__name__)

EDIT_DEBOUNCE_MS = 350
PREVIEW_MAX = (520, 160)
STYLE_SHEET = """
QWidget#popup { background: #fbfbfd; border: 1px solid #d5d8df; }
QLabel#preview { background: white; border: 1px solid #e3e5ea; border-radius: 8px;
                 padding: 14px; min-height: 56px; }
QLabel#title { font-weight: 600; color: #24273a; }
QLabel#status { color: #1a7f37; font-weight: 600; }
QLabel#status[failed="true"] { color: #c62828; }
QLabel#muted { color: #6b7080; }
QPlainTextEdit { border: 1px solid #d5d8df; border-radius: 6px; padding: 4px;
                 background: white; selection-background-color: #8aadf4; }
QPushButton[format="true"] { padding: 3px 10px; border: 1px solid #d5d8df;
                             border-radius: 5px; background: white; }
QPushButton[format="true"]:checked { background: #24273a; color: white;
                                     border-color: #24273a; }
"""


class LatexEdit(QPlainTextEdit):
    """The LaTeX editor: a pasted image goes to recognition, not into the text."""

    image_pasted = Signal(QImage)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return clipboard.image_from_mime(
            source
        ) is not None or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        image = clipboard.image_from_mime(source)
        if image is not None:
            self.image_pasted.emit(image)
        else:
            super().insertFromMimeData(source)


class ResultPopup(QWidget):
    cancel_requested = Signal()
    copy_requested = Signal(str)  # the text to put on the clipboard
    style_chosen = Signal(str)  # model.delimiters.Style value
    image_received = Signal(QImage)  # pasted (Ctrl+V) or dropped

    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            parent, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setObjectName("popup")
        self.setWindowTitle("SnapTeX")
        self.setWindowIcon(icons.icon())
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # draw the border
        self.setStyleSheet(STYLE_SHEET)
        self.setAcceptDrops(True)
        self.setMinimumWidth(420)
        self.style_value = Style.RAW.value
        self._edit_timer = make_timer(self, EDIT_DEBOUNCE_MS, single_shot=True)
        self._edit_timer.timeout.connect(self._on_edit_settled)
        self.pages = QStackedWidget(self)
        self.busy_page, self.result_page, self.message_page = (
            self._build_busy(),
            self._build_result(),
            self._build_message(),
        )
        for page in (self.busy_page, self.result_page, self.message_page):
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.addWidget(self.pages)

    # -- construction --------------------------------------------------------------

    def _build_busy(self) -> QWidget:
        page = QWidget()
        self.thumbnail = make_label(centred=True)
        self.busy_label = make_label("Recognising…", "title")
        self.busy_detail = make_label("", "muted")
        bar = QProgressBar()
        bar.setRange(0, 0)  # indeterminate: generation has no known length
        bar.setTextVisible(False)
        bar.setFixedHeight(6)
        self.cancel_button = QPushButton("Cancel", clicked=self._cancel)
        row = QHBoxLayout()
        row.addWidget(self.busy_label)
        row.addStretch()
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        for item in (self.thumbnail, bar, self.busy_detail):
            layout.addWidget(item)
        layout.addLayout(row)
        return page

    def _build_result(self) -> QWidget:
        page = QWidget()
        self.preview = make_label("", "preview", centred=True, wrap=True)
        self.editor = LatexEdit()
        self.editor.setFont(QFont("DejaVu Sans Mono", 10))
        self.editor.setFixedHeight(64)
        self.editor.textChanged.connect(self._edit_timer.start)
        self.editor.image_pasted.connect(self.image_received)
        self.formats = QButtonGroup(self)
        self.formats.setExclusive(True)
        formats_row = QHBoxLayout()
        for style in Style:
            button = QPushButton(LABELS[style])
            button.setCheckable(True)
            button.setProperty("format", True)
            button.setProperty("style_value", style.value)
            button.setToolTip(wrap("x", style).replace("\n", " "))
            self.formats.addButton(button)
            formats_row.addWidget(button)
        formats_row.addStretch()
        self.formats.buttonClicked.connect(self._on_format_clicked)
        self.confidence = make_label("", "muted")
        self.status = make_label("", "status")
        copy_button = QPushButton("Copy", clicked=self._copy_current)
        footer = QHBoxLayout()
        for item in (self.confidence, self.status):
            footer.addWidget(item)
        footer.addStretch()
        footer.addWidget(copy_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview)
        layout.addWidget(self.editor)
        layout.addLayout(formats_row)
        layout.addLayout(footer)
        return page

    def _build_message(self) -> QWidget:
        page = QWidget()
        self.message_title = make_label("", "title")
        self.message = make_label("", "muted", wrap=True)
        self.message.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(QPushButton("Close", clicked=self.hide))
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message_title)
        layout.addWidget(self.message)
        layout.addLayout(row)
        return page

    # -- states --------------------------------------------------------------------

    def show_busy(
        self, image: QImage | None, anchor: QRect | None, detail: str = ""
    ) -> None:
        if image is not None and not image.isNull():
            pixmap = QPixmap.fromImage(image)
            self.thumbnail.setPixmap(
                pixmap.scaled(
                    400,
                    110,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                if pixmap.height() > 110 or pixmap.width() > 400
                else pixmap
            )
        self.thumbnail.setVisible(image is not None)
        self.busy_detail.setText(detail)
        self.pages.setCurrentWidget(self.busy_page)
        self._present(anchor)

    def set_busy_detail(self, detail: str) -> None:
        self.busy_detail.setText(detail)

    def show_result(
        self,
        latex: str,
        confidence: float | None,
        style: str,
        status: str,
        failed: bool = False,
    ) -> None:
        self.style_value = style
        for button in self.formats.buttons():
            button.setChecked(button.property("style_value") == style)
        self.editor.blockSignals(True)  # a result is not an edit: no debounce re-copy
        self.editor.setPlainText(latex)
        self.editor.blockSignals(False)
        self.confidence.setText(
            "" if confidence is None else f"Confidence {confidence:.0%}"
        )
        self.set_status(status, failed)
        self._render_preview(latex)
        self.pages.setCurrentWidget(self.result_page)
        self._present(None)

    def show_message(self, title: str, text: str) -> None:
        self.message_title.setText(title)
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message_page)
        self._present(None)

    def set_status(self, text: str, failed: bool = False) -> None:
        self.status.setProperty("failed", failed)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setText(text)

    def latex(self) -> str:
        return self.editor.toPlainText()

    def formatted(self) -> str:
        return wrap(self.latex(), self.style_value)

    # -- behaviour -----------------------------------------------------------------

    def _render_preview(self, latex: str) -> None:
        try:
            image = preview.render(latex, device_pixel_ratio=self.devicePixelRatioF())
        except preview.PreviewError as exc:
            self.preview.setPixmap(QPixmap())
            self.preview.setText(f"<i>Preview unavailable: {_escape(str(exc))}</i>")
            return
        pixmap = QPixmap.fromImage(image)
        max_w, max_h = PREVIEW_MAX
        ratio = pixmap.devicePixelRatio()
        if pixmap.width() / ratio > max_w or pixmap.height() / ratio > max_h:
            pixmap = pixmap.scaled(
                int(max_w * ratio),
                int(max_h * ratio),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            pixmap.setDevicePixelRatio(ratio)
        self.preview.setPixmap(pixmap)

    def _on_edit_settled(self) -> None:
        self._render_preview(self.latex())
        self._copy_current()

    def _on_format_clicked(self, button: QPushButton) -> None:
        self.style_value = str(button.property("style_value"))
        self.style_chosen.emit(self.style_value)
        self._copy_current()

    def _copy_current(self) -> None:
        if self.latex().strip():
            self.copy_requested.emit(self.formatted())

    def _paste_from_clipboard(self) -> None:
        image = clipboard.read_image()
        if image is None:
            self.show_message(
                "Nothing to recognise", "There is no image on the clipboard."
            )
        else:
            self.image_received.emit(image)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Reached when no child took the key (the editor handles its own Ctrl+V).
        if event.matches(QKeySequence.StandardKey.Paste):
            self._paste_from_clipboard()
        elif event.key() == Qt.Key.Key_Escape:
            self._escape()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window while it waits means "never mind", like Esc.
        if self.pages.currentWidget() is self.busy_page and self.isVisible():
            self.cancel_requested.emit()
        super().closeEvent(event)

    def _cancel(self) -> None:
        self.cancel_requested.emit()

    def _escape(self) -> None:
        if self.pages.currentWidget() is self.busy_page:
            self.cancel_requested.emit()
        self.hide()

    def _present(self, anchor: QRect | None) -> None:
        self.adjustSize()
        if anchor is not None:
            self._place_near(anchor)
        elif not self.isVisible():  # no selection (clipboard, file): near the pointer
            pointer = QCursor.pos()
            self._place_near(QRect(pointer.x() - self.width() // 2, pointer.y(), 1, 1))
        self.show()
        self.raise_()
        self.activateWindow()

    def _place_near(self, anchor: QRect) -> None:
        screen = (
            QGuiApplication.screenAt(anchor.center()) or QGuiApplication.primaryScreen()
        )
        area = screen.availableGeometry()
        size = self.sizeHint().expandedTo(self.minimumSizeHint())
        x, y = popup_position(
            (anchor.x(), anchor.y(), anchor.width(), anchor.height()),
            (max(size.width(), self.minimumWidth()), size.height()),
            (area.x(), area.y(), area.width(), area.height()),
        )
        self.move(x, y)

    # -- drag and drop: image files or image data go the same way as a paste -------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if clipboard.image_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        image = clipboard.image_from_mime(event.mimeData())
        if image is not None:
            event.acceptProposedAction()
            self.image_received.emit(image)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
