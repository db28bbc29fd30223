"""The result popup: states, preview, edits re-render and re-copy, formats, paste,
drop."""

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QEnterEvent, QFocusEvent, QImage
from PySide6.QtWidgets import QApplication

from desktop_app.self_check import SelfCheck
from desktop_app.ui.result_popup import (
    EDIT_DEBOUNCE_MS,
    FLAG_COLOUR,
    ResultPopup,
    marked_snip,
)


@pytest.fixture
def popup(qtbot):
    widget = ResultPopup()
    qtbot.addWidget(widget)
    return widget


def image(width=120, height=40):
    img = QImage(width, height, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    return img


def test_busy_then_result_with_preview(popup):
    popup.show_busy(image(), QRect(100, 100, 120, 40), "0 s")
    assert popup.pages.currentWidget() is popup.busy_page
    assert popup.isVisible() and popup.pos().y() > 140  # placed below the selection
    popup.show_result(r"\frac{a}{b}", 0.91, "dollar", "Copied ✓")
    assert popup.pages.currentWidget() is popup.result_page
    assert not popup.preview.pixmap().isNull()
    assert popup.confidence.text() == "Confidence 91%"
    assert popup.status.text() == "Copied ✓"
    assert popup.formatted() == r"$\frac{a}{b}$"
    checked = popup.formats.checkedButton()
    assert checked.property("style_value") == "dollar"


def test_unparsable_latex_gets_a_friendly_line_and_stays_editable(popup):
    popup.show_result(r"\notacommand{x}", None, "raw", "Copied ✓")
    assert popup.preview.pixmap().isNull()
    assert "Can't preview this LaTeX" in popup.preview.text()
    assert "notacommand" not in popup.preview.text()  # no parser text in the popup
    assert "notacommand" in popup.preview.toolTip()  # but there for the curious
    assert popup.latex() == r"\notacommand{x}" and not popup.editor.isReadOnly()
    assert popup.confidence.text() == ""
    popup.show_result("x^2", None, "raw", "Copied ✓")
    assert not popup.preview.pixmap().isNull() and popup.preview.toolTip() == ""


def test_edits_rerender_and_copy_after_a_pause(popup, qtbot):
    popup.show_result(r"\notacommand", 0.5, "bracket", "Copied ✓")
    with qtbot.waitSignal(
        popup.copy_requested, timeout=EDIT_DEBOUNCE_MS * 10
    ) as copied:
        popup.editor.setPlainText(r"\sqrt{x}")
    assert copied.args == [r"\[\sqrt{x}\]"]
    assert not popup.preview.pixmap().isNull()  # re-rendered from the edit


def test_showing_a_result_is_not_an_edit(popup, qtbot):
    with qtbot.assertNotEmitted(popup.copy_requested, wait=EDIT_DEBOUNCE_MS * 2):
        popup.show_result("x", 0.5, "raw", "Copied ✓")


def test_format_button_copies_in_that_format(popup, qtbot):
    popup.show_result("x^2", 0.5, "raw", "Copied ✓")
    button = next(
        b for b in popup.formats.buttons() if b.property("style_value") == "equation"
    )
    with (
        qtbot.waitSignal(popup.style_chosen) as chosen,
        qtbot.waitSignal(popup.copy_requested) as copied,
    ):
        button.click()
    assert chosen.args == ["equation"]
    assert copied.args == ["\\begin{equation*}\nx^2\n\\end{equation*}"]


def test_cancel_button_and_escape_while_busy(popup, qtbot):
    popup.show_busy(image(), None)
    with qtbot.waitSignal(popup.cancel_requested):
        popup.cancel_button.click()
    popup.show_busy(image(), None)
    with qtbot.waitSignal(popup.cancel_requested):
        qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_ctrl_v_with_an_image_recognises_it(popup, qtbot, qapp):
    qapp.clipboard().setImage(image(64, 32))
    popup.show_result("x", 0.5, "raw", "")
    popup.editor.setFocus()
    with qtbot.waitSignal(popup.image_received) as received:
        popup.editor.paste()
    assert received.args[0].size().toTuple() == (64, 32)
    assert popup.latex() == "x"  # the image did not go into the text


def test_ctrl_v_without_an_image_says_so(popup, qtbot, qapp):
    qapp.clipboard().setText("just text")
    popup.show_busy(image(), None)
    with qtbot.assertNotEmitted(popup.image_received):
        qtbot.keyClick(popup, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert popup.pages.currentWidget() is popup.message_page
    assert "no image on the clipboard" in popup.message.text()


def test_dropping_an_image_file(popup, qtbot, tmp_path):
    path = tmp_path / "eq.png"
    image(80, 30).save(str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(popup.image_received) as received:
        popup.dropEvent(event)
    assert received.args[0].size().toTuple() == (80, 30)


def test_message_page(popup):
    popup.show_message("Screen capture failed", "no display")
    assert popup.pages.currentWidget() is popup.message_page
    assert popup.message.text() == "no display"


def test_closing_while_busy_cancels_but_closing_a_result_does_not(popup, qtbot):
    popup.show_busy(image(), None)
    with qtbot.waitSignal(popup.cancel_requested):
        popup.close()
    popup.show_result("x", 0.5, "raw", "")
    with qtbot.assertNotEmitted(popup.cancel_requested):
        popup.close()


FLAGGED = SelfCheck(
    0.41, True, "the rendered result differs from the snip here", (0.5, 0.0, 1.0, 1.0)
)


def test_a_flagged_reading_is_shown_in_amber_with_its_reason(popup):
    popup.show_busy(image(300, 60), QRect(100, 100, 300, 60))
    popup.show_result(r"\frac{a}{b}", 0.41, "raw", "Copied ✓", check=FLAGGED)
    assert popup.check_note.isVisible()
    assert "the rendered result differs from the snip here" in popup.check_note.text()
    assert popup.confidence.text() == "Check this reading · 41%"
    assert popup.confidence.property("flagged") is True
    assert popup.status.text() == "Copied ✓"  # still copied
    assert popup.snip_view.isVisible() and not popup.snip_view.pixmap().isNull()


def test_an_unflagged_reading_looks_as_before(popup):
    popup.show_busy(image(), None)
    popup.show_result("x", 0.93, "raw", "Copied ✓", check=SelfCheck(0.93, False))
    assert popup.confidence.text() == "Confidence 93%"
    assert not popup.confidence.property("flagged")
    assert not popup.check_note.isVisible() and not popup.snip_view.isVisible()


def test_the_region_is_marked_on_the_snip():
    snip = image(200, 50)
    marked = marked_snip(snip, (0.5, 0.2, 0.9, 0.8)).toImage()
    amber = QColor(FLAG_COLOUR)

    def is_amber(x, y):
        pixel = marked.pixelColor(x, y)
        return abs(pixel.red() - amber.red()) < 40 and abs(pixel.blue() - amber.blue()) < 40

    assert is_amber(98, 25)  # the left edge of the box (x = 0.5 * 200, minus padding)
    assert not is_amber(40, 25)  # outside the box the snip is untouched
    assert marked.pixelColor(40, 25) == QColor("white")
    plain = marked_snip(snip, None).toImage()
    assert plain.pixelColor(98, 25) == QColor("white")


def test_a_large_snip_is_scaled_before_marking():
    pixmap = marked_snip(image(1600, 200), (0.0, 0.0, 0.5, 1.0))
    assert pixmap.width() <= 400 and pixmap.height() <= 110


def test_a_late_check_flags_the_result_shown(popup):
    popup.show_busy(image(300, 60), None)
    popup.show_result("x", 0.8, "raw", "Copied ✓")
    assert not popup.check_note.isVisible()
    popup.set_check(FLAGGED)
    assert popup.is_showing_result() and popup.check_note.isVisible()
    assert popup.confidence.text() == "Check this reading · 41%"
    assert popup.snip_view.isVisible()


def test_a_message_popup_has_no_gap_where_the_preview_would_be(popup):
    popup.show_result(r"\sum_{i=1}^{n} i^2", 0.9, "raw", "Copied ✓")
    result_height = popup.height()
    popup.show_message("Recognition failed", "The snip looks empty.")
    assert popup.height() < result_height * 0.7
    bottom_of_text = popup.message.geometry().bottom()
    assert popup.message_page.height() - bottom_of_text < 60  # just the Close row


def test_the_popup_stays_inside_the_available_screen_area(popup):
    area = popup.screen().availableGeometry()
    # a selection at the very bottom-right corner of the screen
    anchor = QRect(area.right() - 60, area.bottom() - 30, 60, 30)
    popup.show_busy(image(60, 30), anchor)
    popup.show_result(r"\int_0^1 x^2\,dx = \frac{1}{3}", 0.9, "raw", "Copied ✓")
    assert area.contains(popup.frameGeometry()), (area, popup.frameGeometry())
    popup.set_check(FLAGGED)  # grows again
    assert area.contains(popup.frameGeometry()), (area, popup.frameGeometry())


def test_a_moved_popup_stays_where_the_user_put_it(popup):
    area = popup.screen().availableGeometry()
    popup.show_busy(image(), QRect(area.x() + 10, area.y() + 10, 50, 20))
    popup.move(area.x() + 40, area.y() + 60)
    popup.show_result("x", 0.9, "raw", "Copied ✓")
    assert popup.pos().toTuple() == (area.x() + 40, area.y() + 60)


@pytest.fixture
def quick_popup(popup):
    popup.auto_close_s = 0.2
    return popup


def test_the_popup_closes_itself_after_the_set_time(quick_popup, qtbot):
    quick_popup.show_result("x", 0.9, "raw", "Copied ✓")
    assert quick_popup.isVisible()
    qtbot.waitUntil(lambda: not quick_popup.isVisible(), timeout=3000)


def test_message_popups_close_themselves_too(quick_popup, qtbot):
    quick_popup.show_message("Nothing to recognise", "There is no image.")
    qtbot.waitUntil(lambda: not quick_popup.isVisible(), timeout=3000)


def test_zero_keeps_the_popup_open(popup, qtbot):
    popup.auto_close_s = 0
    popup.show_result("x", 0.9, "raw", "Copied ✓")
    qtbot.wait(400)
    assert popup.isVisible()


def test_a_busy_popup_never_closes_itself(quick_popup, qtbot):
    quick_popup.show_busy(image(), None)
    qtbot.wait(500)
    assert quick_popup.isVisible()


def test_a_hovered_popup_stays_open_until_the_pointer_leaves(quick_popup, qtbot):
    quick_popup.show_result("x", 0.9, "raw", "Copied ✓")
    QApplication.sendEvent(quick_popup, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    qtbot.wait(600)
    assert quick_popup.isVisible()
    QApplication.sendEvent(quick_popup, QEvent(QEvent.Type.Leave))
    qtbot.waitUntil(lambda: not quick_popup.isVisible(), timeout=3000)


def test_an_edited_popup_stays_open(quick_popup, qtbot):
    quick_popup.show_result("x", 0.9, "raw", "Copied ✓")
    quick_popup.editor.setPlainText("x^2")  # the user types
    qtbot.wait(600)
    assert quick_popup.isVisible()


def test_a_popup_the_user_clicked_into_stays_open(quick_popup, qtbot):
    quick_popup.show_result("x", 0.9, "raw", "Copied ✓")
    QApplication.sendEvent(
        quick_popup.editor, QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.MouseFocusReason)
    )
    qtbot.wait(600)
    assert quick_popup.isVisible()


def test_the_focus_a_new_popup_takes_for_itself_does_not_keep_it_open(quick_popup, qtbot):
    quick_popup.show_result("x", 0.9, "raw", "Copied ✓")
    QApplication.sendEvent(
        quick_popup.editor,
        QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.ActiveWindowFocusReason),
    )
    qtbot.waitUntil(lambda: not quick_popup.isVisible(), timeout=3000)
