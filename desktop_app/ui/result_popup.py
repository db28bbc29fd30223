"""The small focused window near the selection: progress, then preview + editable
LaTeX + format buttons + confidence + "Copied".

It only displays and emits intents; the controller decides what to copy and when.
Being a focused window at copy time also satisfies Wayland's clipboard rule.
A reading the worker's self-check flags is shown in amber with its one-line reason and
the snip beside the preview, the doubtful region marked, so the user knows to look.
The popup closes itself ``auto_close_s`` seconds after a result or message unless the
pointer is on it or the user is working in it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QMimeData, QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QCloseEvent,
    QColor,
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QFocusEvent,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app import clipboard, preview
from desktop_app.geometry import keep_inside, popup_position, screen_for
from desktop_app.qt_compat import make_label, make_timer
from desktop_app.self_check import Region, SelfCheck
from desktop_app.ui import icons
from model.delimiters import LABELS, Style, wrap

logger = logging.getLogger(__name__)

EDIT_DEBOUNCE_MS = 350
PREVIEW_MAX = (520, 160)
SNIP_MAX = (400, 110)
FLAG_COLOUR = "#d97706"  # amber: "look at this", not "failed" (red)
CANNOT_PREVIEW = "Can't preview this LaTeX; you can still edit it below."
# Focus the user gave (a click or Tab into the editor), not the focus the popup takes
# for itself when it opens.
USER_FOCUS = (
    Qt.FocusReason.MouseFocusReason,
    Qt.FocusReason.TabFocusReason,
    Qt.FocusReason.BacktabFocusReason,
    Qt.FocusReason.ShortcutFocusReason,
)
STYLE_SHEET = """
QWidget#popup { background: #fbfbfd; border: 1px solid #d5d8df; }
QLabel#preview { background: white; border: 1px solid #e3e5ea; border-radius: 8px;
                 padding: 14px; min-height: 56px; }
QLabel#title { font-weight: 600; color: #24273a; }
QLabel#status { color: #1a7f37; font-weight: 600; }
QLabel#status[failed="true"] { color: #c62828; }
QLabel#muted { color: #6b7080; }
QLabel#muted[flagged="true"] { color: #b45309; font-weight: 600; }
QLabel#check { background: #fff7e6; color: #7c4a03; border: 1px solid #f5b548;
               border-radius: 6px; padding: 5px 8px; }
