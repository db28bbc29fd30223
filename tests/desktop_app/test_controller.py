"""Controller state machine with fake ports (worker, grab, clipboard) and, for crash
and deadline handling, the real WorkerClient against the fake worker process."""

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QImage

from desktop_app.capture import CaptureError, ScreenShot
from desktop_app.clipboard import ClipboardError
from desktop_app.controller import Controller, Phase, user_message
from desktop_app.history import History
from desktop_app.ui.result_popup import ResultPopup
from desktop_app.worker_client import WorkerClient
from model.options import InferenceOptions
from model.protocol import WorkerState


class FakeWorker(QObject):
    """The WorkerClient port: records calls; tests emit the answers."""

    state_changed = Signal(str, str)
    result_ready = Signal(str, dict)
    request_failed = Signal(str, str, str)
    check_ready = Signal(str, dict)

    def __init__(self):
        super().__init__()
        self.state, self.detail, self.info = (
            WorkerState.READY,
            "ready",
            {"model": "fake"},
        )
        self.sent, self.cancelled = [], []

    def predict(self, png, options=None):
        request_id = f"r{len(self.sent) + 1}"
        self.sent.append((request_id, png, options))
        return request_id

    def cancel(self, request_id):
        self.cancelled.append(request_id)


def result(latex=r"\frac{a}{b}", confidence=0.8):
    return {"latex": latex, "latex_raw": latex, "confidence": confidence, "n_tokens": 5}


def white(width=200, height=80):
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    return image


@pytest.fixture
def parts(settings, qtbot, tmp_path):
    worker, popup = FakeWorker(), ResultPopup()
    qtbot.addWidget(popup)
    copied, clipboard_image = [], []
    history = History(tmp_path / "h.sqlite3", 10)

    def copy(text, method):
        copied.append(text)
        return "fake"

    def grab(method):
        screen = popup.screen()
        return [ScreenShot(0, screen.name(), screen.geometry(), white(800, 800))]

    controller = Controller(
        settings,
        worker,
        popup,
        history,
        grab=grab,
        copy=copy,
        read_image=lambda: clipboard_image[0] if clipboard_image else None,
    )
    yield controller, worker, popup, copied, clipboard_image
    history.close()


def snip(controller, qtbot, start=(100, 100), end=(300, 180)):
    controller.start_capture()  # waits for our own popup to vanish first, if shown
    qtbot.waitUntil(lambda: controller.phase is Phase.SELECTING, timeout=3000)
    window = controller.overlays.windows[0]
    qtbot.mousePress(window, Qt.MouseButton.LeftButton, pos=QPoint(*start))
    qtbot.mouseRelease(window, Qt.MouseButton.LeftButton, pos=QPoint(*end))


def test_tutorial_decoding_setting_sends_the_tutorials_options(parts, qtbot, settings):
    controller, worker, *_ = parts
    settings.set("seed_settings", True)
    snip(controller, qtbot)
    _, _, options = worker.sent[0]
    assert InferenceOptions.from_dict(options) == InferenceOptions.seed()
    assert (options["num_beams"], options["max_new_tokens"]) == (3, 100)


def test_snip_recognise_copy_remember(parts, qtbot, settings):
    controller, worker, popup, copied, _ = parts
    settings.set("output_format", "dollar")
    settings.set("num_beams", 3)
    snip(controller, qtbot)
    assert controller.phase is Phase.RECOGNISING
    request_id, png, options = worker.sent[0]
    assert png.startswith(b"\x89PNG") and options == {
        "num_beams": 3,
        "max_new_tokens": 512,
    }
    assert QImage.fromData(png).size().toTuple() == (
        200,
        80,
    )  # the crop, not the screen
    assert popup.pages.currentWidget() is popup.busy_page
    worker.result_ready.emit(request_id, result())
    assert copied == [r"$\frac{a}{b}$"]
    assert controller.phase is Phase.IDLE
    assert popup.pages.currentWidget() is popup.result_page
    assert popup.status.text() == "Copied ✓"
    (entry,) = controller.history.search()
    assert (entry.latex, entry.model) == (r"\frac{a}{b}", "fake") and entry.thumbnail


