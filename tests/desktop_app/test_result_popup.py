"""The result popup: states, preview, edits re-render and re-copy, formats, paste,
drop."""

import pytest
from PySide6.QtCore import QMimeData, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QImage

from desktop_app.ui.result_popup import EDIT_DEBOUNCE_MS, ResultPopup


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


def test_unparsable_latex_shows_why_instead_of_a_preview(popup):
    popup.show_result(r"\notacommand{x}", None, "raw", "Copied ✓")
    assert popup.preview.pixmap().isNull()
    assert "Preview unavailable" in popup.preview.text()
    assert "notacommand" in popup.preview.text()
    assert popup.confidence.text() == ""


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
