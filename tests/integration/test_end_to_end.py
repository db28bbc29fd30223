"""End to end: an injected screenshot -> overlay drag -> the real model worker process
(``python -m model.worker`` on the tiny offline model) -> the clipboard holds the
cleaned LaTeX the worker returned."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from desktop_app import preview
from desktop_app.capture import ScreenShot
from desktop_app.controller import Controller, Phase
from desktop_app.history import History
from desktop_app.settings import Settings
from desktop_app.ui.result_popup import ResultPopup
from desktop_app.worker_client import WorkerClient, worker_command

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("model.worker") is None,
    reason="model/worker.py is not written yet",
)

# Where the equation sits on the injected screen, in logical pixels.
EQUATION_AT = QPoint(120, 150)


@pytest.fixture
def latex_only_model(tiny_model_dir, tmp_path):
    """The tiny random model, told (generation_config.suppress_tokens) never to emit
    control-character tokens: random weights otherwise decode to text that cleans to
    an empty string, and an empty result is (correctly) never copied."""
    from transformers import AutoTokenizer

    folder = shutil.copytree(tiny_model_dir, tmp_path / "tiny-latex-only")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    latexish = set("\\{}^_+-=()")
    suppress = [
        i
        for i in range(len(tokenizer))
        if i != tokenizer.eos_token_id
        and not any(c.isalnum() or c in latexish for c in tokenizer.decode([i]))
    ]
    config_path = folder / "generation_config.json"
    config = json.loads(config_path.read_text())
    config["suppress_tokens"] = suppress
    config_path.write_text(json.dumps(config))
    return folder


def injected_screen(screen) -> QImage:
    """A white screen of the right physical size with one rendered equation on it."""
    ratio = screen.devicePixelRatio()
    image = QImage(screen.geometry().size() * ratio, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(
        EQUATION_AT,
        preview.render(
            r"\frac{a+b}{c}=x^{2}", font_pt=28, color="black", device_pixel_ratio=ratio
        ),
    )
    painter.end()
    return image


def test_snip_to_clipboard_with_the_real_worker(
    qapp, qtbot, tmp_path, latex_only_model
):
    # GIVEN the app parts around a real worker on the tiny model and an injected screen
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.set("clipboard_method", "qt")
    settings.set("max_new_tokens", 16)
    screen = qapp.primaryScreen()
    shot = ScreenShot(0, screen.name(), screen.geometry(), injected_screen(screen))
    worker = WorkerClient(
        worker_command(str(latex_only_model), "cpu", 1), timeout_s=600
    )
    popup = ResultPopup()
    qtbot.addWidget(popup)
    history = History(tmp_path / "h.sqlite3", 10)
    controller = Controller(
        settings, worker, popup, history, grab=lambda method: [shot]
    )
    qapp.clipboard().setText("stale")
    try:
        with qtbot.waitSignal(
            worker.state_changed,
            timeout=300_000,
            check_params_cb=lambda state, _d: state in ("ready", "error"),
        ):
            worker.start()
        assert worker.state.value == "ready", worker.detail
        # WHEN the user drags around the equation
        controller.start_capture()
        qtbot.waitUntil(lambda: controller.phase is Phase.SELECTING, timeout=5000)
        window = controller.overlays.windows[0]
        with qtbot.waitSignal(worker.result_ready, timeout=600_000) as answered:
            qtbot.mousePress(
                window, Qt.MouseButton.LeftButton, pos=EQUATION_AT - QPoint(10, 10)
            )
            qtbot.mouseRelease(
                window, Qt.MouseButton.LeftButton, pos=EQUATION_AT + QPoint(260, 90)
            )
        # THEN the clipboard holds exactly the cleaned LaTeX the worker returned
        message = answered.args[1]
        latex = message["latex"].strip()
        assert latex, f"the tiny model produced no text: {message!r}"
        qtbot.waitUntil(lambda: qapp.clipboard().text() != "stale", timeout=5000)
        assert qapp.clipboard().text() == latex
        assert popup.latex() == latex and popup.status.text() == "Copied ✓"
        assert history.search()[0].latex == latex
    finally:
        worker.close()
        history.close()


def test_missing_model_is_a_message_not_a_hang(qapp, qtbot, tmp_path):
    # GIVEN the real worker pointed at a folder with no model in it
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    worker = WorkerClient(worker_command(str(tmp_path / "no-model"), "cpu", 1))
    popup = ResultPopup()
    qtbot.addWidget(popup)
    white = QImage(120, 40, QImage.Format.Format_RGB32)
    white.fill(QColor("white"))
    controller = Controller(settings, worker, popup, None, read_image=lambda: white)
    try:
        with qtbot.waitSignal(
            worker.state_changed,
            timeout=300_000,
            check_params_cb=lambda state, _d: state == "error",
        ):
            worker.start()
        # WHEN the user recognises an image THEN a short message says why, at once
        with qtbot.waitSignal(controller.notify, timeout=10_000):
            controller.from_clipboard()
        assert "not available" in popup.message.text()
        assert "Settings" in popup.message.text()
        assert controller.phase is Phase.IDLE
    finally:
        worker.close()