def test_latest_wins_and_late_results_are_dropped(parts, qtbot):
    controller, worker, _popup, copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    snip(controller, qtbot)  # a new snip while the first is recognising
    (first, *_), (second, *_) = worker.sent
    assert worker.cancelled == [first]
    worker.result_ready.emit(first, result("old"))
    worker.request_failed.emit(first, "cancelled", "cancelled")
    assert copied == [] and controller.phase is Phase.RECOGNISING
    worker.result_ready.emit(second, result("new"))
    assert copied == ["new"]


def test_escape_during_selection_returns_to_idle(parts, qtbot):
    controller, worker, *_ = parts
    controller.start_capture()
    qtbot.keyClick(controller.overlays.windows[0], Qt.Key.Key_Escape)
    assert controller.phase is Phase.IDLE and controller.overlays is None
    assert worker.sent == []


def test_cancel_from_the_popup(parts, qtbot):
    controller, worker, popup, copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    popup.cancel_button.click()
    assert worker.cancelled == ["r1"] and controller.phase is Phase.IDLE
    worker.result_ready.emit("r1", result())
    assert copied == []


def test_clipboard_without_image_says_so(parts):
    controller, worker, popup, *_ = parts
    controller.from_clipboard()
    assert worker.sent == []
    assert popup.message.text() == "There is no image on the clipboard."


def test_open_files_uses_the_same_path(parts, tmp_path):
    controller, worker, popup, *_ = parts
    good, bad = tmp_path / "eq.png", tmp_path / "notes.txt"
    white(90, 30).save(str(good))
    bad.write_text("not an image")
    controller.open_files([str(bad)])
    assert worker.sent == [] and "not a readable image" in popup.message.text()
    controller.open_files([str(good)])
    assert QImage.fromData(worker.sent[0][1]).size().toTuple() == (90, 30)


def test_pasted_image_in_popup_is_recognised(parts):
    _controller, worker, popup, *_ = parts
    popup.image_received.emit(white(50, 20))
    assert len(worker.sent) == 1


def test_worker_failure_is_a_short_message(parts, qtbot):
    controller, worker, popup, _copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    with qtbot.waitSignal(controller.notify) as notified:
        worker.request_failed.emit("r1", "oom", "CUDA out of memory")
    assert popup.message.text() == user_message("oom", "")
    assert notified.args[2] is True and controller.phase is Phase.IDLE


def test_capture_failure_is_reported(parts, qtbot, settings):
    controller, *_, popup, _, _ = parts

    def broken(method):
        raise CaptureError("Could not capture the screen (qt: no display)")

    controller._grab = broken
    controller.start_capture()
    assert controller.phase is Phase.IDLE
    assert "no display" in popup.message.text()


def test_clipboard_write_failure_shows_in_the_popup(parts, qtbot):
    controller, worker, popup, _, clipboard_image = parts

    def failing(text, method):
        raise ClipboardError("Could not write to the clipboard")

    controller._copy = failing
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.result_ready.emit("r1", result())
    assert popup.status.text() == "Could not write to the clipboard"
    assert popup.latex() == r"\frac{a}{b}"  # still shown, ready to copy by hand


def test_empty_result_is_explained(parts):
    controller, worker, popup, copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.result_ready.emit("r1", result("  "))
    assert copied == [] and "returned nothing" in popup.message.text()


def test_format_choice_becomes_the_default(parts, settings):
    _controller, _worker, popup, _copied, _clipboard_image = parts
    popup.style_chosen.emit("paren")
    assert settings.get("output_format") == "paren"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("timeout", "took too long"),
        ("worker_crashed", "stopped unexpectedly"),
        ("blank_image", "The snip looks empty"),
        ("bad_image", "could not be read"),
        ("model_unavailable", "Choose a model folder"),
        ("whatever", "Recognition failed"),
    ],
)
def test_user_messages(code, fragment):
    assert fragment in user_message(code, "detail.")