QLabel#snip { background: white; border: 1px solid #f5b548; border-radius: 6px;
              padding: 4px; }
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
    # The user clicked or tabbed into it (not the focus the popup takes for itself).
    # A signal rather than an event filter on the popup: a Python filter can be called
    # while Qt tears the widgets down at exit, after its wrapper is gone.
    focused_by_user = Signal()

    def focusInEvent(self, event: QFocusEvent) -> None:
        if event.reason() in USER_FOCUS:
            self.focused_by_user.emit()
        super().focusInEvent(event)

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
        self.auto_close_s = 0  # 0: stays open; the controller sets the user's choice
        self.check = SelfCheck()
        self._confidence: float | None = None
        self._snip: QImage | None = None
        self._anchor: QRect | None = None
        self._placed_at: QPoint | None = None
        self._hovered = self._engaged = False
        self._close_timer = make_timer(self, 1000, single_shot=True)
        self._close_timer.timeout.connect(self._on_close_timer)
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
        self.snip_caption = make_label("Your snip", "muted")
        self.snip_view = make_label("", "snip", centred=True)
        self.snip_view.setToolTip("Your snip; the marked part is where to look")
        self.check_note = make_label("", "check", wrap=True)
        self.editor = LatexEdit()
        self.editor.setFont(QFont("DejaVu Sans Mono", 10))
        self.editor.setFixedHeight(64)
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.image_pasted.connect(self.image_received)
        self.editor.focused_by_user.connect(self._on_user_focus)
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
        layout.addWidget(self.check_note)
        layout.addWidget(self.snip_caption)
        layout.addWidget(self.snip_view)
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
        usable = image is not None and not image.isNull()
        self._snip = image if usable else None
        if usable:
            self.thumbnail.setPixmap(marked_snip(image, None))
        self.thumbnail.setVisible(usable)
        self.busy_detail.setText(detail)
        self._show_page(self.busy_page, anchor)

    def set_busy_detail(self, detail: str) -> None:
        self.busy_detail.setText(detail)

    def show_result(
        self,
        latex: str,
        confidence: float | None,
        style: str,
        status: str,
        failed: bool = False,
        check: SelfCheck | None = None,
    ) -> None:
        self.style_value = style
        for button in self.formats.buttons():
            button.setChecked(button.property("style_value") == style)
        self.editor.blockSignals(True)  # a result is not an edit: no debounce re-copy
        self.editor.setPlainText(latex)
        self.editor.blockSignals(False)
        self._confidence = confidence
        self._apply_check(check or SelfCheck())
        self.set_status(status, failed)
        self._render_preview(latex)
        self._show_page(self.result_page, None)

    def set_check(self, check: SelfCheck) -> None:
        """A self-check that arrived after the result: update what is shown."""
        if check.confidence is not None:
            self._confidence = check.confidence
        self._apply_check(check)
        self._fit()

    def is_showing_result(self) -> bool:
        return self.isVisible() and self.pages.currentWidget() is self.result_page

    def _apply_check(self, check: SelfCheck) -> None:
        self.check = check
        flagged = check.needs_check
        confidence = "" if self._confidence is None else f"{self._confidence:.0%}"
        if flagged:
            text = "Check this reading" + (f" · {confidence}" if confidence else "")
        else:
            text = f"Confidence {confidence}" if confidence else ""
        self.confidence.setText(text)
        self.confidence.setProperty("flagged", flagged)
        self.confidence.style().unpolish(self.confidence)
        self.confidence.style().polish(self.confidence)
        self.check_note.setText(f"⚠ {_escape(check.shown_reason)}" if flagged else "")
        self.check_note.setVisible(flagged)
        show_snip = flagged and self._snip is not None
        if show_snip:
            self.snip_view.setPixmap(marked_snip(self._snip, check.region))
            self.snip_caption.setText(
                "Your snip, the doubtful part marked; below, what was read:"
                if check.region
                else "Your snip; below, what was read:"
            )
        self.snip_view.setVisible(show_snip)
        self.snip_caption.setVisible(show_snip)

    def show_message(self, title: str, text: str) -> None:
        self.message_title.setText(title)
        self.message.setText(text)
        self._show_page(self.message_page, None)

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
            # The renderer's parser text means nothing to a user; it goes to the log
            # and the tooltip, the LaTeX itself stays as it is, editable.
            logger.debug("no preview for %r: %s", latex[:80], exc)
            self.preview.setPixmap(QPixmap())
            self.preview.setText(f"<i>{_escape(CANNOT_PREVIEW)}</i>")
            self.preview.setToolTip(f"The previewer stopped at: {exc}")
            return
        self.preview.setToolTip("")
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

    def _on_text_changed(self) -> None:
        self._engaged = True  # the user is editing: do not close under their hands
        self._edit_timer.start()

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
        self._engaged = True
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

    def _show_page(self, page: QWidget, anchor: QRect | None) -> None:
        # A stacked widget is as large as its largest page; ignoring the hidden pages'
        # sizes lets a message popup be just as tall as its message (no empty gap).
        for other in (self.busy_page, self.result_page, self.message_page):
            policy = (
                QSizePolicy.Policy.Preferred
                if other is page
                else QSizePolicy.Policy.Ignored
            )
            other.setSizePolicy(policy, policy)
        self.pages.setCurrentWidget(page)
        self._hovered = self.underMouse()
        self._engaged = False
        self._present(anchor)
        if page is self.busy_page or self.auto_close_s <= 0:
            self._close_timer.stop()
        else:
            self._close_timer.start(int(self.auto_close_s * 1000))

    def _present(self, anchor: QRect | None) -> None:
        if anchor is not None:
            self._anchor = anchor
        elif not self.isVisible():  # no selection (clipboard, file): near the pointer
            pointer = QCursor.pos()
            self._anchor = QRect(pointer.x() - self.width() // 2, pointer.y(), 1, 1)
        self._fit(force=anchor is not None or not self.isVisible())
        self.show()
        self.raise_()
        self.activateWindow()

    def _fit(self, force: bool = False) -> None:
        """Size to the page shown and place inside the available screen area: near
        the selection, unless the user moved the popup, which then only stays on
        screen. Runs on every change of content, since results grow the popup."""
        self.pages.currentWidget().updateGeometry()
        self.layout().activate()
        self.adjustSize()
        # Wrapped labels ask for their height at a guessed width; at the real width a
        # message may need fewer lines, so take the height for the width we have.
        if self.layout().hasHeightForWidth():
            height = self.layout().totalHeightForWidth(self.width())
            self.resize(self.width(), max(height, self.minimumSizeHint().height()))
        moved_by_user = (
            not force and self._placed_at is not None and self.pos() != self._placed_at
        )
        own = QRect(self.pos(), self.size())
        anchor = own if moved_by_user or self._anchor is None else self._anchor
        area = self._available_area(anchor)
        size = self.size().expandedTo(self.minimumSizeHint())
        frame = self.frameGeometry().size() - self.geometry().size()  # title bar
        whole = (
            max(size.width(), self.minimumWidth()) + frame.width(),
            size.height() + frame.height(),
        )
        if anchor is own:
            x, y = keep_inside((own.x(), own.y()), whole, area)
        else:
            x, y = popup_position(anchor.getRect(), whole, area)
        self.move(x, y)
        self._placed_at = QPoint(x, y)

    @staticmethod
    def _available_area(anchor: QRect) -> tuple[int, int, int, int]:
        """The available geometry (without panels) of the anchor's screen."""
        screens = QGuiApplication.screens()
        index = screen_for(
            (anchor.center().x(), anchor.center().y()),
            [s.geometry().getRect() for s in screens],
        )
        return screens[index].availableGeometry().getRect()

    # -- closing by itself ---------------------------------------------------------

    def _on_close_timer(self) -> None:
        if self._hovered or self._engaged or self.pages.currentWidget() is self.busy_page:
            self._close_timer.start(int(max(self.auto_close_s, 1) * 1000))
        else:
            self.hide()

    def enterEvent(self, event: QEvent) -> None:
        self._hovered = True
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = False
        super().leaveEvent(event)

    def _on_user_focus(self) -> None:
        self._engaged = True

    def hideEvent(self, event) -> None:
        self._close_timer.stop()
        super().hideEvent(event)

    # -- drag and drop: image files or image data go the same way as a paste -------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if clipboard.image_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        image = clipboard.image_from_mime(event.mimeData())
        if image is not None:
            event.acceptProposedAction()
            self.image_received.emit(image)


def marked_snip(image: QImage, region: Region | None) -> QPixmap:
    """The snip scaled to fit SNIP_MAX, with ``region`` (fractions of the image)
    outlined in amber over a light wash, so the doubtful part stands out."""
    max_w, max_h = SNIP_MAX
    picture = image.convertToFormat(QImage.Format.Format_ARGB32)
    picture.setDevicePixelRatio(1.0)
    if picture.width() > max_w or picture.height() > max_h:
        picture = picture.scaled(
            max_w,
            max_h,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    if region is not None:
        x0, y0, x1, y1 = region
        w, h = picture.width(), picture.height()
        box = QRectF(x0 * w, y0 * h, (x1 - x0) * w, (y1 - y0) * h)
        box = box.adjusted(-2, -2, 2, 2).intersected(QRectF(1, 1, w - 2, h - 2))
        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        wash = QColor(FLAG_COLOUR)
        wash.setAlpha(40)
        painter.setBrush(QBrush(wash))
        painter.setPen(QPen(QColor(FLAG_COLOUR), 2))
        painter.drawRoundedRect(box, 3, 3)
        painter.end()
    return QPixmap.fromImage(picture)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
