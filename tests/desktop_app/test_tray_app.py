"""The composed app: tray actions drive the controller; the tray shows worker state."""

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QPushButton

from desktop_app.composition import SnapTeXApp
from desktop_app.controller import Phase


@pytest.fixture
def app_parts(settings, fake_worker, tmp_path, qtbot):
    settings.set("clipboard_method", "qt")
    parts = SnapTeXApp(
        settings,
        fake_worker("--latex", r"\sqrt{x}"),
        history_path=tmp_path / "h.sqlite3",
    )
    qtbot.addWidget(parts.popup)
    with qtbot.waitSignal(
        parts.worker.state_changed,
        timeout=15000,
        check_params_cb=lambda state, _d: state == "ready",
    ):
        parts.start()
    yield parts
    for window in (parts.history_window, parts.settings_dialog):
        if window is not None:
            window.close()
    parts.shutdown()


def test_menu_has_the_actions_in_order(app_parts):
    labels = [a.text() for a in app_parts.tray.menu.actions() if a.text()]
    assert labels[1:] == [
        "Snip region",
        "From clipboard",
        "Open image…",
        "History",
        "Settings",
        "Show log",
        "Quit",
    ]


def test_tooltip_and_icon_follow_the_worker(app_parts):
    assert app_parts.tray.icon.toolTip() == "SnapTeX — ready (cpu, float32)"
    app_parts.worker.state_changed.emit("error", "no model in /x")
    assert "error: no model in /x" in app_parts.tray.icon.toolTip()
    assert app_parts.tray.state == "error"


def test_snip_action_opens_overlays(app_parts, qtbot):
    app_parts.tray.actions["snip"].trigger()
    qtbot.waitUntil(lambda: app_parts.controller.phase is Phase.SELECTING, timeout=3000)
    assert app_parts.controller.overlays.windows
    app_parts.controller.overlays.windows[0].cancelled.emit()
    assert app_parts.controller.phase is Phase.IDLE


def test_from_clipboard_action_end_to_end_with_fake_worker(app_parts, qtbot, qapp):
    image = QImage(160, 50, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    qapp.clipboard().setImage(image)
    app_parts.tray.actions["from_clipboard"].trigger()
    qtbot.waitUntil(lambda: qapp.clipboard().text() == r"\sqrt{x}", timeout=10000)
    assert app_parts.popup.latex() == r"\sqrt{x}"
    assert app_parts.history.count() == 1


def test_from_clipboard_without_image(app_parts, qapp):
    qapp.clipboard().setText("plain text")
    app_parts.tray.actions["from_clipboard"].trigger()
    assert "no image on the clipboard" in app_parts.popup.message.text()


def test_history_action_recopies_with_one_click(app_parts, qapp, settings):
    app_parts.history.add(r"\alpha+\beta", model="m")
    settings.set("output_format", "paren")
    app_parts.tray.actions["history"].trigger()
    window = app_parts.history_window
    assert window.isVisible() and window.list.count() == 1
    window.list.setCurrentRow(0)
    window._copy_selected()
    assert qapp.clipboard().text() == r"\(\alpha+\beta\)"
    window.search.setText("gamma")
    window.refresh()
    assert window.list.count() == 0


def test_settings_action_and_worker_restart_on_device_change(
    app_parts, qtbot, settings
):
    app_parts.tray.actions["settings"].trigger()
    assert app_parts.settings_dialog.isVisible()
    settings.set("history_size", 1)
    assert app_parts.history.max_entries == 1
    settings.set("request_timeout_s", 42)
    assert app_parts.worker.timeout_s == 42


def test_worker_settings_restart_the_worker(settings, fake_worker, tmp_path, qtbot):
    parts = SnapTeXApp(settings, None, history_path=tmp_path / "h.sqlite3")
    restarted = []
    parts.worker.restart = restarted.append
    settings.set("device", "cpu")
    settings.set("threads", 3)
    assert restarted[-1][-4:] == ["--device", "cpu", "--threads", "3"]
    parts.history.close()


def test_quit_action_quits(app_parts, monkeypatch):
    calls = []
    monkeypatch.setattr(QApplication, "quit", lambda: calls.append(1))
    app_parts._wire()  # reconnect with the patched quit
    app_parts.tray.actions["quit"].trigger()
    assert calls


def test_unusable_history_file_falls_back_to_memory(settings, tmp_path, qtbot):
    broken = tmp_path / "h.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    parts = SnapTeXApp(settings, ["unused"], history_path=broken)
    assert "this session only" in parts._history_problem
    assert parts.history.add("x") is not None and parts.history.count() == 1
    parts.history.close()


@pytest.fixture
def no_tray_parts(settings, fake_worker, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QSystemTrayIcon

    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    made = []

    def make():
        parts = SnapTeXApp(settings, fake_worker(), history_path=tmp_path / "h.sqlite3")
        qtbot.addWidget(parts.popup)
        made.append(parts)
        return parts

    yield make
    for parts in made:
        parts.shutdown()


def test_without_a_tray_the_first_run_says_how_to_snip_once(no_tray_parts, qtbot):
    parts = no_tray_parts()
    parts.start()
    notice = parts.tray.notice
    assert notice is not None and notice.isVisible()
    assert "snaptex snip" in notice.message.text()
    area = notice.screen().availableGeometry()
    assert area.contains(notice.frameGeometry())
    with qtbot.waitSignal(parts.tray.snip):
        next(b for b in notice.findChildren(QPushButton) if b.text() == "Snip").click()
    assert not notice.isVisible()
    parts.shutdown()
    again = no_tray_parts()
    again.start()
    assert again.tray.notice is None  # the hint is shown on the first run only


def test_without_a_tray_notices_show_in_the_notice_window(no_tray_parts, qtbot):
    parts = no_tray_parts()
    parts.settings.set_state("no_tray_hint_shown", True)
    parts.start()
    parts.tray.notify("SnapTeX recogniser", "The recogniser keeps crashing <exit 3>", True)
    notice = parts.tray.notice
    assert notice.isVisible() and notice.title.text() == "SnapTeX recogniser"
    assert "keeps crashing &lt;exit 3&gt;" in notice.message.text()  # plain text
    assert notice.title.property("error") is True
    assert notice.menu_button.menu() is parts.tray.menu  # History, Settings, Quit


def test_info_notices_close_by_themselves(qtbot, monkeypatch):
    from desktop_app.ui import notice_window

    monkeypatch.setattr(notice_window, "INFO_CLOSE_MS", 100)
    notice = notice_window.NoticeWindow()
    qtbot.addWidget(notice)
    notice.show_notice("SnapTeX", "Copied x")
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=3000)
    notice.show_notice("SnapTeX", "broken", error=True)
    qtbot.wait(300)
    assert notice.isVisible()  # errors stay until closed


def test_with_a_tray_there_is_no_notice_window(qapp):
    from desktop_app.ui.tray import Tray

    tray = Tray(tray_available=lambda: True)
    tray.notify("SnapTeX", "hello")
    assert tray.notice is None
    tray.hide()