@pytest.mark.parametrize(
    ("flags", "timeout_s", "code"),
    [
        (["--behaviour", "crash"], 30, "stopped unexpectedly"),
        (["--behaviour", "never"], 0.5, "took too long"),
    ],
)
def test_real_worker_process_failures_reach_the_popup(
    settings, qtbot, fake_worker, flags, timeout_s, code
):
    worker = WorkerClient(fake_worker(*flags), timeout_s=timeout_s, backoff_s=(0.05,))
    popup = ResultPopup()
    qtbot.addWidget(popup)
    controller = Controller(
        settings, worker, popup, None, copy=lambda t, m: "fake", read_image=white
    )
    try:
        with qtbot.waitSignal(
            worker.state_changed,
            timeout=15000,
            check_params_cb=lambda state, _d: state == "ready",
        ):
            worker.start()
        with qtbot.waitSignal(controller.notify, timeout=15000):
            controller.from_clipboard()
        assert code in popup.message.text()
        assert controller.phase is Phase.IDLE
    finally:
        worker.close()


FLAGGED = {
    "confidence": 0.41,
    "needs_check": True,
    "check_reason": "the rendered result differs from the snip here",
    "check_region": [0.6, 0.0, 1.0, 1.0],
}


def test_a_flagged_result_is_copied_shown_flagged_and_remembered(parts):
    controller, worker, popup, copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.result_ready.emit("r1", {**result(), **FLAGGED, "unknown_key": [1]})
    assert copied == [r"\frac{a}{b}"]  # still copied
    assert popup.check_note.isVisible() and "differs" in popup.check_note.text()
    assert popup.check.region == (0.6, 0.0, 1.0, 1.0)
    (entry,) = controller.history.search()
    assert (entry.needs_check, entry.check_reason) == (True, FLAGGED["check_reason"])


def test_a_result_from_an_older_worker_has_no_check(parts):
    controller, worker, popup, _copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.result_ready.emit("r1", result(confidence=0.7))
    assert not popup.check_note.isVisible()
    assert popup.confidence.text() == "Confidence 70%"
    (entry,) = controller.history.search()
    assert entry.needs_check is None


def test_a_late_check_updates_the_popup_and_the_history(parts):
    controller, worker, popup, copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.result_ready.emit("r1", {**result(), "needs_check": False})
    assert not popup.check_note.isVisible()
    worker.check_ready.emit("r1", {"type": "check", "id": "r1", **FLAGGED})
    assert popup.check_note.isVisible()
    assert popup.confidence.text() == "Check this reading · 41%"
    (entry,) = controller.history.search()
    assert (entry.needs_check, entry.confidence) == (True, 0.41)
    assert copied == [r"\frac{a}{b}"]  # a check never copies again


def test_a_late_check_for_an_older_result_only_updates_its_history(parts):
    controller, worker, popup, _copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.result_ready.emit("r1", result("a"))
    controller.from_clipboard()
    worker.result_ready.emit("r2", result("b"))
    worker.check_ready.emit("r1", {"type": "check", "id": "r1", **FLAGGED})
    assert popup.latex() == "b" and not popup.check_note.isVisible()
    flagged = {e.latex: e.needs_check for e in controller.history.search()}
    assert flagged == {"a": True, "b": None}
    worker.check_ready.emit("nobody", {"type": "check", "id": "nobody", **FLAGGED})


def test_a_blank_snip_says_it_looks_empty(parts, qtbot):
    controller, worker, popup, _copied, clipboard_image = parts
    clipboard_image.append(white())
    controller.from_clipboard()
    worker.request_failed.emit("r1", "blank_image", "no equation found: the image is blank")
    assert popup.message.text().startswith("The snip looks empty")


def test_the_auto_close_setting_reaches_the_popup(parts, settings):
    _controller, _worker, popup, *_ = parts
    assert popup.auto_close_s == 20  # the default
    settings.set("popup_close_s", 5)
    assert popup.auto_close_s == 5


def test_notices_are_hidden_before_the_screen_is_grabbed(parts, qtbot):
    controller, *_ = parts
    from desktop_app.ui.notice_window import NoticeWindow

    notice = NoticeWindow()
    qtbot.addWidget(notice)
    notice.show_notice("SnapTeX", "something")
    controller.start_capture()
    assert not notice.isVisible()
    qtbot.waitUntil(lambda: controller.phase is Phase.SELECTING, timeout=3000)
    qtbot.keyClick(controller.overlays.windows[0], Qt.Key.Key_Escape)
