"""The history window: one copy per double-click, elided long entries with the whole
LaTeX in the tooltip, a marker on readings the self-check flagged."""

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from desktop_app.history import History
from desktop_app.ui.history_window import CHECK_MARKER, HistoryWindow

LONG = r"\sum_{k=0}^{n} \binom{n}{k} x^{k} y^{n-k} = " * 6 + "(x+y)^n"


@pytest.fixture
def window(tmp_path, qtbot):
    history = History(tmp_path / "h.sqlite3", 50)
    widget = HistoryWindow(history)
    qtbot.addWidget(widget)
    yield widget
    history.close()


def mouse(widget, kind, pos):
    event = QMouseEvent(
        kind,
        QPointF(pos),
        widget.mapToGlobal(QPointF(pos)),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton
        if kind != QEvent.Type.MouseButtonRelease
        else Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def test_a_double_click_copies_once(window, qtbot):
    window.history.add(r"\alpha", model="m")
    window.open_window()
    copies = []
    window.copy_requested.connect(copies.append)
    viewport = window.list.viewport()
    centre = window.list.visualItemRect(window.list.item(0)).center()
    # what a real double-click delivers: press, release, double-click, release
    for kind in (
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseButtonRelease,
    ):
        mouse(viewport, kind, centre)
    qtbot.wait(50)
    assert copies == [r"\alpha"]


def test_enter_copies_the_current_entry_once(window, qtbot):
    window.history.add(r"\beta", model="m")
    window.open_window()
    copies = []
    window.copy_requested.connect(copies.append)
    window.list.setCurrentRow(0)
    window.list.setFocus()
    qtbot.keyClick(window.list, Qt.Key.Key_Return)
    assert copies == [r"\beta"]


def test_long_entries_are_elided_with_the_whole_latex_in_the_tooltip(window):
    window.history.add(LONG, model="bundled")
    window.history.add("x^2", model="bundled")
    window.refresh()
    short, long = window.list.item(0), window.list.item(1)
    first_line = long.text().splitlines()[0]
    assert first_line.endswith("…") and len(first_line) < len(LONG) / 2
    assert LONG in long.toolTip() and "Double-click to copy" in long.toolTip()
    assert short.text().splitlines()[0] == "x^2"
    metrics = window.list.fontMetrics()
    assert metrics.horizontalAdvance(first_line) <= 420


def test_multi_line_latex_is_one_line_in_the_list(window):
    window.history.add("a &= b \\\\\n c &= d", model="m")
    window.refresh()
    assert window.list.item(0).text().splitlines()[0] == r"a &= b \\ c &= d"


def test_flagged_entries_carry_a_check_marker(window):
    window.history.add("x", model="m", confidence=0.4, needs_check=True, check_reason="differs")
    window.history.add("y", model="m", confidence=0.95, needs_check=False)
    window.history.add("z", model="m")  # from an older worker: nothing known
    window.refresh()
    flagged, fine, unknown = (window.list.item(i) for i in (2, 1, 0))
    assert CHECK_MARKER in flagged.text() and "differs" in flagged.toolTip()
    assert CHECK_MARKER not in fine.text() and CHECK_MARKER not in unknown.text()
